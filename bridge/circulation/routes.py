"""The kiosk API (/api/v1): what the touchscreen app calls. JSON in and out, OpenAPI documented."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, HTTPException
from pydantic import BaseModel, Field, model_validator

from bridge.access.kiosk_auth import KioskId, Pin, TapNonce, kiosk_wait_answer, locked_answer, require_kiosk
from bridge.access.pin_guard import CardLocked, KioskWait
from bridge.circulation.service import ItemResult, Refused
from bridge.circulation.sessions import KioskSession
from bridge.dependencies import StationDep
from bridge.local_time import due_shown
from rfid.cards.uid_rule import uid_to_barcode

router = APIRouter(prefix="/api/v1", tags=["kiosk"], dependencies=[Depends(require_kiosk)])

# Printable ASCII without '|', SIP2's field delimiter: refused here (422), before anything is
# journaled, so no value can break a SIP2 message or jam the queue.
Barcode = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[\x21-\x7b\x7d\x7e]+$")]


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
