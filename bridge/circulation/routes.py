"""The kiosk API (/api/v1): what the touchscreen app calls. JSON in and out, OpenAPI documented."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, HTTPException, Path
from pydantic import BaseModel, Field, model_validator

from bridge.access.hash_pool import run_hash
from bridge.access.kiosk_auth import KioskId, require_kiosk
from bridge.access.kiosks import LOOPBACK_KIOSK
from bridge.access.pin_guard import CardLocked, KioskWait
from bridge.circulation.pad import Pad
from bridge.circulation.receipts import receipt_lines, send_receipt
from bridge.circulation.service import ItemResult, Refused
from bridge.circulation.sessions import KioskSession
from bridge.dependencies import StationDep
from bridge.local_time import due_shown
from bridge.notices import Notifier
from rfid.cards.uid_rule import uid_to_barcode

if TYPE_CHECKING:  # the station imports this module: no import back at run time
    pass

router = APIRouter(prefix="/api/v1", tags=["kiosk"], dependencies=[Depends(require_kiosk)])

# Printable ASCII without '|', SIP2's field delimiter: refused here (422), before anything is
# journaled, so no value can break a SIP2 message or jam the queue.
Barcode = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[\x21-\x7b\x7d\x7e]+$")]
Pin = Annotated[str, Field(min_length=1, max_length=32, pattern=r"^[\x20-\x7b\x7d\x7e]+$")]
TapNonce = Annotated[str, Field(min_length=16, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]


def patron_session(
    station: StationDep,
    x_kiosk_session: Annotated[str | None, Header(description="token from POST /sessions")] = None,
) -> KioskSession:
    session = station.sessions.get(x_kiosk_session or "")
    if session is None:
        raise HTTPException(401, "No patron session, or it expired: please sign in again")
    return session


SessionDep = Annotated[KioskSession, Depends(patron_session)]


class SignIn(BaseModel):
    barcode: Barcode | None = None
    pin: Pin | None = None
    card_tap: TapNonce | None = Field(
        default=None, description="the one-time tap id from this station's `card` event")

    @model_validator(mode="after")
    def _one_identifier(self) -> SignIn:
        if (self.barcode is None) == (self.card_tap is None):
            raise ValueError("give exactly one of barcode or card_tap")
        return self


def locked_answer(exc: CardLocked) -> HTTPException:
    minutes = max(1, round(exc.retry_after_s / 60))
    return HTTPException(423, {
        "error": "card_locked", "retry_after_s": round(exc.retry_after_s),
        "message": "This card is locked after too many wrong PINs. Please see the service desk, "
                   f"or try again in {minutes} minutes."})


def kiosk_wait_answer(exc: KioskWait) -> HTTPException:
    seconds = max(1, round(exc.retry_after_s))
    return HTTPException(429, {
        "error": "kiosk_wait", "retry_after_s": seconds,
        "message": f"Too many cards or PINs were not recognised here. Please wait {seconds} "
                   "seconds and try again, or see the service desk."},
        headers={"Retry-After": str(seconds)})


class SessionOut(BaseModel):
    token: str
    name: str
    offline: bool
    blocked: bool
    message: str
    idle_timeout_s: float


class ItemIn(BaseModel):
    item_id: Barcode


class RenewIn(BaseModel):
    item_ids: list[Barcode] = Field(default_factory=list, max_length=100)
    all: bool = False


class ItemOut(BaseModel):
    item_id: str
    ok: bool
    title: str
    due_date: str
    message: str
    offline: bool
    txn_id: str
    hold_pickup: str = ""
    in_transit_to: str = ""
    sort_bin: str = ""
    reason: str = Field(default="", description="why it was refused, when known (ils.refusals)")

    @classmethod
    def of(cls, result: ItemResult) -> ItemOut:
        return cls(item_id=result.item_id, ok=result.ok, title=result.title,
                   due_date=result.due_date, message=result.message, offline=result.offline,
                   txn_id=result.txn_id, hold_pickup=result.hold_pickup,
                   in_transit_to=result.in_transit_to, sort_bin=result.sort_bin,
                   reason=result.reason)


class LoanOut(BaseModel):
    item_id: str
    title: str
    due_date: str
    overdue: bool


class HoldOut(BaseModel):
    item_id: str
    title: str
    ready: bool


class AccountOut(BaseModel):
    name: str
    loans: list[LoanOut]
    holds: list[HoldOut]
    fines: list[str]
    fee_amount: str
    blocked: bool
    block_reason: str
    can_renew: bool = Field(default=True, description="False when this ILS has no renewals "
                                                      "(its SIP2 dialect): the kiosk hides them")


@router.get("/status")
async def status(station: StationDep) -> dict[str, Any]:
    """Is the ILS reachable (offline mode shows plainly on the kiosk), and what waits to sync."""
    queue = station.journal.status()
    return {
        "station": station.profile.station.id, "offline": not station.link.online,
        "ils": station.link.as_dict(),
        "queue": {"pending": queue.pending, "in_doubt": queue.in_doubt,
                  "open_exceptions": queue.open_exceptions},
    }


@router.post("/sessions", status_code=201,
             responses={403: {"description": "refused"}, 423: {"description": "card locked"}})
async def sign_in(body: SignIn, station: StationDep, caller: KioskId) -> SessionOut:
    """Start a patron session with a card barcode or a card tap this station's reader saw, and
    the PIN (required unless the profile says `kiosk.require_pin = false`)."""
    if body.card_tap is not None:
        tap = station.taps.redeem(body.card_tap, caller)
        if tap is None or tap.staff:
            raise HTTPException(403, "That card tap has expired: please tap your card again")
        reader = next((r for r in station.profile.card_readers if r.id == tap.reader), None)
        rule = reader.uid_rule if reader else None
        barcode = uid_to_barcode(bytes.fromhex(tap.uid), **(rule.model_dump() if rule else {}))
    else:
        assert body.barcode is not None
        barcode = body.barcode
    if station.profile.kiosk.require_pin and not body.pin:
        raise HTTPException(403, "Please enter your PIN")
    try:
        identity = await station.circulation.identify(barcode, body.pin, station.pin_guard,
                                                      kiosk=caller)
    except CardLocked as exc:
        raise locked_answer(exc) from None
    except KioskWait as exc:
        raise kiosk_wait_answer(exc) from None
    except Refused as exc:
        raise HTTPException(403, str(exc)) from None
    session = station.sessions.open(identity.patron_id, identity.name, offline=identity.offline,
                                    pin=body.pin, kiosk=caller)
    station.bus.publish("session", state="started", offline=identity.offline, kiosk=caller)
    station.stats.count("kiosk_sessions")
    return SessionOut(token=session.token, name=identity.name, offline=identity.offline,
                      blocked=identity.blocked, message=identity.message,
                      idle_timeout_s=station.sessions.idle_timeout_s)


@router.delete("/sessions/current", status_code=204)
async def sign_out(session: SessionDep, station: StationDep) -> None:
    station.sessions.close(session.token)
    for pad in station.pads.values():
        if pad.session is session:
            pad.stop_mode()  # the next patron must not inherit this checkout
    await station.circulation.end_session(session)
    station.bus.publish("session", state="ended", kiosk=session.kiosk)


@router.get("/account", responses={409: {"description": "not available offline"}})
async def account(session: SessionDep, station: StationDep) -> AccountOut:
    try:
        acct = await station.circulation.account(session)
    except Refused as exc:
        raise HTTPException(409, str(exc)) from None
    return AccountOut(
        name=acct.patron.name,
        loans=[LoanOut(item_id=x.item_id, title=x.title, due_date=due_shown(x.due_date, x.due_text),
                       overdue=x.overdue)
               for x in acct.loans],
        holds=[HoldOut(item_id=h.item_id, title=h.title, ready=h.ready) for h in acct.holds],
        fines=[f.description for f in acct.fines], fee_amount=acct.patron.fee_amount,
        blocked=acct.patron.blocked, block_reason=acct.patron.block_reason,
        can_renew=station.adapter.can("renew"),
    )


@router.post("/checkout")
async def checkout(body: ItemIn, session: SessionDep, station: StationDep) -> ItemOut:
    """Check out one item to the signed-in patron (by barcode; RFID pads call this per tag)."""
    return ItemOut.of(await station.circulation.checkout(session, body.item_id))


@router.post("/checkin")
async def checkin(body: ItemIn, station: StationDep, caller: KioskId) -> ItemOut:
    """Return an item: no sign-in needed; always accepted, even offline."""
    return ItemOut.of(await station.circulation.checkin(body.item_id, kiosk=caller))


@router.post("/renew", responses={409: {"description": "not available offline"}})
async def renew(body: RenewIn, session: SessionDep, station: StationDep) -> list[ItemOut]:
    if body.all:
        try:
            results = await station.circulation.renew_all(session)
        except Refused as exc:
            raise HTTPException(409, str(exc)) from None
    else:
        results = [await station.circulation.renew(session, item) for item in body.item_ids]
    return [ItemOut.of(r) for r in results]


def kiosk_pad(station: StationDep) -> Pad:
    wanted = station.profile.kiosk.rfid_reader
    pad = station.pads.get(wanted) if wanted else next(iter(station.pads.values()), None)
    if pad is None:
        raise HTTPException(404, "this station has no RFID pad")
    return pad


PadDep = Annotated[Pad, Depends(kiosk_pad)]


class PadItemOut(BaseModel):
    item_id: str
    status: str
    message: str
    title: str
    due_date: str
    parts: int
    missing: list[int]
    offline: bool
    hold_pickup: str
    in_transit_to: str
    sort_bin: str


class PadOut(BaseModel):
    reader: str
    mode: str
    items: list[PadItemOut]
    tags_on_pad: int


def own_pad(pad: PadDep, station: StationDep,
            x_kiosk_session: Annotated[str | None, Header()] = None) -> Pad:
    """A pad checking out to a patron is that patron's: only their session sees or stops it."""
    if pad.session is not None:
        session = station.sessions.get(x_kiosk_session or "")
        if session is None or session.token != pad.session.token:
            raise HTTPException(403, "the pad is in use by another session")
    return pad


