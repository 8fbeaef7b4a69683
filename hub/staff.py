"""People at the hub console: accounts (argon2id passwords, a role), sign-in sessions (a cookie
kept only as a digest, with a CSRF token for every change) and limits on guessing passwords.

Failed sign-ins count per account name and per client address, each on its own and in the
database: after a few, every further one for that name (or from that address) waits twice as
long as the last, up to a cap; the right password waits too, and a success clears the count. A
guesser slows the name or address guessed at, never everyone: a colleague's account and other
addresses are untouched."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Engine, delete
from sqlmodel import Session, col, select

from hub.attempts import reserve
from hub.fleet import FleetError, audit, aware, digest, now
from hub.models import HubLoginAttempt, HubSession, HubStaffUser
from hub.profile import ConsoleSettings
from station_core.peers import peer_group

ROLES = ("admin", "desk")
MIN_PASSWORD = 10
HASHER = PasswordHasher()
_DUMMY = HASHER.hash("not a password anyone has")  # a missing account costs what a wrong one does


@dataclass(frozen=True)
class SignedIn:
    username: str
    role: str
    csrf_token: str
    session: str
    expires_in_s: int


def add_user(engine: Engine, username: str, password: str, role: str, *, by: str = "cli") -> None:
    if role not in ROLES:
        raise FleetError(422, "role is admin or desk")
    if len(password) < MIN_PASSWORD:
        raise FleetError(422, f"a hub password needs at least {MIN_PASSWORD} characters")
    if not 1 <= len(username) <= 64:
        raise FleetError(422, "a user name needs 1 to 64 characters")
    with Session(engine) as db:
        if db.get(HubStaffUser, username) is not None:
            raise FleetError(409, f"hub user {username!r} exists already")
        db.add(HubStaffUser(username=username, password_hash=HASHER.hash(password), role=role,
                            created_at=now()))
        audit(db, by, "staff_user", username, role)
        db.commit()


def set_password(engine: Engine, username: str, password: str, *, by: str = "cli") -> None:
    if len(password) < MIN_PASSWORD:
        raise FleetError(422, f"a hub password needs at least {MIN_PASSWORD} characters")
    with Session(engine) as db:
        user = db.get(HubStaffUser, username)
        if user is None:
            raise FleetError(404, f"no hub user {username!r}")
        user.password_hash = HASHER.hash(password)
        db.add(user)
        audit(db, by, "password_set", username)
        db.commit()


def _keys(username: str, client: str) -> tuple[str, str]:
    # The name is kept as a digest: a mistyped password sometimes lands in the name field.
    name = hashlib.sha256(username.lower().encode()).hexdigest()[:40]
    return f"user:{name}", f"peer:{peer_group(client)}"[:96]


def sign_in(engine: Engine, settings: ConsoleSettings, username: str, password: str,
            client: str) -> SignedIn:
    """A session for the right password, unless the name or the address must wait (429)."""
    keys = _keys(username, client)
    wait = reserve(engine, keys, free=settings.login_free_failures,
                   first_wait_s=settings.first_wait_s, max_wait_s=settings.lockout_minutes * 60.0)
    if wait > 0:
        raise FleetError(429, f"too many failed sign-ins; try again in {int(wait) + 1} s")
    with Session(engine) as db:
        user = db.get(HubStaffUser, username)
        try:
            good = HASHER.verify(user.password_hash if user else _DUMMY, password) and \
                user is not None and not user.disabled
        except (VerificationError, InvalidHashError):
            good = False
        if not good:
            # Already counted by the reservation. The account aimed at is named when it
            # exists; a typed name that is none is not kept.
            audit(db, "(not signed in)", "login_failed", username if user else "(no such account)",
                  f"from {client}")
            db.commit()
            raise FleetError(401, "wrong user name or password")
        assert user is not None
        db.execute(delete(HubLoginAttempt).where(col(HubLoginAttempt.key).in_(keys)))
        token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(24)
        first = min(settings.session_minutes, settings.idle_minutes)
        db.add(HubSession(digest=digest(token), username=user.username, csrf_token=csrf,
                          created_at=now(), expires_at=now() + timedelta(minutes=first)))
        audit(db, user.username, "login", user.username, f"from {client}")
        db.commit()
        return SignedIn(user.username, user.role, csrf, token, settings.session_minutes * 60)


def session_for(engine: Engine, settings: ConsoleSettings, token: str) \
        -> tuple[str, str, str] | None:
    """(user name, role, CSRF token) of a live session; each use slides its idle timeout."""
    if not token or len(token) > 256 or not token.isascii():
        return None
    with Session(engine) as db:
        row = db.get(HubSession, digest(token))
        if row is None or aware(row.expires_at) <= now():
            return None
        user = db.get(HubStaffUser, row.username)
        if user is None or user.disabled:
            return None
        slid = min(aware(row.created_at) + timedelta(minutes=settings.session_minutes),
                   now() + timedelta(minutes=settings.idle_minutes))
        if slid - aware(row.expires_at) > timedelta(seconds=30):
            row.expires_at = slid
            db.add(row)
            db.commit()
        return user.username, user.role, row.csrf_token


def sign_out(engine: Engine, token: str) -> None:
    with Session(engine) as db:
        row = db.get(HubSession, digest(token))
        if row is not None:
            audit(db, row.username, "logout", row.username)
            db.delete(row)
            db.commit()


def users(engine: Engine) -> list[tuple[str, str]]:
    with Session(engine) as db:
        return [(u.username, u.role) for u in db.exec(select(HubStaffUser)
                                                      .order_by(col(HubStaffUser.username)))]
