"""The staff API (/api/v1/staff). Every route but login requires a bearer token or a console
session cookie; a cookie-authenticated change also needs the session's CSRF token."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, HTTPException, Path, Query, Request, Response
from pydantic import BaseModel, Field

from bridge.access.attempts import Backoff, Target
from bridge.access.hash_pool import run_hash
from bridge.access.hashing import keyed_hash
from bridge.access.kiosks import EnrolmentError
from bridge.access.staff_auth import StaffError
from bridge.db.models import StaffToken, StaffUser
from station_core.peers import peer_group

if TYPE_CHECKING:  # the station imports this module: no import back at run time
    from bridge.station import Station

COOKIE = "bronco_staff"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}

login_router = APIRouter(prefix="/api/v1/staff", tags=["staff"])


def _station(request: Request) -> Station:
    return request.app.state.station


class StaffIdentity(BaseModel):
    username: str
    role: str
    via: Literal["bearer", "session"]
    csrf_token: str = ""


def require_staff(
    request: Request,
    authorization: Annotated[str | None, Header()] = None,
    x_csrf_token: Annotated[str | None, Header()] = None,
) -> StaffIdentity:
    station = _station(request)
    found: tuple[StaffUser, StaffToken] | None = None
    if authorization and authorization.lower().startswith("bearer "):
        found = station.auth.lookup(authorization[7:].strip())
        if found and found[1].kind != "bearer":
            found = None
    elif COOKIE in request.cookies:
        found = station.auth.lookup(request.cookies[COOKIE])
        if found and found[1].kind != "session":
            found = None
        if found and request.method not in SAFE_METHODS and x_csrf_token != found[1].csrf_token:
            raise HTTPException(403, "missing or wrong CSRF token")
    if found is None:
        raise HTTPException(401, "staff sign-in required", headers={"WWW-Authenticate": "Bearer"})
    user, token = found
    return StaffIdentity(username=user.username, role=user.role,
                         via="bearer" if token.kind == "bearer" else "session",
                         csrf_token=token.csrf_token)


Staff = Annotated[StaffIdentity, Depends(require_staff)]
NOT_SIGNED_IN = "(not signed in)"


def require_admin(staff: Staff) -> StaffIdentity:
    if staff.role != "admin":
        raise HTTPException(403, "an admin account is needed for this")
    return staff


Admin = Annotated[StaffIdentity, Depends(require_admin)]
# Database ids are 32-bit here and in PostgreSQL: a bigger number is a 422, not a 500.
RecordId = Annotated[int, Path(ge=1, le=2**31 - 1)]
router = APIRouter(prefix="/api/v1/staff", tags=["staff"], dependencies=[Depends(require_staff)])


class LoginIn(BaseModel):
    username: Annotated[str, Field(min_length=1, max_length=64)]
    password: Annotated[str, Field(min_length=1, max_length=256)]


class LoginOut(BaseModel):
    username: str
    role: str
    csrf_token: str
    expires_in_s: int


def login_policy(station: Station) -> Backoff:
    """Failed sign-ins slow the name tried and the address tried from - each on its own, so
    nobody can shut a colleague out - doubling the wait after the first few, up to a cap."""
    settings = station.profile.staff
    return Backoff(free=settings.login_max_failures - 1, first_wait_s=1.0,
                   max_wait_s=settings.lockout_minutes * 60)


async def perform_login(station: Station, request: Request, response: Response, username: str,
                        password: str) -> LoginOut:
    """Check a password under the attempt limits; on success set the session cookie. The peer
    address is the connection's: X-Forwarded-For counts only from `server.trusted_proxies`
    (uvicorn applies it, bridge/server.py)."""
    client = request.client.host if request.client else "unknown"
    policy = login_policy(station)
    targets = (Target(f"staff-user:{keyed_hash(station.key, username.lower())[:40]}", "staff-user",
                      policy),
               Target(f"staff-peer:{peer_group(client)}"[:96], "staff-peer", policy))
    # Counted before the password is checked: simultaneous guesses cannot pass the limit together.
    reserved = await asyncio.to_thread(station.attempts.reserve, *targets)
    if reserved.wait > 0:
        raise HTTPException(429, "too many failed sign-ins; try again later",
                            headers={"Retry-After": str(int(reserved.wait) + 1)})
    try:
        user = await run_hash(station.auth.authenticate, username, password)  # argon2, bounded
    except HTTPException:
        await asyncio.to_thread(station.attempts.refund, *targets)  # never checked: not counted
        raise
    if user is None:
        # Nobody is proven by a failed sign-in: "who" stays empty. The account aimed at is named
        # when it exists; a typed name that is no account is not kept (it may be a password).
        known = station.auth.user_exists(username)
        station.auth.audit(NOT_SIGNED_IN, "login_failed",
                           username[:64] if known else "(no such account)", f"from {client}")
        raise HTTPException(401, "wrong user name or password")
    for target in targets:
        await asyncio.to_thread(station.attempts.succeeded, target.key)
    issued = station.auth.issue(user, "session")
    response.set_cookie(COOKIE, issued.token, max_age=issued.expires_in_s, httponly=True,
                        samesite="strict", secure=request.url.scheme == "https", path="/")
    station.auth.audit(user.username, "login", detail=f"from {client}")
    return LoginOut(username=user.username, role=user.role, csrf_token=issued.csrf_token,
                    expires_in_s=issued.expires_in_s)


@login_router.post("/login", responses={401: {"description": "wrong user or password"},
                                        429: {"description": "too many failed logins"}})
async def login(body: LoginIn, request: Request, response: Response) -> LoginOut:
    """Console sign-in: sets an HttpOnly session cookie and returns the CSRF token."""
    return await perform_login(_station(request), request, response, body.username,
                               body.password)


@router.post("/logout", status_code=204)
async def logout(request: Request, response: Response, staff: Staff) -> None:
    token = request.cookies.get(COOKIE)
    if token:
        _station(request).auth.revoke(token)
    _station(request).auth.audit(staff.username, "logout")
    response.delete_cookie(COOKIE, path="/")


@router.get("/me")
async def me(staff: Staff) -> StaffIdentity:
    return staff


class TokenIn(BaseModel):
    label: Annotated[str, Field(min_length=1, max_length=64)]
    days: int = Field(default=90, ge=1, le=366)


@router.post("/tokens", status_code=201)
async def create_token(body: TokenIn, request: Request, admin: Admin) -> dict[str, Any]:
    """A bearer token for a tool (e.g. `bronco queue replay`); shown once."""
    station = _station(request)
    user = station.auth.authenticate_name(admin.username)
    issued = station.auth.issue(user, "bearer", label=body.label, minutes=body.days * 24 * 60)
    station.auth.audit(admin.username, "token_created", body.label)
    return {"token": issued.token, "expires_in_s": issued.expires_in_s}


class UserIn(BaseModel):
    username: Annotated[str, Field(min_length=1, max_length=64)]
    password: Annotated[str, Field(min_length=10, max_length=256)]
    role: Literal["desk", "admin"]


@router.post("/users", status_code=201)
async def create_user(body: UserIn, request: Request, admin: Admin) -> dict[str, str]:
    station = _station(request)
    try:
        station.auth.create_user(body.username, body.password, body.role)
    except StaffError as exc:
        raise HTTPException(409, str(exc)) from None
    station.auth.audit(admin.username, "staff_user_created", body.username, f"role {body.role}")
    return {"username": body.username, "role": body.role}


@router.get("/status")
async def station_status(request: Request) -> dict[str, Any]:
    station = _station(request)
    status = station.journal.status()
    return {**station.health(), "queue": {"pending": status.pending, "in_doubt": status.in_doubt,
                                          "open_exceptions": status.open_exceptions},
            "kiosk_sessions": len(station.sessions), "tls_fingerprint": station.tls_fingerprint}


class AuditOut(BaseModel):
    at: datetime
    actor: str
    action: str
    target: str
    detail: str


@router.get("/audit")
async def audit(request: Request,
                limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> list[AuditOut]:
    return [AuditOut.model_validate(e, from_attributes=True)
            for e in _station(request).auth.audit_entries(limit)]


class LockedCardOut(BaseModel):
    key: str
    label: str
    failures: int
    locked_until: datetime


@router.get("/locked-cards")
async def locked_cards(request: Request) -> list[LockedCardOut]:
    """Cards locked by wrong PINs (a label with the card's last digits, never its number)."""
    rows = _station(request).attempts.locked("card")
    return [LockedCardOut(key=r.key, label=r.label, failures=r.failures,
                          locked_until=r.locked_until or datetime.now(UTC)) for r in rows]


class UnlockIn(BaseModel):
    key: Annotated[str, Field(min_length=1, max_length=96, pattern=r"^card:[0-9a-f]+$")]


@router.post("/locked-cards/unlock")
async def unlock_card(body: UnlockIn, request: Request, staff: Staff) -> dict[str, Any]:
    """Unlock a card (the patron showed ID at the desk); audited."""
    station = _station(request)
    if not station.attempts.unlock(body.key):
        raise HTTPException(404, "that card is not locked")
    station.auth.audit(staff.username, "card_unlocked", body.key[:16])
    return {"unlocked": True}



# -- kiosks: enrolment codes, the list, revocation (bridge/access/kiosks.py) ----------------------------
KioskPathId = Annotated[str, Path(pattern=r"^[A-Za-z0-9_.-]{1,32}$")]


class KioskCodeIn(BaseModel):
    kiosk_id: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]{1,32}$")]
    replace: bool = Field(default=False, description="replace a kiosk enrolled under this id")


