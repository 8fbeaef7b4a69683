"""Replay of the offline queue, and resolution of transactions left in doubt by a crash or a
lost link.

One replay runs at a time. Transactions for different items go to the ILS in parallel over the
SIP2 session pool; those for the same item - and a patron's renewals - go strictly in journal
order, each only once the one before it is settled, so the ILS's state of an item reflects every
earlier transaction when the next is sent. A refusal (a staff exception) holds back only that
item's later records until staff retry or resolve it. A lost ILS stops the whole replay.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field

from bridge.circulation.journal import Journal
from bridge.circulation.replay_report import ReplayReports, due_changed, line_for
from bridge.db.models import CircTransaction, ReplayLine, TxnKind, TxnMode, TxnState
from bridge.events import EventBus
from bridge.local_time import as_utc, due_shown, utcnow
from ils.adapter import IlsAdapter
from ils.errors import IlsRejected, IlsUnavailable, ProtocolError

log = logging.getLogger(__name__)


@dataclass
class ReplayResult:
    sent: int = 0
    exceptions: int = 0
    resolved_in_doubt: int = 0
    held: int = 0  # waiting behind an earlier record of theirs that staff must act on
    stopped_by: str = ""  # why it stopped early (the ILS went away), empty if it finished
    errors: list[str] = field(default_factory=list)
    lines: list[ReplayLine] = field(default_factory=list)  # the staff report, one per settled row
    report_id: int | None = None


class Replayer:
    def __init__(self, journal: Journal, ils: IlsAdapter, bus: EventBus, *, parallel: int = 1) -> None:
        self.journal = journal
        self.ils = ils
        self.bus = bus
        self.parallel = max(1, parallel)  # the ILS session pool's size
        self.reports = ReplayReports(journal.engine)
        self._lock = asyncio.Lock()

    @property
    def running(self) -> bool:
        return self._lock.locked()

    async def _took_effect(self, txn: CircTransaction) -> bool:
        """Ask the ILS whether a transaction in doubt happened (item information)."""
        info = await self.ils.item_info(txn.item_id or "")
        if txn.kind == TxnKind.CHECKIN.value:
            return not info.checked_out
        return info.checked_out

    async def _resolve(self, txn: CircTransaction, result: ReplayResult) -> bool:
        """Settle one 'sent' transaction. False if the ILS could not be asked.

        Only asked once every earlier transaction has been settled: item information about an
        item whose earlier checkout is still queued would say a return 'happened' when it did not.
        """
        assert txn.seq is not None
        if txn.kind == TxnKind.RENEW.value:
            return await self._resolve_renewal(txn, result)
        try:
            happened = await self._took_effect(txn)
        except IlsRejected as exc:  # e.g. the ILS no longer knows the item
            self.journal.to_exception(txn.seq, f"could not confirm: {exc.screen_message}")
            result.lines.append(line_for(txn, "refused", exc.screen_message or str(exc)))
            result.exceptions += 1
            return True
        except (IlsUnavailable, ProtocolError) as exc:
            result.stopped_by = f"ILS unavailable while resolving: {exc}"
            return False
        if happened:
            self.journal.finish(txn.seq, TxnState.DONE, outcome="confirmed by item information")
            result.lines.append(line_for(txn, "confirmed", "it had reached the ILS before the "
                                                           "link was lost"))
        else:
            # It never reached the ILS: send it as a replay.
            self.journal.back_to_pending(txn.seq, mode=TxnMode.OFFLINE)
        result.resolved_in_doubt += 1
        return True

    async def _resolve_renewal(self, txn: CircTransaction, result: ReplayResult) -> bool:
        """A renewal left without an answer (a time-out, a crash, a power cut) is never sent
        again blindly: a second renewal uses up the patron's renewals or is refused, and holds
        the item's later records behind a staff exception. The ILS is asked whether the due
        date moved from the one the renewal started from. Moved: it was done. Not moved: it was
        not, and the patron was never told it was (they were told to try again), so it is closed,
        not resent. Unknown: closed too, and said so in the replay report."""
        assert txn.seq is not None
        try:
            info = await self.ils.item_info(txn.item_id or "")
        except IlsRejected as exc:
            info = None
            why = exc.screen_message or "the ILS does not know the item"
        except (IlsUnavailable, ProtocolError) as exc:
            result.stopped_by = f"ILS unavailable while resolving: {exc}"
            return False
        before = as_utc(txn.due_before) if txn.due_before else None
        now_due = info.due_date if info is not None else None
        if before is not None and now_due is not None and now_due > before:
            self.journal.finish(txn.seq, TxnState.DONE, outcome="confirmed: the due date moved")
            result.lines.append(line_for(txn, "confirmed", "the renewal had reached the ILS"))
        else:
            if info is not None:
                why = "not renewed at the ILS" if before is not None and now_due is not None \
                    else "could not tell whether it reached the ILS"
            outcome = f"{why}; not sent again (the patron was told to try again)"
            self.journal.finish(txn.seq, TxnState.REJECTED, outcome=outcome)
            result.lines.append(line_for(txn, "not sent", outcome))
        result.resolved_in_doubt += 1
        return True

    async def _send(self, txn: CircTransaction) -> ReplayLine:
        """Send one transaction; its line of the staff report."""
        when = txn.created_at  # the ILS adapter turns it into the ILS's local time
        if txn.kind == TxnKind.CHECKIN.value:
            back = await self.ils.checkin(txn.item_id or "", location=txn.location or None,
                                          no_block=True, transaction_date=when, return_date=when)
            outcome = f"hold for another patron at {back.hold.pickup_location}" if back.hold else ""
            done = self.journal.finish(txn.seq or 0, TxnState.DONE, outcome=outcome, title=back.title)
            return line_for(done, "accepted", outcome or back.screen_message)
        if txn.kind == TxnKind.CHECKOUT.value:
            out = await self.ils.checkout(txn.patron_id or "", txn.item_id or "", no_block=True,
                                          transaction_date=when, due_date=txn.due_at)
        else:
            out = await self.ils.renew(txn.patron_id or "", txn.item_id or "")
        due = due_shown(out.due_date, out.due_text)
        done = self.journal.finish(txn.seq or 0, TxnState.DONE, due_text=due, title=out.title)
        if due_changed(txn.due_at, out.due_date):
            return line_for(done, "changed", "the ILS set another due date than the patron "
                                             "was told", ils_due=due)
        return line_for(done, "accepted", out.screen_message, ils_due=due)

    async def replay(self) -> ReplayResult:
        result = ReplayResult()
        started = utcnow()
        async with self._lock:
            await self._replay_all(result)
            if result.lines:
                result.report_id = self.reports.save(started, result.lines, result.stopped_by)
            if not result.stopped_by and (result.sent or result.resolved_in_doubt):
                self.journal.set_setting("last_sync", utcnow().isoformat())
        if result.sent or result.exceptions or result.stopped_by:
            log.info("replay: %d sent, %d exceptions, %d resolved in doubt, %d held%s", result.sent,
                     result.exceptions, result.resolved_in_doubt, result.held,
                     f"; stopped: {result.stopped_by}" if result.stopped_by else "")
            self.bus.publish("queue", sent=result.sent, exceptions=result.exceptions,
                             pending=self.journal.count(state=TxnState.PENDING))
        return result

    @staticmethod
    def _lanes(txn: CircTransaction) -> list[tuple[str, str]]:
        """What a transaction must wait its turn on: its item, and for a renewal its patron."""
        lanes = [("item", txn.item_id or "")]
        if txn.kind == TxnKind.RENEW.value:
            lanes.append(("renewals", txn.patron_id or ""))
        return lanes

    async def _replay_all(self, result: ReplayResult) -> None:
        """Every unsettled transaction as a task that waits for the one before it on each of its
        lanes; at most `parallel` talk to the ILS at once."""
        held_items = self.journal.items_with_open_exceptions()
        last: dict[tuple[str, str], asyncio.Future[bool]] = {}
        gate = asyncio.Semaphore(self.parallel)
        stop = asyncio.Event()
        tasks = []
        for txn in self.journal.unsettled():
            lanes = self._lanes(txn)
            before = [last[lane] for lane in lanes if lane in last]
            done: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
            for lane in lanes:
                last[lane] = done
            blocked = (txn.item_id or "") in held_items
            tasks.append(asyncio.ensure_future(
                self._in_turn(txn, before, done, blocked, gate, stop, result)))
        await asyncio.gather(*tasks)

    async def _in_turn(self, txn: CircTransaction, before: list[asyncio.Future[bool]],
                       done: asyncio.Future[bool], blocked: bool, gate: asyncio.Semaphore,
                       stop: asyncio.Event, result: ReplayResult) -> None:
        """Settle one transaction once everything before it on its lanes is settled; `done` says
        whether it was (False holds back what comes after it)."""
        settled = False
        try:
            ready = all([await earlier for earlier in before]) and not blocked
            if not ready:
                result.held += 1
            elif not stop.is_set():
                async with gate:
                    if not stop.is_set():
                        settled = await self._settle(txn, result, stop)
        finally:
            done.set_result(settled)

    async def _settle(self, txn: CircTransaction, result: ReplayResult, stop: asyncio.Event) -> bool:
        """Resolve it if in doubt, else send it. True when it is finished and its item's next
        record may go; False when it became an exception or the ILS went away."""
        assert txn.seq is not None
        if txn.state == TxnState.SENT.value:
            if not await self._resolve(txn, result):
                stop.set()
                return False
            fresh = self.journal.get(txn.seq)
            if fresh is None or fresh.state != TxnState.PENDING.value:
                return fresh is not None and fresh.state == TxnState.DONE.value
            txn = fresh
        self.journal.mark_sent(txn.seq)
        try:
            line = await self._send(txn)
        except IlsRejected as exc:
            record = self.journal.to_exception(txn.seq, exc.screen_message or str(exc))
            result.lines.append(line_for(txn, "refused", exc.screen_message or str(exc)))
            result.exceptions += 1
            self.bus.publish("queue_exception", exception_id=record.id, kind=txn.kind)
            return False
        except IlsUnavailable as exc:
            if not exc.uncertain:
                self.journal.back_to_pending(txn.seq)
            result.stopped_by = f"ILS unavailable: {exc}"
            stop.set()
            return False
        except ProtocolError as exc:  # garbled reply: the transaction stays in doubt
            result.stopped_by = f"ILS answered garbage: {exc}"
            stop.set()
            return False
        except Exception as exc:  # anything else of one row must not stop the rest of the queue
            log.exception("replay of transaction %s failed", txn.seq)
            record = self.journal.to_exception(txn.seq, f"could not be sent: {type(exc).__name__}")
            result.lines.append(line_for(txn, "failed", f"could not be sent: {type(exc).__name__}"))
            result.exceptions += 1
            self.bus.publish("queue_exception", exception_id=record.id, kind=txn.kind)
            return False
        result.lines.append(line)
        result.sent += 1
        return True
