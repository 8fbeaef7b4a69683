"""A UHF site end to end through LLRP test readers speaking real LLRP to the station's driver:
technical services program a factory tag at the desk pad (ISO 28560-4, AFI in the PC word), then a
patron checks the book out at the kiosk pad, which clears the AFI on the tag itself, and returns it,
which sets it again."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from bridge.app import create_app
from rfid.emulators.llrp import TestLlrpReader
from rfid.tags.decoding import decode_tag
from station_core.profile import RfidReaderSettings
from tests.bridge.circulation.test_kiosk_api import BOOKS, MARIA, MARIA_PIN, online, sign_in
from tests.bridge.circulation.test_pad_flows import pad_items
from tests.bridge.tags.test_tag_programming import log_in
from tests.conftest import DemoIls, station_profile, wait_for

FACTORY_EPC = "E2801160600002054E5A1234"
AFI_ON_SHELF, AFI_ON_LOAN = 0x07, 0xC2


@pytest.fixture
def uhf_readers() -> Iterator[tuple[TestLlrpReader, TestLlrpReader]]:
    desk, kiosk = (TestLlrpReader(report_interval_s=0.05).start() for _ in range(2))
    yield desk, kiosk
    desk.close()
    kiosk.close()


def test_a_uhf_book_is_programmed_then_checked_out_and_returned(
        tmp_path: Path, demo_ils: DemoIls, uhf_readers) -> None:
    desk, kiosk = uhf_readers
    uhf = {"driver": "llrp", "host": "127.0.0.1", "tag_scheme": "28560-4",
           "options": {"security": "pc-afi"}}
    profile = station_profile(tmp_path, ils_port=demo_ils.port).model_copy(update={"rfid_readers": [
        RfidReaderSettings(id="pad", port=kiosk.port, role="both", **uhf),
        RfidReaderSettings(id="techpad", port=desk.port, role="programming", **uhf)]})
    app = create_app(profile)
    with TestClient(app) as client:
        wait_for(lambda: online(client))
        tag = desk.put(FACTORY_EPC)
        csrf = log_in(client, "cataloguer1")
        wait_for(lambda: [t["finding"] for t in
                          client.get("/api/v1/staff/tags/pad").json()] == ["blank"])
        done = client.post("/api/v1/staff/tags/program", json={"item_id": BOOKS[0]},
                           headers=csrf).json()
        assert done["done"], done
        assert decode_tag(tag.epc, "28560-4").item_id == BOOKS[0]
        assert done["tags"][0]["uid"] == tag.epc.hex().upper()
        assert tag.pc & 0xFF == AFI_ON_SHELF
        del desk.field[bytes.fromhex(FACTORY_EPC)]

        headers = {"X-Kiosk-Session": sign_in(client, MARIA, MARIA_PIN)["token"]}
        client.post("/api/v1/pad/checkout", headers=headers)
        kiosk.field[tag.epc] = tag  # the same chip, now on the kiosk's pad
        wait_for(lambda: pad_items(client, headers).get(BOOKS[0], {}).get("status") == "done")
        assert tag.pc & 0xFF == AFI_ON_LOAN  # written on the tag, not only in the ILS
        client.delete("/api/v1/sessions/current", headers=headers)
        kiosk.field.clear()  # the patron takes the book away...
        wait_for(lambda: client.get("/api/v1/pad").json()["tags_on_pad"] == 0)

        client.post("/api/v1/pad/return")  # ...and brings it back
        kiosk.field[tag.epc] = tag
        wait_for(lambda: pad_items(client).get(BOOKS[0], {}).get("status") == "done")
        assert tag.pc & 0xFF == AFI_ON_SHELF
    ops = [(r["op"], r["item"]) for r in demo_ils.records() if r["item"] == BOOKS[0]]
    assert ("checkout", BOOKS[0]) in ops and ops[-1] == ("checkin", BOOKS[0])
