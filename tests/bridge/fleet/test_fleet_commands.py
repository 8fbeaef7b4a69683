"""What the hub may ask of a station, run by the station's own command handlers against a real
station (simulated bank, demo ILS): the hub's desk reclaims an expired hold and re-queues or
resolves a queue exception exactly as the station's desk does, audited with the hub user; a door
is never opened from the hub without a reason; an unknown door or exception is refused."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import Session, col, select

from bridge.db.models import AuditEntry, LockerDoor, TxnKind, TxnMode
from bridge.fleet.commands import handlers
from bridge.local_time import utcnow
from bridge.lockers.bank_core import LockerError
from bridge.station import Station
from tests.bridge.lockers.test_locker_flows import FRANCOIS_HOLD, bank, door, inbox  # noqa: F401
from tests.conftest import DemoIls, wait_for


def audit(station: Station, action: str) -> list[tuple[str, str]]:
    with Session(station.engine) as db:
        return [(a.actor, a.target) for a in db.exec(
            select(AuditEntry).where(AuditEntry.action == action).order_by(col(AuditEntry.id)))]


def test_the_hubs_commands_do_what_the_desk_does(bank, demo_ils: DemoIls) -> None:  # noqa: F811
    client, station, _csrf = bank
    run = handlers(station)
    loaded = client.portal.call(run["load_hold"], {"item_id": FRANCOIS_HOLD}, "hub:desk9")
    assert loaded["outcome"] == "opened"
    where = loaded["door"]
    station.device("lock_board", "A").close_door(int(where[1:]))
    wait_for(lambda: door(client, where)["state"] == "loaded")
    with Session(station.engine) as db:  # the hold ran out uncollected
        row = db.get(LockerDoor, where)
        row.expires_at = utcnow() - timedelta(minutes=1)
        db.add(row)
        db.commit()
    client.portal.call(station.lockers.check_expiry)
    assert door(client, where)["state"] == "expired"

    reclaimed = client.portal.call(run["reclaim_expired"], {"door": where}, "hub:desk9")
    assert reclaimed["checked_in"] == [FRANCOIS_HOLD] and door(client, where)["state"] == "free"
    assert [r["op"] for r in demo_ils.records() if r["item"] == FRANCOIS_HOLD] == ["checkin",
                                                                                  "checkin"]
    assert ("hub:desk9", where) in audit(station, "reclaim")

    with pytest.raises(ValueError, match="needs a reason"):
        client.portal.call(run["open_door"], {"door": "A02", "reason": "  "}, "hub:desk9")
    with pytest.raises(LockerError, match="A99"):
        client.portal.call(run["open_door"], {"door": "A99", "reason": "check"}, "hub:desk9")

    # A queue exception: sent again from the hub, then (refused again) resolved with a note.
    txn = station.journal.record(TxnKind.CHECKIN, TxnMode.OFFLINE, patron_id=None,
                                 item_id="NO-SUCH-ITEM", location="K")
    first = station.journal.to_exception(txn.seq, "Item not found")
    requeued = client.portal.call(run["retry_exception"], {"exception_id": first.id}, "hub:desk9")
    assert requeued == {"requeued": txn.txn_id}
    assert station.journal.get(txn.seq).state == "pending" and station.journal.exceptions() == []
    again = station.journal.to_exception(txn.seq, "Item not found")
    with pytest.raises(ValueError, match="needs a note"):
        client.portal.call(run["resolve_exception"], {"exception_id": again.id}, "hub:desk9")
    client.portal.call(run["resolve_exception"],
                       {"exception_id": again.id, "note": "barcode misread; fixed"}, "hub:desk9")
    assert station.journal.get(txn.seq).state == "resolved"
    assert ("hub:desk9", f"exception {first.id}") in audit(station, "exception_retry")
    assert ("hub:desk9", f"exception {again.id}") in audit(station, "exception_resolved")
    with pytest.raises(KeyError):
        client.portal.call(run["resolve_exception"], {"exception_id": again.id, "note": "twice"},
                           "hub:desk9")
