"""The book drop's troubles reach the hub as alerts through the existing rules: the station's
own events for a jam, a full bin and the emergency stop (as its outbox forwards them, nothing
else) go into a real PostgreSQL hub, which alerts by email and resolves when the belt runs again.
No barcode travels with them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from bridge.app import create_app
from bridge.fleet.outbox import for_hub
from hub.alerts import evaluate
from hub.profile import AlertSettings
from rfid.tags.decoding import encode_tag
from rfid.tags.model import TagValue
from station_core.profile import RfidReaderSettings
from tests.bridge.circulation.test_kiosk_api import BOOKS
from tests.bridge.returns.test_return_room import RETURNS
from tests.conftest import station_profile, wait_for
from tests.hub.test_alerts import enrolled, fleet_alerts, push, sinks  # noqa: F401


def test_a_jam_a_full_bin_and_the_emergency_stop_alert_at_the_hub(
        tmp_path: Path, hub_engine: Engine, sinks) -> None:  # noqa: F811
    inbox, smtp_port, _hook, _url = sinks
    base = station_profile(tmp_path, ils_port=1)  # no ILS: items are queued, sorted locally
    slot = RfidReaderSettings(id="slot", driver="simulated", role="book_drop")
    app = create_app(base.model_copy(update={"rfid_readers": [*base.rfid_readers, slot],
                                             "returns": RETURNS}))
    forwarded: list[tuple[str, dict]] = []
    with TestClient(app) as _client:
        station = app.state.station
        station.bus.tap(lambda e: (p := for_hub(e)) is not None and
                        forwarded.append((e["type"], p)))
        belt, reader = station.returns_sorter.belt, station.device("rfid_reader", "slot")
        conveyor = station.returns.conveyor
        belt.drop(BOOKS[0], jam_before=2)
        reader.put_tag("E0040100000000C1", encode_tag(TagValue(BOOKS[0], "DEMO", "US")))
        wait_for(lambda: conveyor.state == "jammed", timeout_s=10)
        jammed = list(forwarded)
        belt.clear_jam()
        conveyor.resume()
        wait_for(lambda: belt.bins[0] == [BOOKS[0]], timeout_s=10)
        reader.remove_tag("E0040100000000C1")
        belt.full_forced.add(0)  # the end of the belt's bin is full: the next item waits
        belt.drop(BOOKS[1])
        reader.put_tag("E0040100000000C2", encode_tag(TagValue(BOOKS[1], "DEMO", "US")))
        wait_for(lambda: conveyor.state == "bin_full", timeout_s=10)
        belt.empty(0)
        wait_for(lambda: belt.bins[0] == [BOOKS[1]], timeout_s=10)
        belt.press_emergency_stop()
        wait_for(lambda: conveyor.state == "stopped", timeout_s=10)
        belt.press_emergency_stop(False)
        conveyor.resume()
        wait_for(lambda: conveyor.state in ("idle", "running"), timeout_s=10)
        cleared = list(forwarded)
    sorter_states = [p["state"] for kind, p in cleared if kind == "device" and p["id"] == "sorter"]
    assert {"jammed", "bin_full", "emergency_stop"} <= set(sorter_states)
    assert sorter_states[-1] == "ok"
    assert not any(b in str(p) for _k, p in cleared for b in BOOKS)  # no barcode leaves
    rules = AlertSettings(email_to=["desk@library.example.edu"], smtp_port=smtp_port)
    enrolled(hub_engine, "book-drop")
    t0 = datetime.now(UTC)
    push(hub_engine, "book-drop", t0, *jammed)
    evaluate(hub_engine, rules, t0 + timedelta(seconds=5))
    assert any("sorter:sorter is jammed" in s and "diverter 2" in s for s in inbox.subjects), \
        inbox.subjects
    push(hub_engine, "book-drop", t0 + timedelta(seconds=30), *cleared[len(jammed):])
    evaluate(hub_engine, rules, t0 + timedelta(seconds=35))
    sorter = [a for a in fleet_alerts(hub_engine) if "sorter" in a["message"]]
    assert sorter and all(a["resolved_at"] for a in sorter)