@router.post("/kiosks/enrolment-code", status_code=201,
             responses={409: {"description": "that kiosk is enrolled already"}})
async def enrolment_code(body: KioskCodeIn, request: Request, admin: Admin) -> dict[str, Any]:
    """A one-time code, valid 15 minutes, for the kiosk named (shown once). A kiosk enrolled
    under that id already is replaced only with `replace`."""
    station = _station(request)
    try:
        code = station.kiosk_registry.new_code(admin.username, body.kiosk_id, replace=body.replace)
    except EnrolmentError as exc:
        raise HTTPException(409, str(exc)) from None
    station.auth.audit(admin.username, "kiosk_code_made", body.kiosk_id,
                       "replacing the enrolled kiosk" if body.replace else "")
    return {"code": code, "kiosk_id": body.kiosk_id, "expires_in_s": 15 * 60}


@router.get("/kiosks")
async def kiosks(request: Request) -> list[dict[str, Any]]:
    station = _station(request)
    return [{"kiosk_id": k.id, "name": k.name, "enrolled_at": k.enrolled_at,
             "revoked": k.revoked_at is not None,
             "last_seen": station.kiosks.get(k.id, {}).get("last_seen")}
            for k in station.kiosk_registry.all()]


@router.post("/kiosks/{kiosk_id}/revoke")
async def revoke_kiosk(kiosk_id: KioskPathId, request: Request, admin: Admin) -> dict[str, Any]:
    """The kiosk's credential stops working at once (a stolen or replaced kiosk)."""
    station = _station(request)
    if not station.kiosk_registry.revoke(kiosk_id):
        raise HTTPException(404, f"no enrolled kiosk {kiosk_id}")
    station.kiosks.pop(kiosk_id, None)
    station.auth.audit(admin.username, "kiosk_revoked", kiosk_id)
    return {"kiosk_id": kiosk_id, "revoked": True}
