"""What the return line keeps about items, and for how long: a bin's items until staff empty it,
then only the privacy setting's days (the statistics are counters); what is still in the slot or on
the belt is never purged."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from bridge.app import create_app
from bridge.db.engine import open_database
from bridge.db.models import ReturnedItem
from bridge.local_time import utcnow
from bridge.returns.log import ReturnLog
from station_core.profile import RfidReaderSettings
from tests.bridge.returns.test_return_room import RETURNS
from tests.conftest import station_profile, wait_for


def test_only_what_is_still_needed_is_kept(tmp_path: Path) -> None:
    log = ReturnLog(open_database(f"sqlite:///{tmp_path / 'station.db'}"))
    log.sorted_into(0, "3100002000", "Kindred", "no other rule applies")  # in bin 0 now
    emptied = log.begin("3100002001")
    log.decided(emptied, title="Beloved", bin_k=1, why="a hold", kind="hold")
    log.sorted(emptied)
    log.emptied(1)  # went to the cart
    handed_back = log.begin("9900001")
    log.rejected(handed_back)
    in_slot = log.begin("3100002002")  # its check-in under way
    assert log.purge(utcnow() + timedelta(seconds=1)) == 2  # the cart's and the handed-back
    with Session(log.engine) as session:
        left = {row.item_id for row in session.exec(select(ReturnedItem))}
    assert left == {"3100002000", "3100002002"} and in_slot
    assert [i["item_id"] for b in log.bins(RETURNS.bins) for i in b["items"]] == ["3100002000"]
    assert log.purge(utcnow() - timedelta(days=1)) == 0  # nothing that recent is purged


def test_the_station_purges_emptied_bins_as_it_runs(tmp_path: Path) -> None:
    base = station_profile(tmp_path, ils_port=1)
    slot = RfidReaderSettings(id="slot", driver="simulated", role="book_drop")
    profile = base.model_copy(update={"rfid_readers": [*base.rfid_readers, slot],
                                      "returns": RETURNS})
    app = create_app(profile)
    with TestClient(app):
        log = app.state.station.returns_log
        log.sorted_into(1, "3100002001", "Beloved", "a hold")
        log.emptied(1)
    def rows() -> list[ReturnedItem]:
        with Session(log.engine) as session:
            return list(session.exec(select(ReturnedItem)))

    assert len(rows()) == 1
    with TestClient(create_app(profile)):  # the next start's first round (retention 0 days)
        wait_for(lambda: rows() == [])
