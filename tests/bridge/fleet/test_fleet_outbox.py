"""The station's outbox for the hub and its command runner, without a hub: what is kept (only
the fields the hub may see, every one of them, in order), and a command delivered twice, even
across a restart, running once."""

from __future__ import annotations

import asyncio
from pathlib import Path

from bridge.db.engine import open_database
from bridge.events import EventBus
from bridge.fleet.link import FleetLink, store_token
from bridge.fleet.outbox import Outbox
from station_core.profile import HubLinkSettings


def test_the_outbox_keeps_every_forwarded_event_and_nothing_personal(tmp_path: Path) -> None:
    engine = open_database(f"sqlite:///{tmp_path / 'station.db'}")
    bus, outbox = EventBus(), Outbox(engine)
    bus.tap(outbox.record)
    bus.publish("card", uid="04A1B2C3D4", reader="campus")  # a card UID never travels
    bus.publish("checkout", item_id="3100002000", ok=True, offline=False, patron="2900000001")
    bus.publish("locker", door_id="A01", state="loaded", initials="MG")
    bus.publish("pad_item", item_id="3100002000", title="A book")
    for n in range(300):  # far more than a slow WebSocket subscriber's queue would keep
        bus.publish("queue", sent=n, exceptions=0, pending=300 - n)
    pending = outbox.pending(limit=1000)
    assert [e["kind"] for e in pending[:2]] == ["checkout", "locker"]
    assert pending[0]["payload"] == {"ok": True, "offline": False}
    assert pending[1]["payload"] == {"door_id": "A01", "state": "loaded", "initials": "MG"}
    assert len(pending) == 302 and [e["seq"] for e in pending] == sorted(e["seq"] for e in pending)
    outbox.acknowledged(pending[99]["seq"])
    assert outbox.depth() == 202 and outbox.pending()[0]["seq"] == pending[100]["seq"]


async def test_a_command_delivered_twice_runs_once_even_after_a_restart(tmp_path: Path) -> None:
    engine = open_database(f"sqlite:///{tmp_path / 'station.db'}")
    opened: list[tuple[str, str]] = []

    async def open_door(args: dict, actor: str) -> dict:
        opened.append((args["door"], actor))
        return {"door": args["door"], "outcome": "opened"}

    def link() -> FleetLink:
        return FleetLink(HubLinkSettings(url="http://127.0.0.1:9"), engine, Outbox(engine),
                         {"open_door": open_door})

    command = {"id": 7, "kind": "open_door", "args": {"door": "B05", "reason": "jam"}, "by": "desk1"}
    first = await link().run_once(command)
    again = await link().run_once(command)  # the hub did not hear the result and sends it again
    assert first == {"ok": True, "result": {"door": "B05", "outcome": "opened"}}
    assert again["ok"] and opened == [("B05", "hub:desk1")]
    refused = await link().run_once({"id": 8, "kind": "format_disk", "args": {}, "by": "x"})
    assert not refused["ok"] and "does not do format_disk" in refused["result"]["error"]


async def test_nothing_is_kept_for_the_hub_until_the_station_is_enrolled(tmp_path: Path) -> None:
    """A profile names a hub but nobody enrolled the station: its outbox must not grow for ever.
    From enrolment on, status, desk views and bus events are kept (and wait for the hub)."""
    engine = open_database(f"sqlite:///{tmp_path / 'station.db'}")
    bus, outbox = EventBus(), Outbox(engine, recording=False)
    bus.tap(outbox.record)
    link = FleetLink(HubLinkSettings(url="http://127.0.0.1:9", push_interval_s=0.2,
                                     command_poll_s=0.5, status_interval_s=1), engine, outbox, {},
                     status=lambda: {"version": "1"}, desk=lambda: {"doors": [], "exceptions": []})
    task = asyncio.create_task(link.run())
    bus.publish("locker", door_id="A01", state="loaded", initials="MG")
    await asyncio.sleep(1.2)
    assert outbox.depth() == 0
    store_token(engine, "a-token-from-the-hub")  # `bronco hub enrol` while the station runs
    await asyncio.sleep(1.2)
    bus.publish("locker", door_id="A02", state="loaded", initials="JS")
    task.cancel()
    kinds = [e["kind"] for e in outbox.pending()]
    assert kinds[:2] == ["status", "desk"] and kinds[-1] == "locker"
    assert outbox.pending()[-1]["payload"]["door_id"] == "A02"  # A01 was before enrolment


def test_each_station_database_numbers_its_events_in_a_sequence_of_its_own(tmp_path: Path) -> None:
    from bridge.fleet.link import new_sequence_epoch, sequence_epoch

    first = open_database(f"sqlite:///{tmp_path / 'first.db'}")
    epoch = sequence_epoch(first)
    assert epoch and sequence_epoch(first) == epoch  # kept
    reimaged = open_database(f"sqlite:///{tmp_path / 'second.db'}")
    assert sequence_epoch(reimaged) != epoch  # a new card: a new sequence
    new_sequence_epoch(first)  # a restore
    assert sequence_epoch(first) != epoch
