"""The return line end to end with real parts: the demo ILS on loopback (SIP2), the station with
its [returns] room (journal, slot reader, the sorter driver on Modbus TCP) and the sorter PLC
emulated on its own port. Each item ends in the bin its rules choose, judged by the belt's own
bins and the demo ILS's ledger, not by the station's log; a restart checks nothing in twice."""

from __future__ import annotations

import asyncio
from pathlib import Path

from fastapi.testclient import TestClient

from bridge.app import create_app
from bridge.circulation.service import ItemResult
from bridge.returns.line import ReturnLine
from bridge.returns.log import ReturnLog
from bridge.returns.sorting import Carried, Conveyor
from rfid.tags.decoding import encode_tag
from rfid.tags.model import TagValue
from sorter.belt import Belt
from sorter.emulators.modbus_tcp import SorterEmulator
from station_core.profile import Profile, RfidReaderSettings
from station_core.returns_profile import ReturnsSettings
from tests.bridge.circulation.test_kiosk_api import BOOKS, online, sign_in
from tests.bridge.lockers.test_locker_flows import MARIA_HOLDS
from tests.conftest import DemoIls, station_profile, wait_for

BINS = [
    {"bin": 4, "name": "Books", "takes": "media_type", "value": "001"},  # SIP2 CK
    {"bin": 1, "name": "Holds", "takes": "hold"},
    {"bin": 2, "name": "Transit", "takes": "transit"},
    {"bin": 3, "name": "Problems", "takes": "problem"},
    {"bin": 0, "name": "Stacks", "takes": "everything_else"},
]
RETURNS = ReturnsSettings.model_validate({"sorter": {"diverters": 4}, "bins": BINS})
RULES = RETURNS.bins
PASSWORD = "a long staff password"
SEGMENT_S = 0.25


def on_loan(client: TestClient, item: str) -> None:
    """Once the station is online, María borrows `item` at the kiosk."""
    wait_for(lambda: online(client))
    headers = {"X-Kiosk-Session": sign_in(client)["token"]}
    assert client.post("/api/v1/checkout", json={"item_id": item}, headers=headers).json()["ok"]


def tag(item: str, country: str = "US", library: str = "DEMO") -> TagValue:
    return TagValue(item, library, country)


def line_profile(tmp_path: Path, ils_port: int, plc_port: int, **sorter: object) -> Profile:
    base = station_profile(tmp_path, ils_port=ils_port)
    returns = ReturnsSettings.model_validate({
        "reader": "slot", "bins": BINS,
        "sorter": {"driver": "modbus", "url": f"socket://127.0.0.1:{plc_port}", "diverters": 4,
                   "segment_s": SEGMENT_S, **sorter}})
    slot = RfidReaderSettings(id="slot", driver="simulated", role="book_drop")
    return base.model_copy(update={"rfid_readers": [*base.rfid_readers, slot],
                                   "returns": returns})


class Patron:
    """Someone at the slot: an item falls onto the PLC's intake and its tags into the reader's
    field; they leave the field when the intake takes the item (or hands it back)."""

    def __init__(self, belt: Belt, reader: object) -> None:
        self.belt, self.reader, self.uid = belt, reader, 0

    def put(self, name: str, *tags: bytes, secured: bool = True,
            jam_before: int | None = None) -> list[str]:
        self.belt.drop(name, jam_before=jam_before)
        uids = []
        for data in tags:
            self.uid += 1
            uids.append(f"E0040100{self.uid:08X}")
            self.reader.put_tag(uids[-1], data, secured=secured)  # type: ignore[attr-defined]
        return uids

    def gone(self, uids: list[str]) -> None:
        # Gone, and the slot's rollers still again (a real slot's flap opens only then).
        wait_for(lambda: not self.belt.slot_eye() and not self.belt.intake
                 and not self.belt.reject, timeout_s=15)
        for uid in uids:
            self.reader.remove_tag(uid)  # type: ignore[attr-defined]

    def drop(self, name: str, *tags: bytes, secured: bool = True,
             jam_before: int | None = None) -> list[str]:
        uids = self.put(name, *tags, secured=secured, jam_before=jam_before)
        self.gone(uids)
        return uids


