"""Replay of the offline queue, and resolution of transactions left in doubt by a crash or a
lost link. One replay runs at a time and sends one transaction at a time, in journal order, so the
ILS's state of an item reflects every earlier transaction when the next is sent."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field

from bridge.db.models import CircTransaction, TxnKind, TxnMode, TxnState
from bridge.events import EventBus
from bridge.journal import Journal, utcnow
from bridge.local_time import due_shown
from ils.adapter import IlsAdapter
from ils.errors import IlsRejected, IlsUnavailable, ProtocolError

log = logging.getLogger(__name__)


@dataclass
class ReplayResult:
    sent: int = 0
    exceptions: int = 0
    resolved_in_doubt: int = 0
    stopped_by: str = ""  # why it stopped early (the ILS went away), empty if it finished
    errors: list[str] = field(default_factory=list)


class Replayer:
    def __init__(self, journal: Journal, ils: IlsAdapter, bus: EventBus) -> None:
        self.journal = journal
        self.ils = ils
        self.bus = bus
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
        try:
            happened = await self._took_effect(txn)
        except IlsRejected as exc:  # e.g. the ILS no longer knows the item
            self.journal.to_exception(txn.seq, f"could not confirm: {exc.screen_message}")
            result.exceptions += 1
            return True
        except (IlsUnavailable, ProtocolError) as exc:
            result.stopped_by = f"ILS unavailable while resolving: {exc}"
            return False
        if happened and txn.kind != TxnKind.RENEW.value:
            self.journal.finish(txn.seq, TxnState.DONE, outcome="confirmed by item information")
        else:
            # It never reached the ILS (or a renewal cannot be told apart): send it as a replay.
            self.journal.back_to_pending(txn.seq, mode=TxnMode.OFFLINE)
        result.resolved_in_doubt += 1
        return True

    async def _send(self, txn: CircTransaction) -> None:
        when = txn.created_at  # the ILS adapter turns it into the ILS's local time
        if txn.kind == TxnKind.CHECKOUT.value:
            out = await self.ils.checkout(txn.patron_id or "", txn.item_id or "", no_block=True,
                                          transaction_date=when, due_date=txn.due_at)
            self.journal.finish(txn.seq or 0, TxnState.DONE, due_text=due_shown(out.due_date, out.due_text),
                                title=out.title)
        elif txn.kind == TxnKind.CHECKIN.value:
            back = await self.ils.checkin(txn.item_id or "", location=txn.location or None,
                                          no_block=True, transaction_date=when, return_date=when)
            outcome = f"hold for another patron at {back.hold.pickup_location}" if back.hold else ""
            self.journal.finish(txn.seq or 0, TxnState.DONE, outcome=outcome, title=back.title)
        else:
            out = await self.ils.renew(txn.patron_id or "", txn.item_id or "")
            self.journal.finish(txn.seq or 0, TxnState.DONE, due_text=due_shown(out.due_date, out.due_text),
                                title=out.title)

    async def replay(self) -> ReplayResult:
        result = ReplayResult()
        async with self._lock:
            while (txn := self.journal.next_unsettled()) is not None:
                assert txn.seq is not None
                if txn.state == TxnState.SENT.value:
                    if not await self._resolve(txn, result):
                        break
                    continue  # now done, an exception, or pending again (sent next round)
                self.journal.mark_sent(txn.seq)
                try:
                    await self._send(txn)
                    result.sent += 1
                except IlsRejected as exc:
                    record = self.journal.to_exception(txn.seq, exc.screen_message or str(exc))
                    result.exceptions += 1
                    self.bus.publish("queue_exception", exception_id=record.id, kind=txn.kind)
                except IlsUnavailable as exc:
                    if not exc.uncertain:
                        self.journal.back_to_pending(txn.seq)
                    result.stopped_by = f"ILS unavailable: {exc}"
                    break
                except ProtocolError as exc:  # garbled reply: the transaction stays in doubt
                    result.stopped_by = f"ILS answered garbage: {exc}"
                    break
            if not result.stopped_by and (result.sent or result.resolved_in_doubt):
                self.journal.set_setting("last_sync", utcnow().isoformat())
        if result.sent or result.exceptions or result.stopped_by:
            log.info("replay: %d sent, %d exceptions, %d resolved in doubt%s", result.sent,
                     result.exceptions, result.resolved_in_doubt,
                     f"; stopped: {result.stopped_by}" if result.stopped_by else "")
            self.bus.publish("queue", sent=result.sent, exceptions=result.exceptions,
                             pending=self.journal.count(state=TxnState.PENDING))
        return result
