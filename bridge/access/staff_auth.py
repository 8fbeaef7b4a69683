"""Staff accounts, tokens and the audit log.

Passwords are argon2id hashes; bearer tokens (for tools) and console sessions (a cookie plus a
CSRF token) are random strings stored only as SHA-256 digests. Failed logins are rate-limited per
account and per client address.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from bridge.access.hashing import STAFF_HASHER, hash_secret, keyed_hash, token_digest, verify_secret
from bridge.db.models import AuditEntry, StaffCard, StaffToken, StaffUser
from bridge.local_time import utcnow
from station_core.profile import StaffSettings

ROLES = ("desk", "admin")
MIN_PASSWORD = 10
CARD_USER = "staff-card"
# Verified when the account does not exist, so a wrong user name takes as long as a wrong password.
_DUMMY_HASH = hash_secret("not-a-real-password", STAFF_HASHER)


class StaffError(ValueError):
    pass


@dataclass(frozen=True)
class IssuedToken:
    token: str
    csrf_token: str
    expires_in_s: int


class StaffAuth:
    def __init__(self, engine: Engine, settings: StaffSettings) -> None:
        self.engine = engine
        self.settings = settings

    def _session(self) -> Session:
        return Session(self.engine, expire_on_commit=False)

    def create_user(self, username: str, password: str, role: str) -> StaffUser:
        if role not in ROLES:
            raise StaffError(f"role must be one of {', '.join(ROLES)}")
        if len(password) < MIN_PASSWORD:
            raise StaffError(f"a staff password needs at least {MIN_PASSWORD} characters")
        if not username or len(username) > 64:
            raise StaffError("a user name needs 1 to 64 characters")
        with self._session() as session:
            if session.exec(select(StaffUser).where(StaffUser.username == username)).first():
                raise StaffError(f"staff user '{username}' exists already")
            user = StaffUser(username=username, password_hash=hash_secret(password, STAFF_HASHER),
                             role=role, created_at=utcnow())
            session.add(user)
            session.commit()
            session.refresh(user)
        self.audit("system", "staff_user_created", username, f"role {role}")
        return user

    def set_password(self, username: str, password: str) -> None:
        if len(password) < MIN_PASSWORD:
            raise StaffError(f"a staff password needs at least {MIN_PASSWORD} characters")
        with self._session() as session:
            user = session.exec(select(StaffUser).where(StaffUser.username == username)).first()
            if user is None:
                raise StaffError(f"no staff user '{username}'")
            user.password_hash = hash_secret(password, STAFF_HASHER)
            session.add(user)
            session.commit()

    def authenticate(self, username: str, password: str) -> StaffUser | None:
        with self._session() as session:
            user = session.exec(select(StaffUser).where(StaffUser.username == username)).first()
        if user is None or user.disabled:
            verify_secret(_DUMMY_HASH, password, STAFF_HASHER)
            return None
        return user if verify_secret(user.password_hash, password, STAFF_HASHER) else None

    # -- staff cards -------------------------------------------------------------------------------
    def set_staff_card(self, key: bytes, uid: str, username: str, pin: str) -> None:
        """A staff card (UID kept as a keyed hash) and its staff PIN (argon2id)."""
        self.authenticate_name(username)  # the account must exist
        with self._session() as session:
            session.merge(StaffCard(uid_hash=keyed_hash(key, uid.upper()), username=username,
                                    pin_hash=hash_secret(pin)))
            session.commit()
        self.audit("admin", "staff_card_set", username, f"card ...{uid[-4:].upper()}")

    def staff_card(self, key: bytes, uid: str) -> StaffCard | None:
        with self._session() as session:
            return session.get(StaffCard, keyed_hash(key, uid.upper()))

    @staticmethod
    def verify_card_pin(card: StaffCard, pin: str) -> bool:
        return verify_secret(card.pin_hash, pin)

    def card_user(self, username: str | None = None) -> StaffUser:
        """The account a staff card acts as: its own user, else a shared desk-role account that
        no password can sign in with."""
        if username:
            with self._session() as session:
                user = session.exec(select(StaffUser).where(StaffUser.username == username)).first()
            if user is not None and not user.disabled:
                return user
        with self._session() as session:
            user = session.exec(select(StaffUser).where(StaffUser.username == CARD_USER)).first()
            if user is None:
                user = StaffUser(username=CARD_USER, role="desk", created_at=utcnow(),
                                 password_hash=hash_secret(secrets.token_urlsafe(32), STAFF_HASHER))
                session.add(user)
                session.commit()
                session.refresh(user)
            return user

    def user_exists(self, username: str) -> bool:
        with self._session() as session:
            return session.exec(select(StaffUser.id).where(StaffUser.username == username)).first() \
                is not None

    def authenticate_name(self, username: str) -> StaffUser:
        """The account behind an already authenticated request."""
        with self._session() as session:
            user = session.exec(select(StaffUser).where(StaffUser.username == username)).first()
        if user is None:
            raise StaffError(f"no staff user '{username}'")
        return user

    def issue(self, user: StaffUser, kind: str, *, label: str = "",
              minutes: int | None = None) -> IssuedToken:
        token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(24)
        minutes = minutes or self.settings.session_minutes
        # A console session also ends after `idle_minutes` without a request (lookup slides it).
        first = min(minutes, self.settings.idle_minutes) if kind == "session" else minutes
        assert user.id is not None
        with self._session() as session:
            session.add(StaffToken(
                token_hash=token_digest(token), user_id=user.id, kind=kind, label=label[:64],
                csrf_token=csrf if kind == "session" else "", created_at=utcnow(),
                expires_at=utcnow() + timedelta(minutes=first),
            ))
            session.commit()
        return IssuedToken(token, csrf, minutes * 60)

    def lookup(self, token: str) -> tuple[StaffUser, StaffToken] | None:
        if not token or len(token) > 256 or not token.isascii():
            return None
        with self._session() as session:
            record = session.get(StaffToken, token_digest(token))
            now = utcnow()
            if record is None or record.expires_at <= now:
                return None
            if record.kind == "session":  # in use: the idle timeout starts again, up to the cap
                slid = min(record.created_at + timedelta(minutes=self.settings.session_minutes),
                           now + timedelta(minutes=self.settings.idle_minutes))
                if slid - record.expires_at > timedelta(seconds=30):
                    record.expires_at = slid
                    session.add(record)
                    session.commit()
            user = session.get(StaffUser, record.user_id)
        if user is None or user.disabled:
            return None
        return user, record

    def revoke(self, token: str) -> None:
        with self._session() as session:
            record = session.get(StaffToken, token_digest(token))
            if record is not None:
                session.delete(record)
                session.commit()

    def audit(self, actor: str, action: str, target: str = "", detail: str = "") -> None:
        with self._session() as session:
            session.add(AuditEntry(at=utcnow(), actor=actor[:64], action=action[:64],
                                   target=target[:128], detail=detail[:512]))
            session.commit()

    def audit_entries(self, limit: int = 100) -> list[AuditEntry]:
        with self._session() as session:
            return list(session.exec(select(AuditEntry).order_by(col(AuditEntry.id).desc()).limit(limit)))
