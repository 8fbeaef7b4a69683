"""The return line end to end with real parts: the demo ILS on loopback (SIP2), the station's own
circulation (journal), and the sorter PLC emulated on Modbus TCP. Each item ends in the bin its
rules choose, judged by the demo ILS's answers in its ledger, not by the station's log."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from bridge.app import create_app
from bridge.returns.line import ReturnLine
from bridge.returns.sorting import SortController, Sorted
from rfid.tags.model import TagValue
from sorter.belt import Belt
from sorter.drivers.modbus import ModbusSorter
from sorter.emulators.modbus_tcp import SorterEmulator
from station_core.returns_profile import ReturnsSettings
from tests.bridge.circulation.test_kiosk_api import BOOKS, online, sign_in
from tests.bridge.lockers.test_locker_flows import MARIA_HOLDS
from tests.conftest import DemoIls, station_profile, wait_for

RETURNS = ReturnsSettings.model_validate({"sorter": {"diverters": 4}, "bins": [
    {"bin": 4, "name": "Books", "takes": "media_type", "value": "001"},  # SIP2 CK
    {"bin": 1, "name": "Holds", "takes": "hold"},
    {"bin": 2, "name": "Transit", "takes": "transit"},
    {"bin": 3, "name": "Problems", "takes": "problem"},
    {"bin": 0, "name": "Stacks", "takes": "everything_else"},
]})
RULES = RETURNS.bins
PASSWORD = "a long staff password"


def on_loan(client: TestClient, item: str) -> None:
    """Once the station is online, María borrows `item` at the kiosk."""
    wait_for(lambda: online(client))
    headers = {"X-Kiosk-Session": sign_in(client)["token"]}
    assert client.post("/api/v1/checkout", json={"item_id": item}, headers=headers).json()["ok"]


def tag(item: str, country: str = "US", library: str = "DEMO") -> TagValue:
    return TagValue(item, library, country)


def test_items_through_the_slot_end_in_their_bins(tmp_path: Path, demo_ils: DemoIls) -> None:
    emulator = SorterEmulator(Belt(diverters=4, segment_s=0.15, eye_s=0.04)).start()
    app = create_app(station_profile(tmp_path, ils_port=demo_ils.port,
                                     returns={"bins": RULES, "sorter": RETURNS.sorter}))
    try:
        with TestClient(app) as client:
            on_loan(client, BOOKS[0])
            station = app.state.station
            driver = ModbusSorter(url=f"socket://127.0.0.1:{emulator.port}", diverters=4)
            client.portal.call(driver.open)
            slot: list[list[TagValue | None]] = []

            async def read_slot() -> list[TagValue | None]:
                return slot.pop(0)

            line = ReturnLine(read_slot=read_slot,
                              check_in=lambda item: station.circulation.checkin(item, "returns"),
                              controller=SortController(driver, segment_s=0.15), rules=RULES,
                              country="US", library="DEMO", location="LOCKERS1",
                              log=station.returns_log)
            dropped = [
                ([tag(BOOKS[0])], BOOKS[0]),  # on loan, a book (the ILS's media type): books
                ([tag(MARIA_HOLDS[0])], MARIA_HOLDS[0]),  # trapped for María: holds
                ([tag("3100999999")], "3100999999"),  # the ILS knows it not: problems
                ([tag("9900001", "DE", "705")], "9900001"),  # another library's: problems
                ([None], "unreadable"),
            ]
            taken = []
            for tags, name in dropped:
                slot.append(tags)
                emulator.belt.drop(name)
                taken.append(client.portal.call(line.take))
            slot.append([tag(BOOKS[1]), tag(BOOKS[2])])  # two at once: nothing moves
            two = client.portal.call(line.take)
            client.portal.call(driver.close)
            assert client.get("/api/v1/staff/returns/bins").status_code == 401  # staff only
            station.auth.create_user("desk1", PASSWORD, "desk")
            csrf = {"X-CSRF-Token": client.post("/api/v1/staff/login", json={
                "username": "desk1", "password": PASSWORD}).json()["csrf_token"]}
            shown = {b["bin"]: b["items"] for b in client.get("/api/v1/staff/returns/bins").json()}
            assert [i["title"] for i in shown[4]] == ["The Left Hand of Darkness"]
            assert len(shown[3]) == 3 and shown[2] == []
            cart = client.post("/api/v1/staff/returns/bins/3/emptied", headers=csrf).json()
            assert [i["item_id"] for i in cart["taken"]] == ["3100999999", "9900001", ""]
            after = {b["bin"]: b["items"] for b in client.get("/api/v1/staff/returns/bins").json()}
            assert after[3] == [] and len(after[4]) == 1
            assert client.post("/api/v1/staff/returns/bins/9/emptied", headers=csrf
                               ).status_code == 404
    finally:
        emulator.close()
    assert all(t.sorted is not None and t.sorted.result is Sorted.SORTED for t in taken), taken
    assert two.one_at_a_time and two.sorted is None
    bins = emulator.belt.bins
    assert bins[4] == [BOOKS[0]] and bins[1] == [MARIA_HOLDS[0]] and bins[0] == []
    assert bins[3] == ["3100999999", "9900001", "unreadable"]
    # The ILS's own record: the book and the hold were checked in, once each; nothing else.
    checkins = [r["item"] for r in demo_ils.records() if r["op"] == "checkin"]
    assert sorted(c for c in checkins if c in (BOOKS[0], MARIA_HOLDS[0])) == \
        sorted([BOOKS[0], MARIA_HOLDS[0]])
    assert "9900001" not in checkins


def test_a_hold_for_another_branch_travels_first() -> None:
    """Trapped for a patron who picks it up at WEST: the transit bin, not this hold shelf."""
    import asyncio

    from bridge.circulation.service import ItemResult
    from bridge.returns.sorting import SortOutcome
    from sorter.simulator import SimulatedSorter

    class Parked(SortController):
        async def sort(self, bin_k: int) -> SortOutcome:
            return SortOutcome(Sorted.SORTED, bin_k)

    async def take(pickup: str) -> int:
        async def check_in(item: str) -> ItemResult:
            return ItemResult(item, True, hold_pickup=pickup)

        async def read_slot() -> list[TagValue | None]:
            return [tag("3100007001")]

        line = ReturnLine(read_slot=read_slot, check_in=check_in, rules=RULES, country="US",
                          library="DEMO", location="LOCKERS1",
                          controller=Parked(SimulatedSorter(diverters=3), segment_s=0.1))
        taken = await line.take()
        assert taken.decision is not None
        return taken.decision.bin

    assert asyncio.run(take("LOCKERS1")) == 1 and asyncio.run(take("WEST")) == 2