OwnPadDep = Annotated[Pad, Depends(own_pad)]


@router.get("/pad")
async def pad_state(pad: OwnPadDep) -> PadOut:
    """What the pad is doing and each item's result so far (also pushed as pad_item events)."""
    return PadOut.model_validate(pad.snapshot())


@router.get("/pad/tags")
async def pad_tags(pad: PadDep) -> list[dict[str, Any]]:
    """The tags on the pad now, decoded (for `bronco rfid watch` and staff screens)."""
    return pad.tags()


@router.post("/pad/checkout")
async def pad_checkout(pad: PadDep, session: SessionDep) -> PadOut:
    """Check out every complete item placed on the pad to the signed-in patron."""
    pad.start_checkout(session)
    return PadOut.model_validate(pad.snapshot())


@router.post("/pad/return")
async def pad_return(pad: PadDep, caller: KioskId) -> PadOut:
    """Return every complete item placed on the pad (no sign-in)."""
    pad.start_return(kiosk=caller)
    return PadOut.model_validate(pad.snapshot())


@router.post("/pad/stop")
async def pad_stop(pad: OwnPadDep) -> PadOut:
    pad.stop_mode()
    return PadOut.model_validate(pad.snapshot())


class Heartbeat(BaseModel):
    screen: Annotated[str, Field(max_length=32)] = ""
    version: Annotated[str, Field(max_length=32)] = ""
    offline_shown: bool = False


