"""Circulation at the station: identify, check out, check in, renew, account - online through the
ILS adapter, offline under local rules - every transaction journaled before it is acted on."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any, Generic, TypeVar

from bridge.access.pin_guard import PinGuard
from bridge.circulation.ils_link import IlsLink
from bridge.circulation.journal import Journal
from bridge.circulation.offline import OfflinePolicy, PatronCache
from bridge.circulation.sessions import KioskSession
from bridge.db.models import CircTransaction, TxnKind, TxnMode, TxnState
from bridge.events import EventBus
from bridge.local_time import due_shown, local_iso, utcnow
from ils.adapter import CheckoutResult, IlsAdapter, PatronAccount
from ils.errors import IlsBusy, IlsRejected, IlsUnavailable, PinRejected, ProtocolError
from ils.refusals import Reason, classify

log = logging.getLogger(__name__)
T = TypeVar("T")

# One answer for an unknown card and a wrong PIN (the kiosk keeps the card number and asks again).
NOT_RECOGNISED = "Card number or PIN not recognised"
OFFLINE_NOTE = "Recorded while the library system is offline; it will be sent when it is back."
QUEUED_NOTE = "Recorded; it will be sent to the library system right after this item's earlier records."


class Refused(Exception):
    """Something the patron is told plainly (wrong PIN, blocked, not possible offline)."""


@dataclass
class ItemResult:
    item_id: str
    ok: bool
    title: str = ""
    due_date: str = ""  # ISO 8601 when known, else the ILS's own text
    message: str = ""
    offline: bool = False
    txn_id: str = ""
    hold_patron_name: str = ""  # checkin: trapped for someone (staff screens only show initials)
    hold_pickup: str = ""
    in_transit_to: str = ""
    sort_bin: str = ""
    reason: str = ""  # ils.refusals.Reason of a refusal, when known; the kiosk words it
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Identity:
    patron_id: str
    name: str
    offline: bool
    blocked: bool = False
    message: str = ""


class Reply(Enum):
    QUEUED = "queued"      # not sent: the item's earlier records are still in the queue
    DONE = "done"          # the ILS did it
    REFUSED = "refused"    # the ILS said no
    UNSENT = "unsent"      # known never to have reached the ILS
    IN_DOUBT = "in_doubt"  # may have reached it: item information settles it later


@dataclass
class Attempt(Generic[T]):
    """One online transaction: journaled as sent before the request, and what came of it."""

    txn: CircTransaction
    reply: Reply
    value: T | None = None
    refusal: str = ""

    @property
    def seq(self) -> int:
        assert self.txn.seq is not None
        return self.txn.seq


class Circulation:
    def __init__(
        self, *, journal: Journal, link: IlsLink, adapter: IlsAdapter, policy: OfflinePolicy,
        cache: PatronCache, bus: EventBus, location: str, timeout_s: float,
    ) -> None:
        self.journal = journal
        self.link = link
        self.adapter = adapter
        self.policy = policy
        self.cache = cache
        self.bus = bus
        self.location = location
        self.timeout_s = timeout_s
        self._background: set[asyncio.Task[None]] = set()

    async def _ils(self, call: Awaitable[T]) -> T:
        """One ILS call under the station's deadline; a failure takes the link offline at once."""
        try:
            return await asyncio.wait_for(call, self.timeout_s)
        except TimeoutError as exc:
            if self.adapter.answering(self.timeout_s):
                # Others were answered meanwhile: this one waited behind them for a session.
                raise IlsBusy("every session to the library system is busy") from exc
            self.link.report(exc)
            raise IlsUnavailable("the library system did not answer in time", uncertain=True) from exc
        except (IlsUnavailable, ProtocolError) as exc:
            self.link.report(exc)
            raise

    async def _attempt(self, kind: TxnKind, item_id: str, call: Callable[[], Awaitable[T]],
                       session: KioskSession | None = None,
                       due_before: datetime | None = None,
                       patron_id: str | None = None) -> Attempt[T]:
        """Journal the transaction as sent, then send it; every online transaction goes this way."""
        txn = self.journal.record(kind, TxnMode.ONLINE, item_id=item_id, location=self.location,
                                  patron_id=patron_id or (session.patron_id if session else None),
                                  session_id=session.token[:16] if session else None,
                                  due_before=due_before)
        if txn.mode == TxnMode.OFFLINE.value:
            return Attempt(txn, Reply.QUEUED)
        try:
            value = await self._ils(call())
        except IlsRejected as exc:
            return Attempt(txn, Reply.REFUSED, refusal=exc.screen_message)
        except (IlsUnavailable, ProtocolError) as exc:
            unsent = isinstance(exc, IlsUnavailable) and not exc.uncertain
            if not unsent:
                self.journal.release(txn.seq or 0)  # in doubt from now on: the replay settles it
            return Attempt(txn, Reply.UNSENT if unsent else Reply.IN_DOUBT)
        except BaseException:
            self.journal.release(txn.seq or 0)  # cancelled mid-request: in doubt from now on
            raise
        return Attempt(txn, Reply.DONE, value)

    def _later(self, work: Awaitable[None]) -> None:
        task = asyncio.ensure_future(work)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    # -- patrons ---------------------------------------------------------------------------------
    async def identify(self, barcode: str, pin: str | None, guard: PinGuard | None = None,
                       kiosk: str = "kiosk") -> Identity:
        """Who the patron is, with the PIN checked by the ILS (or the offline cache). A guard
        counts the guess before it is checked, per card and per kiosk, and refuses a locked card
        or a kiosk that must wait. An unknown card and a wrong PIN get the same answer, so card
        numbers cannot be found by trying them."""
        guess = await guard.begin(barcode, kiosk) if guard is not None else None
        try:
            identity, verdict = await self._identify(barcode, pin)
        except BaseException:
            if guard is not None and guess is not None:
                await guard.not_checked(guess)
            raise
        if guard is not None and guess is not None:
            if verdict == "wrong_pin":
                await guard.wrong(guess)  # raises CardLocked when this was one too many
            elif verdict == "unknown":
                await guard.unknown_card(guess)
            else:
                await guard.right(guess)
        if identity is None:
            raise Refused(NOT_RECOGNISED)
        return identity

    async def _identify(self, barcode: str, pin: str | None) -> tuple[Identity | None, str]:
        if self.link.online:
            try:
                patron = await self._ils(self.adapter.authenticate_patron(barcode, pin))
            except PinRejected:
                return None, "wrong_pin"
            except IlsRejected:
                return None, "unknown"  # the ILS's own words would tell a card exists or not
            except (IlsUnavailable, ProtocolError):
                pass  # fall through to the offline rules
            else:
                # Hashing the PIN costs tens of ms: do it after the patron has their answer.
                self._later(asyncio.to_thread(self.cache.remember, barcode, pin, blocked=patron.blocked))
                return Identity(patron.patron_id, patron.name, False, patron.blocked,
                                patron.block_reason), "ok"
        verdict = await asyncio.to_thread(self.policy.identify, barcode, pin)
        if verdict.wrong_pin:
            return None, "wrong_pin"
        if not verdict.accepted:
            raise Refused(verdict.reason)
        return Identity(barcode, "", True, message=OFFLINE_NOTE), "ok"

    async def account(self, session: KioskSession) -> PatronAccount:
        if not self.link.online:
            raise Refused("Your account cannot be shown while the library system is offline.")
        try:
            return await self._ils(self.adapter.patron_account(session.patron_id, session.pin))
        except IlsRejected as exc:
            raise Refused(exc.screen_message) from None
        except (IlsUnavailable, ProtocolError):
            raise Refused("Your account cannot be shown while the library system is offline.") from None

    async def end_session(self, session: KioskSession) -> None:
        if self.link.online:
            try:
                await self._ils(self.adapter.end_session(session.patron_id))
            except (IlsRejected, IlsUnavailable, ProtocolError) as exc:
                log.info("end session not confirmed: %s", type(exc).__name__)

    # -- checkout --------------------------------------------------------------------------------
    def _offline_checkout(self, session: KioskSession, item_id: str, seq: int | None = None,
                          note: str = OFFLINE_NOTE) -> ItemResult:
        verdict = self.policy.may_lend(session.offline_checkouts)
        if not verdict.accepted:
            if seq is not None:
                self.journal.finish(seq, TxnState.REJECTED, outcome="offline limit reached")
            return ItemResult(item_id, False, message=verdict.reason, offline=True,
                              reason=Reason.OFFLINE_LIMIT)
        due = self.policy.due_date(item_id, utcnow())
        if seq is None:
            txn = self.journal.record(TxnKind.CHECKOUT, TxnMode.OFFLINE, patron_id=session.patron_id,
                                      item_id=item_id, location=self.location,
                                      session_id=session.token[:16], due_at=due)
        else:
            txn = self.journal.back_to_pending(seq, mode=TxnMode.OFFLINE, due_at=due)
        session.offline_checkouts += 1
        return ItemResult(item_id, True, due_date=local_iso(due),
                          message=note, offline=True, txn_id=txn.txn_id)

    async def item_title(self, item_id: str) -> str:
        """The title the ILS has for an item ("" offline or unknown): for what a tag cannot say."""
        if not self.link.online:
            return ""
        try:
            return (await self._ils(self.adapter.item_info(item_id))).title
        except (IlsRejected, IlsUnavailable, ProtocolError):
            return ""

    async def checkout(self, session: KioskSession, item_id: str) -> ItemResult:
        result = await self._checkout(session, item_id)
        session.checkouts += result.ok
        self.bus.publish("checkout", item_id=item_id, ok=result.ok, offline=result.offline,
                         in_session=session.checkouts, kiosk=session.kiosk)
        return result


    async def _checkout(self, session: KioskSession, item_id: str) -> ItemResult:
        if not self.link.online:
            return self._offline_checkout(session, item_id)
        dialect = getattr(self.adapter, "dialect", None)
        if getattr(dialect, "checkout_of_own_loan_renews", False) and \
                (due_before := await self._due_now(item_id)) is not None:
            # An item already out, checked out again: this ILS renews it (Alma). Journaled as
            # the renewal it is - its answer kept durably, one left in doubt settled by whether
            # the due date moved - never as a checkout that item information would "confirm".
            return await self._renewal(session, item_id, due_before, lambda: self.adapter.checkout(
                session.patron_id, item_id, pin=session.pin))
        attempt = await self._attempt(
            TxnKind.CHECKOUT, item_id, lambda: self.adapter.checkout(session.patron_id, item_id,
                                                                     pin=session.pin), session)
        if attempt.reply is Reply.QUEUED:
            return self._offline_checkout(session, item_id, attempt.seq, note=QUEUED_NOTE)
        if attempt.reply is Reply.UNSENT:
            return self._offline_checkout(session, item_id, attempt.seq)
        if attempt.reply is Reply.IN_DOUBT:
            # The ILS may have it. Lend it under offline rules; on reconnect item information
            # settles whether to replay it.
            due = self.policy.due_date(item_id, utcnow())
            self.journal.set_due(attempt.seq, due)
            session.offline_checkouts += 1
            return ItemResult(item_id, True, due_date=local_iso(due), message=OFFLINE_NOTE,
                              offline=True, txn_id=attempt.txn.txn_id)
        return self._loan_result(attempt, item_id)

    def _loan_result(self, attempt: Attempt[CheckoutResult], item_id: str) -> ItemResult:
        """A checkout or renewal the ILS answered, written to the journal once."""
        if attempt.reply is Reply.REFUSED or attempt.value is None:
            self.journal.finish(attempt.seq, TxnState.REJECTED, outcome=attempt.refusal)
            return ItemResult(item_id, False, message=attempt.refusal, txn_id=attempt.txn.txn_id,
                              reason=classify(attempt.refusal))
        out = attempt.value
        due = due_shown(out.due_date, out.due_text)
        # A renewal's "done" is written durably: a lost one would leave a row no item information
        # can settle. A checkout's may be lost to a power cut: item information settles it.
        self.journal.finish(attempt.seq, TxnState.DONE, due_text=due, title=out.title,
                            durable=attempt.txn.kind == TxnKind.RENEW.value)
        return ItemResult(item_id, True, title=out.title, due_date=due, message=out.screen_message,
                          txn_id=attempt.txn.txn_id,
                          extra={"renewal": out.renewal, "desensitize": out.desensitize})

    # -- holds handed over at a locker door ------------------------------------------------------
    async def lend_held(self, patron_id: str, item_id: str, *,
                        opened_before: bool = False) -> ItemResult:
        """Check out a hold the lockers are handing over, through the journal like a kiosk
        checkout: recorded before it is sent, so a power cut or a lost ILS leaves it queued or in
        doubt for the replay - never lost, never sent twice. No offline limit applies: the item is
        the patron's own hold and its door is already open. `opened_before`: an earlier pickup
        opened this door and the power went before its end was kept - its checkout may have
        reached the ILS and may even be settled (and purged) already."""
        earlier = self.journal.unsettled_checkout(item_id, patron_id)
        if earlier is not None:  # a pickup asked again: the first one's record settles it
            return ItemResult(item_id, True, message=QUEUED_NOTE, offline=True,
                              txn_id=earlier.txn_id)
        due = self.policy.due_date(item_id, utcnow())
        if opened_before:
            # Recorded in doubt: the replay asks the ILS (item information) whether the item is
            # out already and sends the checkout only if it is not.
            txn = self.journal.record(TxnKind.CHECKOUT, TxnMode.ONLINE, patron_id=patron_id,
                                      item_id=item_id, location=self.location, due_at=due)
            if txn.seq is not None:
                self.journal.release(txn.seq)
            return ItemResult(item_id, True, message=QUEUED_NOTE, offline=True, txn_id=txn.txn_id)
        if not self.link.online:
            txn = self.journal.record(TxnKind.CHECKOUT, TxnMode.OFFLINE, patron_id=patron_id,
                                      item_id=item_id, location=self.location, due_at=due)
            return ItemResult(item_id, True, message=OFFLINE_NOTE, offline=True, txn_id=txn.txn_id)
        attempt = await self._attempt(
            TxnKind.CHECKOUT, item_id, lambda: self.adapter.checkout(patron_id, item_id),
            patron_id=patron_id)
        if attempt.reply in (Reply.QUEUED, Reply.UNSENT):
            self.journal.back_to_pending(attempt.seq, mode=TxnMode.OFFLINE, due_at=due)
        elif attempt.reply is Reply.IN_DOUBT:
            self.journal.set_due(attempt.seq, due)  # item information settles it on reconnect
        else:
            return self._loan_result(attempt, item_id)
        return ItemResult(item_id, True, message=OFFLINE_NOTE, offline=True,
                          txn_id=attempt.txn.txn_id)

    # -- checkin ---------------------------------------------------------------------------------
    async def checkin(self, item_id: str, kiosk: str = "") -> ItemResult:
        """`kiosk`: where the item was returned; only that kiosk's stream hears of it."""
        result = await self._checkin(item_id)
        self.bus.publish("checkin", item_id=item_id, ok=result.ok, offline=result.offline,
                         hold=bool(result.hold_pickup), in_transit=bool(result.in_transit_to),
                         kiosk=kiosk)
        return result

    async def _checkin(self, item_id: str) -> ItemResult:
        if not self.link.online:
            txn = self.journal.record(TxnKind.CHECKIN, TxnMode.OFFLINE, patron_id=None,
                                      item_id=item_id, location=self.location)
            return ItemResult(item_id, True, message=OFFLINE_NOTE, offline=True, txn_id=txn.txn_id)
        attempt = await self._attempt(
            TxnKind.CHECKIN, item_id, lambda: self.adapter.checkin(item_id, location=self.location))
        txn_id = attempt.txn.txn_id
        if attempt.reply is Reply.QUEUED:  # journaled as queued, behind the item's earlier records
            return ItemResult(item_id, True, message=QUEUED_NOTE, offline=True, txn_id=txn_id)
        if attempt.reply is Reply.REFUSED:
            self.journal.finish(attempt.seq, TxnState.REJECTED, outcome=attempt.refusal)
            return ItemResult(item_id, False, message=attempt.refusal, txn_id=txn_id,
                              reason=classify(attempt.refusal))
        if attempt.reply is Reply.UNSENT:
            self.journal.back_to_pending(attempt.seq, mode=TxnMode.OFFLINE)
        back = attempt.value
        if back is None:  # returns are always accepted: in doubt, item information settles it
            return ItemResult(item_id, True, message=OFFLINE_NOTE, offline=True, txn_id=txn_id)
        self.journal.finish(attempt.seq, TxnState.DONE, title=back.title, durable=False,
                            outcome="hold" if back.hold else ("transit" if back.in_transit_to else ""))
        return ItemResult(
            item_id, True, title=back.title, message=back.screen_message, txn_id=txn_id,
            hold_patron_name=back.hold.patron_name if back.hold else "",
            hold_pickup=back.hold.pickup_location if back.hold else "",
            in_transit_to=back.in_transit_to, sort_bin=back.sort_bin,
            extra={"alert": back.alert, "media_type": back.media_type,
                   "collection": back.collection, "patron_id": back.previous_patron_id},
        )

    # -- renew -----------------------------------------------------------------------------------
    async def renew(self, session: KioskSession, item_id: str) -> ItemResult:
        if not self.adapter.can("renew"):  # FOLIO's edge-sip2 has no Renew: never sent
            return ItemResult(item_id, False, reason=Reason.NOT_SUPPORTED,
                              message="Renewals are not available at this kiosk: please renew "
                                      "online or at the desk.")
        if not self.link.online:
            return ItemResult(item_id, False, offline=True, reason=Reason.ILS_OFFLINE,
                              message="Renewals are not available while the library system is "
                                      "offline. Please try again later.")
        return await self._renewal(session, item_id, await self._due_now(item_id),
                                   lambda: self.adapter.renew(session.patron_id, item_id,
                                                              pin=session.pin))

    async def _renewal(self, session: KioskSession, item_id: str, due_before: datetime | None,
                       send: Callable[[], Awaitable[CheckoutResult]]) -> ItemResult:
        attempt = await self._attempt(TxnKind.RENEW, item_id, send, session, due_before=due_before)
        if attempt.reply is Reply.QUEUED:  # renewals are never queued: tell the patron to retry
            self.journal.finish(attempt.seq, TxnState.REJECTED, outcome="item records still queued")
            return ItemResult(item_id, False, txn_id=attempt.txn.txn_id, reason=Reason.RECORDS_QUEUED,
                              message="This item's earlier records are still being sent to the "
                                      "library system. Please try again in a minute.")
        if attempt.reply is Reply.UNSENT:
            self.journal.finish(attempt.seq, TxnState.REJECTED, outcome="library system unavailable")
        if attempt.reply in (Reply.UNSENT, Reply.IN_DOUBT):
            return ItemResult(item_id, False, offline=True, txn_id=attempt.txn.txn_id,
                              reason=Reason.UNCONFIRMED,
                              message="The renewal could not be confirmed. Please try again later.")
        return self._loan_result(attempt, item_id)

    async def _due_now(self, item_id: str) -> datetime | None:
        """The loan's due date before a renewal, kept with it: should the renewal be left in
        doubt (no answer, a crash, a power cut), the replay asks the ILS whether the due date
        moved instead of renewing a second time."""
        if not self.adapter.can("item_info"):
            return None
        try:
            return (await self._ils(self.adapter.item_info(item_id))).due_date
        except (IlsRejected, IlsUnavailable, ProtocolError):
            return None

    async def renew_all(self, session: KioskSession) -> list[ItemResult]:
        account = await self.account(session)
        return [await self.renew(session, loan.item_id) for loan in account.loans]
