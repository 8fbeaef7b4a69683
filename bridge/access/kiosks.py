"""Kiosks are devices the station knows. Staff make a one-time enrolment code in the console; a
kiosk trades it for its own credential (kept on the kiosk, revocable in the console), and sends
that credential with every call and on its event stream. A one-box install may trust a kiosk on
loopback instead, by an explicit profile setting (`kiosk.trust_loopback`)."""

from __future__ import annotations

import ipaddress
import re
import secrets
from datetime import timedelta

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from bridge.access.hashing import token_digest
from bridge.db.models import EnrolmentCode, KioskDevice
from bridge.local_time import utcnow

CODE_LIFE = timedelta(minutes=15)
LOOPBACK_KIOSK = "loopback"


KIOSK_ID = r"[A-Za-z0-9_.-]{1,32}"


class EnrolmentError(Exception):
    pass


def is_loopback(host: str | None) -> bool:
    try:
        return host is not None and ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class KioskRegistry:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def _session(self) -> Session:
        return Session(self.engine, expire_on_commit=False)

    def new_code(self, created_by: str, kiosk_id: str, *, replace: bool = False) -> str:
        """A one-time enrolment code for one kiosk (shown to staff once; only its hash is kept).
        A kiosk already enrolled under that id is replaced only when the admin says so."""
        if not re.fullmatch(KIOSK_ID, kiosk_id) or kiosk_id == LOOPBACK_KIOSK:
            raise EnrolmentError("a kiosk id is 1-32 letters, digits, '.', '_' or '-'")
        if not replace and self.enrolled(kiosk_id):
            raise EnrolmentError(f"kiosk {kiosk_id} is enrolled already: choose to replace it, "
                                 "or give the new kiosk another name")
        code = "-".join(secrets.token_hex(2).upper() for _ in range(4))  # 64 random bits
        with self._session() as session:
            session.add(EnrolmentCode(code_hash=token_digest(code), created_by=created_by,
                                      expires_at=utcnow() + CODE_LIFE, kiosk_id=kiosk_id,
                                      replace=replace))
            session.commit()
        return code

    def enrolled(self, kiosk_id: str) -> bool:
        """Whether a kiosk holds a working credential under this id."""
        with self._session() as session:
            device = session.get(KioskDevice, kiosk_id)
            return device is not None and device.revoked_at is None

    def enrol(self, code: str, kiosk_id: str, name: str) -> str:
        """Trade a valid code for this kiosk's credential; the code is spent either way."""
        if not re.fullmatch(KIOSK_ID, kiosk_id) or kiosk_id == LOOPBACK_KIOSK:
            raise EnrolmentError("a kiosk id is 1-32 letters, digits, '.', '_' or '-'")
        with self._session() as session:
            found = session.get(EnrolmentCode, token_digest(code.strip().upper()))
            if found is None or found.expires_at <= utcnow() or found.kiosk_id != kiosk_id:
                # A code made for another kiosk is no code for this one (and stays usable).
                raise EnrolmentError("that enrolment code is not valid for this kiosk id "
                                     "(codes name their kiosk and last 15 minutes)")
            existing = session.get(KioskDevice, kiosk_id)
            if existing is not None and existing.revoked_at is None and not found.replace:
                raise EnrolmentError(f"kiosk {kiosk_id} is enrolled already")
            session.delete(found)
            credential = secrets.token_urlsafe(32)
            device = session.get(KioskDevice, kiosk_id) or KioskDevice(
                id=kiosk_id, credential_hash="", enrolled_at=utcnow())
            device.name, device.credential_hash = name[:64], token_digest(credential)
            device.enrolled_at, device.revoked_at = utcnow(), None
            session.add(device)
            session.commit()
        return credential

    def identify(self, credential: str) -> str | None:
        """The kiosk id a credential belongs to, unless revoked."""
        if not credential or len(credential) > 128:
            return None
        with self._session() as session:
            device = session.exec(select(KioskDevice).where(
                KioskDevice.credential_hash == token_digest(credential),
                col(KioskDevice.revoked_at).is_(None))).first()
        return device.id if device else None

    def revoke(self, kiosk_id: str) -> bool:
        with self._session() as session:
            device = session.get(KioskDevice, kiosk_id)
            if device is None or device.revoked_at is not None:
                return False
            device.revoked_at = utcnow()
            session.add(device)
            session.commit()
            return True

    def all(self) -> list[KioskDevice]:
        with self._session() as session:
            return list(session.exec(select(KioskDevice).order_by(col(KioskDevice.id))))