def staff(client: TestClient, station: object) -> dict[str, str]:
    station.auth.create_user("desk1", PASSWORD, "desk")  # type: ignore[attr-defined]
    return {"X-CSRF-Token": client.post("/api/v1/staff/login", json={
        "username": "desk1", "password": PASSWORD}).json()["csrf_token"]}


def test_items_through_the_slot_end_in_their_bins(tmp_path: Path, demo_ils: DemoIls) -> None:
    emulator = SorterEmulator(Belt(diverters=4, segment_s=SEGMENT_S, eye_s=0.05)).start()
    belt = emulator.belt
    app = create_app(line_profile(tmp_path, demo_ils.port, emulator.port, reject_path=True))
    try:
        with TestClient(app) as client:
            on_loan(client, BOOKS[0])
            station = app.state.station
            reader = station.device("rfid_reader", "slot")
            patron = Patron(belt, reader)
            patron.drop(BOOKS[0], encode_tag(tag(BOOKS[0])))
            patron.drop(MARIA_HOLDS[0], encode_tag(tag(MARIA_HOLDS[0])))  # trapped: holds
            patron.drop("3100999999", encode_tag(tag("3100999999")))  # unknown to the ILS
            patron.drop("9900001", encode_tag(tag("9900001", "DE", "705")))  # another library's
            patron.drop("unreadable", b"\xff\x00garbage")
            # Two at once: the light curtain sees both; nothing is checked in, nothing moves.
            two = patron.put("two books", encode_tag(tag(BOOKS[1])), encode_tag(tag(BOOKS[2])))
            belt.drop("second book")
            wait_for(lambda: station.returns.paused == "one_at_a_time")
            assert sorted(belt.take_from_slot()) == ["second book", "two books"]
            for uid in two:
                reader.remove_tag(uid)
            wait_for(lambda: not belt.parcels, timeout_s=15)
            assert client.get("/api/v1/staff/returns/bins").status_code == 401  # staff only
            csrf = staff(client, station)
            shown = {b["bin"]: b["items"] for b in client.get("/api/v1/staff/returns/bins").json()}
            assert [i["title"] for i in shown[4]] == ["The Left Hand of Darkness"]
            assert [i["item_id"] for i in shown[3]] == ["3100999999"]
            cart = client.post("/api/v1/staff/returns/bins/3/emptied", headers=csrf).json()
            assert [i["item_id"] for i in cart["taken"]] == ["3100999999"]
            after = {b["bin"]: b["items"] for b in client.get("/api/v1/staff/returns/bins").json()}
            assert after[3] == [] and len(after[4]) == 1
            assert client.post("/api/v1/staff/returns/bins/9/emptied", headers=csrf
                               ).status_code == 404
    finally:
        emulator.close()
    assert belt.bins[4] == [BOOKS[0]] and belt.bins[1] == [MARIA_HOLDS[0]] and belt.bins[0] == []
    assert belt.bins[3] == ["3100999999"]
    assert belt.rejected == ["9900001", "unreadable"]  # handed back through the reject path
    # The ILS's own record: the book and the hold were checked in, once each; nothing else.
    checkins = [r["item"] for r in demo_ils.records() if r["op"] == "checkin"]
    assert sorted(c for c in checkins if c in (BOOKS[0], MARIA_HOLDS[0])) == \
        sorted([BOOKS[0], MARIA_HOLDS[0]])
    assert not {"9900001", BOOKS[1], BOOKS[2]} & set(checkins)


def test_the_returned_items_security_is_set(tmp_path: Path, demo_ils: DemoIls) -> None:
    emulator = SorterEmulator(Belt(diverters=4, segment_s=SEGMENT_S, eye_s=0.05)).start()
    app = create_app(line_profile(tmp_path, demo_ils.port, emulator.port))
    try:
        with TestClient(app) as client:
            on_loan(client, BOOKS[3])
            reader = app.state.station.device("rfid_reader", "slot")
            patron = Patron(emulator.belt, reader)
            uids = patron.put(BOOKS[3], encode_tag(tag(BOOKS[3])), secured=False)
            wait_for(lambda: not emulator.belt.slot_eye(), timeout_s=15)
            assert reader.tags[uids[0]].secured is True  # read before it leaves the field
    finally:
        emulator.close()


