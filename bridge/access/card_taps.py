"""Card taps as the station saw them. A tap on the station's own card reader becomes a one-time,
short-lived nonce; only the nonce travels (on the event stream, back in a sign-in), never the
card's UID, so nothing a client sends can claim a card that was not tapped here."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass

TAP_LIFE_S = 30.0


@dataclass(frozen=True)
class Tap:
    uid: str  # hex, as the reader read it
    reader: str
    staff: bool
    at: float
    kiosk: str = ""  # the only kiosk that may use it (empty: any authenticated kiosk)


class TapBook:
    def __init__(self, life_s: float = TAP_LIFE_S) -> None:
        self.life_s = life_s
        self._taps: dict[str, Tap] = {}

    def issue(self, uid: str, reader: str, *, staff: bool, kiosk: str = "") -> str:
        self._forget_old()
        nonce = secrets.token_urlsafe(24)
        self._taps[nonce] = Tap(uid.upper(), reader, staff, time.monotonic(), kiosk)
        return nonce

    def redeem(self, nonce: str, caller: str) -> Tap | None:
        """The tap behind a nonce, once and by its kiosk: a second use, one after TAP_LIFE_S,
        or one by another kiosk (which also spends it) gets None."""
        self._forget_old()
        tap = self._taps.pop(nonce, None)
        if tap is None or (tap.kiosk and tap.kiosk != caller):
            return None
        return tap

    def _forget_old(self) -> None:
        cutoff = time.monotonic() - self.life_s
        for nonce in [n for n, tap in self._taps.items() if tap.at < cutoff]:
            del self._taps[nonce]
