"""Kiosk patron sessions: in memory only (a restart signs everyone out, which is what a patron at a
kiosk that rebooted expects), expiring after the kiosk's idle timeout."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field

MAX_SESSION_S = 30 * 60  # no session lives longer than this, however active


@dataclass
class KioskSession:
    token: str
    patron_id: str
    name: str
    offline: bool  # identified while the ILS was unreachable
    pin: str | None = field(default=None, repr=False)  # kept for the ILS calls of this session only
    started: float = field(default_factory=time.monotonic)
    last_used: float = field(default_factory=time.monotonic)
    offline_checkouts: int = 0
    checkouts: int = 0  # every item this session borrowed, for the hub's "unusually large" rule
    kiosk: str = ""  # the kiosk it was opened at: its events go to that kiosk's stream only


class SessionStore:
    def __init__(self, idle_timeout_s: float) -> None:
        self.idle_timeout_s = idle_timeout_s
        self._sessions: dict[str, KioskSession] = {}

    def open(self, patron_id: str, name: str, *, offline: bool, pin: str | None,
             kiosk: str = "") -> KioskSession:
        self.expire()
        session = KioskSession(secrets.token_urlsafe(24), patron_id, name, offline, pin,
                               kiosk=kiosk)
        self._sessions[session.token] = session
        return session

    def get(self, token: str) -> KioskSession | None:
        session = self._sessions.get(token)
        if session is None:
            return None
        now = time.monotonic()
        if now - session.last_used > self.idle_timeout_s or now - session.started > MAX_SESSION_S:
            del self._sessions[token]
            return None
        session.last_used = now
        return session

    def close(self, token: str) -> KioskSession | None:
        return self._sessions.pop(token, None)

    def expire(self) -> None:
        now = time.monotonic()
        for token, s in list(self._sessions.items()):
            if now - s.last_used > self.idle_timeout_s or now - s.started > MAX_SESSION_S:
                del self._sessions[token]

    def __len__(self) -> int:
        return len(self._sessions)
