"""The queue is settled strictly in order. A return left in doubt (the link dropped mid-request)
must not be judged by item information while the same item's earlier offline checkout is still
queued: the ILS would say "not checked out" and the return would be wrongly taken as done."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.queue import _library
from bridge.circulation.journal import Journal
from bridge.circulation.replay import Replayer
from bridge.db.engine import open_database
from bridge.db.models import TxnKind, TxnMode, TxnState
from bridge.events import EventBus
from ils.demo_server.server import DemoIlsServer
from ils.sip2.client import Sip2Settings
from ils.sip2_adapter import Sip2Adapter


async def test_return_in_doubt_waits_for_the_queued_checkout(tmp_path: Path) -> None:
    journal = Journal(open_database(f"sqlite:///{tmp_path / 'station.db'}"), "kiosk-1")
    due = datetime.now(UTC) + timedelta(days=14)
    lent = journal.record(TxnKind.CHECKOUT, TxnMode.OFFLINE, patron_id="P1", item_id="B000001",
                          location="K1", due_at=due)
    back = journal.record(TxnKind.CHECKIN, TxnMode.OFFLINE, patron_id=None, item_id="B000001",
                          location="K1")
    journal.mark_sent(back.seq)  # sent when the link dropped: in doubt
    assert journal.item_unsettled("B000001") and not journal.item_unsettled("B000002")
    ledger = tmp_path / "ledger.jsonl"
    server = DemoIlsServer(_library(3), ledger=ledger, encoding="utf-8")
    port = await server.start("127.0.0.1", 0)
    adapter = Sip2Adapter(Sip2Settings(port=port, encoding="utf-8", login_user="kiosk",
                                       login_password="demo", timeout_s=5))
    try:
        await adapter.start()
        result = await Replayer(journal, adapter, EventBus()).replay()
        info = await adapter.item_info("B000001")
    finally:
        await adapter.close()
        await server.close()
    assert result.sent == 2 and result.resolved_in_doubt == 1 and not result.stopped_by
    ops = [(r["op"], r["item"], r["ok"]) for r in map(json.loads, ledger.read_text().splitlines())
           if r["op"] in ("checkout", "checkin")]
    assert ops == [("checkout", "B000001", True), ("checkin", "B000001", True)]
    assert not info.checked_out  # the patron returned it, and the ILS agrees
    assert journal.get(lent.seq).state == journal.get(back.seq).state == TxnState.DONE.value


def test_an_online_record_behind_queued_ones_is_journaled_as_queued(tmp_path: Path) -> None:
    """The check and the write are one database transaction: an online transaction for an item
    whose earlier records are still queued is written as queued, never as sent."""
    journal = Journal(open_database(f"sqlite:///{tmp_path / 'station.db'}"), "kiosk-1")
    journal.record(TxnKind.CHECKOUT, TxnMode.OFFLINE, patron_id="P1", item_id="B1", location="K1")
    behind = journal.record(TxnKind.CHECKIN, TxnMode.ONLINE, patron_id=None, item_id="B1",
                            location="K1")
    alone = journal.record(TxnKind.CHECKIN, TxnMode.ONLINE, patron_id=None, item_id="B2",
                           location="K1")
    assert (behind.mode, behind.state) == (TxnMode.OFFLINE.value, TxnState.PENDING.value)
    assert (alone.mode, alone.state) == (TxnMode.ONLINE.value, TxnState.SENT.value)
    assert journal.get(behind.seq).state == TxnState.PENDING.value
