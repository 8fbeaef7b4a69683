"""The RFID pad at a kiosk against the demo ILS: a stack checked out with a kit missing a part and
a tag that refuses its security write; a return with a hold trap."""

from __future__ import annotations

import time
from pathlib import Path

from fastapi.testclient import TestClient

from bridge.app import create_app
from rfid.tags import iso28560_3
from rfid.tags.model import TagValue
from tests.bridge.circulation.test_kiosk_api import BOOKS, MARIA, MARIA_PIN, online, sign_in
from tests.conftest import DemoIls, station_profile, wait_for

KIT = "3100004001"  # laptop + charger: parts=2
HELD_FOR_FRANCOIS = "3100007003"


def tag(item: str, parts: int = 1, part: int = 1) -> bytes:
    return iso28560_3.encode(TagValue(item, "CPP", "US", parts, part))


def pad_items(client: TestClient, headers: dict | None = None) -> dict[str, dict]:
    """The pad's items; during a checkout only the patron's own session may look."""
    return {i["item_id"]: i for i in client.get("/api/v1/pad", headers=headers).json()["items"]}


def test_stack_checkout_with_a_missing_part_and_a_failed_marker(tmp_path: Path, demo_ils: DemoIls) -> None:
    app = create_app(station_profile(tmp_path, ils_port=demo_ils.port))
    with TestClient(app) as client:
        wait_for(lambda: online(client))
        reader = app.state.station.device("rfid_reader", "pad")
        headers = {"X-Kiosk-Session": sign_in(client, MARIA, MARIA_PIN)["token"]}
        assert client.post("/api/v1/pad/checkout", headers=headers).json()["mode"] == "checkout"
        books = [*BOOKS, "3100002009"]  # nine books
        for n, item in enumerate(books):
            reader.put_tag(f"E0040000000000{n:02d}", tag(item), secured=True)
        reader.tags["E004000000000008"].write_fails = True  # the ninth book's tag
        reader.put_tag("E0040000000000K1", tag(KIT, 2, 1), secured=True)  # the charger is missing
        wait_for(lambda: sum(i["status"] not in ("processing",)
                             for i in pad_items(client, headers).values()) == 10)
        items = pad_items(client, headers)
        done = sorted(i for i, v in items.items() if v["status"] == "done")
        assert done == sorted(books[:8])
        assert all(items[b]["due_date"] for b in done)
        assert items[KIT]["status"] == "incomplete" and items[KIT]["missing"] == [2]
        assert items[KIT]["message"].startswith("Part 2 of 2 missing")
        # The tag holds no title; the station asks the ILS, so the patron sees which set it is.
        wait_for(lambda: pad_items(client, headers)[KIT]["title"] != "")
        assert pad_items(client, headers)[KIT]["title"] == "Laptop kit: Dell Latitude 5440 + charger"
        assert items[books[8]]["status"] == "see_staff"
        # Markers: every checked-out book disarmed; the failed one and the kit still armed.
        for n in range(8):
            assert reader.tags[f"E0040000000000{n:02d}"].secured is False
        assert reader.tags["E004000000000008"].secured is True
        assert reader.tags["E0040000000000K1"].secured is True

        reader.put_tag("E0040000000000K2", tag(KIT, 2, 2), secured=True)  # the charger arrives
        wait_for(lambda: pad_items(client, headers)[KIT]["status"] == "done")
        assert reader.tags["E0040000000000K1"].secured is False
        assert reader.tags["E0040000000000K2"].secured is False

        assert client.delete("/api/v1/sessions/current", headers=headers).status_code == 204
        assert client.get("/api/v1/pad").json()["mode"] == "idle"
    ledger = [(r["op"], r["item"], r["ok"]) for r in demo_ils.records()]
    assert sorted(x for x in ledger if x[0] == "checkout") == sorted(
        [("checkout", b, True) for b in books] + [("checkout", KIT, True)])
    # The failed marker's checkout was undone: checked back in, never left checked out.
    assert ledger.count(("checkin", books[8], True)) == 1
    assert [x for x in ledger if x[0] == "checkin"] == [("checkin", books[8], True)]


def test_return_with_a_hold_trap_and_unreadable_tag(tmp_path: Path, demo_ils: DemoIls) -> None:
    app = create_app(station_profile(tmp_path, ils_port=demo_ils.port))
    with TestClient(app) as client:
        wait_for(lambda: online(client))
        reader = app.state.station.device("rfid_reader", "pad")
        assert client.post("/api/v1/pad/return").json()["mode"] == "return"
        reader.put_tag("E00400000000AA01", tag(HELD_FOR_FRANCOIS), secured=False)
        reader.put_tag("E00400000000AA02", tag("3100008002"), secured=False)  # another branch's
        reader.put_tag("E00400000000AA03", b"\xde\xad\xbe\xef" * 9, secured=False)  # corrupt data
        wait_for(lambda: {i["status"] for i in pad_items(client).values()} <= {"done", "unreadable"}
                 and len(pad_items(client)) == 3)
        items = pad_items(client)
        held = items[HELD_FOR_FRANCOIS]
        assert held["hold_pickup"] == "LOCKERS1" and "holds bin" in held["message"]
        assert items["3100008002"]["in_transit_to"] == "SCIENCE"
        assert items["tag:E00400000000AA03"]["status"] == "unreadable"
        assert "scan its barcode" in items["tag:E00400000000AA03"]["message"]
        assert reader.tags["E00400000000AA01"].secured is True  # returned items are armed
        assert reader.tags["E00400000000AA02"].secured is True


def test_items_just_borrowed_are_never_returned_by_the_next_patron(tmp_path: Path,
                                                                   demo_ils: DemoIls) -> None:
    app = create_app(station_profile(tmp_path, ils_port=demo_ils.port))
    with TestClient(app) as client:
        wait_for(lambda: online(client))
        reader = app.state.station.device("rfid_reader", "pad")
        headers = {"X-Kiosk-Session": sign_in(client, MARIA, MARIA_PIN)["token"]}
        client.post("/api/v1/pad/checkout", headers=headers)
        reader.put_tag("E004000000000B01", tag(BOOKS[0]))
        wait_for(lambda: pad_items(client, headers).get(BOOKS[0], {}).get("status") == "done")
        client.delete("/api/v1/sessions/current", headers=headers)
        # The next patron starts a return while the borrowed book is still on the pad...
        client.post("/api/v1/pad/return")
        reader.put_tag("E004000000000B02", tag(BOOKS[1]), secured=False)
        wait_for(lambda: pad_items(client, headers).get(BOOKS[1], {}).get("status") == "done")
        assert BOOKS[0] not in pad_items(client, headers)  # ...and it is not returned
        reader.remove_tag("E004000000000B01")  # the borrower walks away
        time.sleep(1.5)
        assert BOOKS[0] not in pad_items(client, headers)
    checkins = [r["item"] for r in demo_ils.records() if r["op"] == "checkin"]
    assert checkins == [BOOKS[1]]
