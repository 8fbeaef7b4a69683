"""The book drop in the statistics: what went through the slot, per bin and problems by kind, on
the console's Statistics page and in the monthly report (read back with pdftotext) - counted by
the line as it takes items, never naming an item or a patron."""

from __future__ import annotations

import subprocess
from datetime import date
from pathlib import Path

from fastapi.testclient import TestClient

from bridge.app import create_app
from bridge.reports.monthly_report import Month
from rfid.tags.decoding import encode_tag
from rfid.tags.model import TagValue
from station_core.profile import RfidReaderSettings
from tests.bridge.lockers.test_locker_flows import MARIA_HOLDS
from tests.bridge.returns.test_return_line import PASSWORD
from tests.bridge.returns.test_return_room import RETURNS
from tests.conftest import DemoIls, station_profile, wait_for


def test_the_book_drop_in_statistics_and_the_monthly_report(tmp_path: Path, demo_ils: DemoIls,
                                                            artifacts: Path) -> None:
    base = station_profile(tmp_path, ils_port=demo_ils.port)
    slot = RfidReaderSettings(id="slot", driver="simulated", role="book_drop")
    app = create_app(base.model_copy(update={"rfid_readers": [*base.rfid_readers, slot],
                                             "returns": RETURNS}))
    month = Month(date.today().year, date.today().month)
    with TestClient(app) as client:
        station = app.state.station
        wait_for(lambda: station.link.online)
        belt, reader = station.returns_sorter.belt, station.device("rfid_reader", "slot")
        for n, item in enumerate((MARIA_HOLDS[0], "3100999999")):  # a hold; unknown to the ILS
            belt.drop(item)
            reader.put_tag(f"E00401000000D{n}", encode_tag(TagValue(item, "DEMO", "US")))
            wait_for(lambda: not belt.slot_eye() and not belt.intake, timeout_s=10)
            reader.remove_tag(f"E00401000000D{n}")
        wait_for(lambda: not belt.parcels, timeout_s=10)
        station.auth.create_user("desk1", PASSWORD, "desk")
        client.post("/api/v1/staff/login", json={"username": "desk1", "password": PASSWORD})
        page = client.get("/console/stats").text
        pdf = client.get(f"/console/reports/monthly.pdf?month={month.key}").content
    assert 'id="book-drop"' in page and "Holds</td><td>1</td>" in page
    assert "Refused by the ILS</td><td>1</td>" in page
    saved = artifacts / "monthly-report-book-drop.pdf"
    saved.write_bytes(pdf)
    text = subprocess.run(["pdftotext", "-layout", str(saved), "-"], capture_output=True,
                          text=True, check=True).stdout
    lines = {" ".join(line.split()[:-1]): line.split()[-1] for line in text.splitlines()
             if len(line.split()) > 1}
    assert lines["Returned through the book drop"] == "2"
    assert lines["Book drop into Holds"] == "1" and lines["Book drop into Problems"] == "1"
    assert lines["Book drop problem: Refused by the ILS"] == "1"
    for secret in (*MARIA_HOLDS, "3100999999"):
        assert secret not in text and secret not in page