@router.post("/kiosks/{kiosk_id}/heartbeat", status_code=204)
async def heartbeat(kiosk_id: Annotated[str, Path(pattern=r"^[A-Za-z0-9_.-]{1,32}$")],
                    body: Heartbeat, station: StationDep, caller: KioskId) -> None:
    """Kiosks report in every few seconds; the staff console shows which are alive. An enrolled
    kiosk reports as itself only; a trusted loopback kiosk is one machine, one entry."""
    if caller != LOOPBACK_KIOSK and caller != kiosk_id:
        raise HTTPException(403, "a kiosk reports for itself only")
    if caller == LOOPBACK_KIOSK:
        station.kiosks = {k: v for k, v in station.kiosks.items() if not v.get("loopback")}
    station.kiosks[kiosk_id] = {"last_seen": time.time(), "loopback": caller == LOOPBACK_KIOSK,
                                **body.model_dump()}


class ReceiptIn(BaseModel):
    kind: Literal["email", "print", "none"]


@router.post("/receipt")
async def receipt(body: ReceiptIn, session: SessionDep, station: StationDep) -> dict[str, Any]:
    """A receipt of this session's transactions, by email or on the kiosk's printer."""
    lines = receipt_lines(station.journal, session.token[:16])
    email = None
    if body.kind == "email" and station.link.online:
        try:
            email = (await station.adapter.authenticate_patron(session.patron_id)).email or None
        except Exception:  # the ILS is away: no address to send to
            email = None
    notices = station.profile.notices
    result = await send_receipt(body.kind, lines=lines, email=email,
                                notifier=Notifier(notices), printer=station.profile.kiosk.printer,
                                library=notices.library_name,
                                footer=station.profile.kiosk.receipt_footer)
    return {**result, "lines": len(lines)}


class StaffCardIn(BaseModel):
    card_tap: TapNonce
    pin: Pin


@router.post("/maintenance/session",
             responses={403: {"description": "not a staff card"}, 423: {"description": "locked"}})
async def maintenance_session(body: StaffCardIn, station: StationDep,
                              caller: KioskId) -> dict[str, Any]:
    """A staff card tapped at this station's reader, and its staff PIN: a 10-minute desk token
    for the maintenance screen."""
    tap = station.taps.redeem(body.card_tap, caller)
    if tap is None or not tap.staff:
        raise HTTPException(403, "not a staff card tap")
    card = station.auth.staff_card(station.key, tap.uid)
    if card is None:
        raise HTTPException(403, "this staff card has no staff PIN yet (bronco staff card)")
    try:
        guess = await station.pin_guard.begin(tap.uid, caller)
        try:
            good = await run_hash(station.auth.verify_card_pin, card, body.pin)
        except BaseException:
            await station.pin_guard.not_checked(guess)
            raise
        if not good:
            await station.pin_guard.wrong(guess)
            raise HTTPException(403, "Incorrect PIN")
    except CardLocked as exc:
        raise locked_answer(exc) from None
    except KioskWait as exc:
        raise kiosk_wait_answer(exc) from None
    await station.pin_guard.right(guess)
    user = station.auth.card_user(card.username)
    issued = station.auth.issue(user, "bearer", label="kiosk staff card", minutes=10)
    station.auth.audit(user.username, "maintenance_session", station.profile.station.id,
                       f"card ...{tap.uid[-4:]}")
    return {"token": issued.token, "expires_in_s": issued.expires_in_s}