def test_a_restart_checks_in_nothing_twice(tmp_path: Path, demo_ils: DemoIls) -> None:
    """An item taken while its bin was full waits in the slot across a restart and then goes on
    to that bin; an item on the belt at the restart is drained, not checked in again."""
    emulator = SorterEmulator(Belt(diverters=4, segment_s=SEGMENT_S, eye_s=0.05)).start()
    belt = emulator.belt
    profile = line_profile(tmp_path, demo_ils.port, emulator.port)
    try:
        app = create_app(profile)
        with TestClient(app) as client:
            on_loan(client, BOOKS[4])
            on_loan(client, BOOKS[5])
            station = app.state.station
            patron = Patron(belt, station.device("rfid_reader", "slot"))
            patron.drop(BOOKS[4], encode_tag(tag(BOOKS[4])), jam_before=3)  # it sticks
            wait_for(lambda: station.returns.conveyor.state == "jammed", timeout_s=15)
            belt.full_forced.add(4)  # the books bin is full too
            patron.put(BOOKS[5], encode_tag(tag(BOOKS[5])))
            wait_for(lambda: any(r["op"] == "checkin" and r["item"] == BOOKS[5]
                                 for r in demo_ils.records()))
        # The station stopped: BOOKS[5] waits in the slot (taken, its bin full), BOOKS[4] is on
        # the belt behind a jam. Staff clear the jam and empty the bin; the station starts again.
        belt.clear_jam()
        belt.empty(4)
        app = create_app(profile)
        reader = app.state.station.device("rfid_reader", "slot")
        reader.put_tag("E004010000000099", encode_tag(tag(BOOKS[5])))  # still in the field
        with TestClient(app) as client:
            station = app.state.station
            wait_for(lambda: not belt.slot_eye(), timeout_s=15)
            reader.remove_tag("E004010000000099")
            wait_for(lambda: BOOKS[5] in belt.bins[4], timeout_s=15)
            wait_for(lambda: not belt.parcels, timeout_s=15)
            csrf = staff(client, station)
            shown = {b["bin"]: [i["item_id"] for i in b["items"]]
                     for b in client.get("/api/v1/staff/returns/bins", headers=csrf).json()}
    finally:
        emulator.close()
    assert BOOKS[4] in shown[3]  # drained: staff see it under problems, where to look
    assert shown[4] == [BOOKS[5]]
    checkins = [r["item"] for r in demo_ils.records() if r["op"] == "checkin"]
    assert checkins.count(BOOKS[4]) == 1 and checkins.count(BOOKS[5]) == 1


def test_a_hold_for_another_branch_travels_first(tmp_path: Path) -> None:
    """Trapped for a patron who picks it up at WEST: the transit bin, not this hold shelf."""
    from bridge.db.engine import open_database
    from sorter.simulator import SimulatedSorter

    class Parked(Conveyor):
        async def admit(self, item: Carried) -> bool:
            return True

    async def take(pickup: str) -> int:
        log = ReturnLog(open_database(f"sqlite:///{tmp_path / pickup}.sqlite"))

        async def check_in(item: str) -> ItemResult:
            return ItemResult(item, True, hold_pickup=pickup)

        async def read_slot() -> list[tuple[str, TagValue | None]]:
            return [("E0", tag("3100007001"))]

        line = ReturnLine(read_slot=read_slot, check_in=check_in, rules=RULES, country="US",
                          library="DEMO", location="LOCKERS1", log=log,
                          conveyor=Parked(SimulatedSorter(diverters=3), segment_s=0.1))
        taken = await line.take()
        assert taken.decision is not None
        return taken.decision.bin

    assert asyncio.run(take("LOCKERS1")) == 1 and asyncio.run(take("WEST")) == 2
