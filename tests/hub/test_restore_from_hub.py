"""A dead SD card: the station kept a sealed copy of its state at the hub; a new card restored from
it has the loaded locker and its pickup code, and the ILS ends with each of 50 offline
transactions exactly once - the old card replayed them after its last copy, and the hub's record
of what was done keeps the new card from sending them again. Real processes: the hub on
PostgreSQL, the station, the demo ILS and its ledger, an SMTP server for the pickup code."""

from __future__ import annotations

import re
import signal
import sqlite3
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import httpx
import pytest

from station_core.sealing import open_with_station_key, recovery_key_pair
from tests.bridge.circulation.test_crash_replay import (
    PATRON,
    queue_left,
    run_station,
    station_profile_file,
)
from tests.bridge.lockers.test_locker_flows import Inbox, body_of
from tests.conftest import bronco, free_port, start_demo_ils, stop, wait_for
from tests.hub.conftest import Hub

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]
HOLD = "CT00099"
ITEMS = [f"CT{n:05d}" for n in range(50)]


def library(path: Path) -> Path:
    lines = [
        '[library]\ninstitution_id = "DEMO"\ncharged_limit = 100000\n',
        '[[logins]]\nuser = "kiosk"\npassword = "demo"\n',
        f'[[patrons]]\nbarcode = "{PATRON}"\nname = "Restore Test"\npin = "1234"\n'
        'email = "patron@demo.example.edu"\n',
        "[loan_rules.regular]\nminutes = 40320\n",
        f'[[holds]]\nitem = "{HOLD}"\npatron = "{PATRON}"\npickup = "LOCKERS1"\n',
    ]
    lines += [f'[[items]]\nbarcode = "CT{n:05d}"\ntitle = "Item {n}"\nloan_rule = "regular"\n'
              for n in range(100)]
    path.write_text("\n".join(lines))
    return path


def profile_for(folder: Path, ils_port: int, hub: Hub, smtp_port: int, recovery_public: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = station_profile_file(folder, ils_port)
    text = path.read_text().replace("[kiosk]", f"""[notices]
enabled = true
smtp_port = {smtp_port}
sender = "lockers@demo.example.edu"
library_name = "Demo University Library"

[kiosk]""", 1)
    path.write_text(text + f"""
[hub]
url = "{hub.url}"
push_interval_s = 0.5
command_poll_s = 0.5
status_interval_s = 5
recovery_key = "{recovery_public}"
copy_min_interval_s = 25
""")
    return path


@pytest.fixture
def mailbox() -> Iterator[tuple[Inbox, int]]:
    from aiosmtpd.controller import Controller

    handler, port = Inbox(), free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    yield handler, port
    controller.stop()


def station_token(db: Path) -> str:
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT value FROM station_setting WHERE key = 'hub_token'").fetchone()[0]


def copy_taken_at(hub: Hub, admin: str) -> str | None:
    rows = hub.call("GET", "/api/v1/stations", admin).json()
    return next(r for r in rows if r["id"] == "demo-station")["state_copy_at"]


def test_a_new_card_restored_from_the_hub_has_lockers_codes_and_sends_nothing_twice(
        tmp_path: Path, hub: Hub, mailbox: tuple[Inbox, int]) -> None:
    mail, smtp_port = mailbox
    ils_port, port = free_port(), free_port()
    data = library(tmp_path / "library.toml")
    private, public = recovery_key_pair()
    (tmp_path / "recovery.key").write_bytes(private)
    card = tmp_path / "card"  # the SD card's state folder: the database and the key beside it
    profile = profile_for(card, ils_port, hub, smtp_port, public.decode().strip())
    admin, desk = hub.token("it-admin", "admin"), hub.token("desk1", "desk")
    code = hub.call("POST", "/api/v1/stations/demo-station/enrolment-code", admin).json()["code"]
    subprocess.run(bronco("hub", "enrol", "--profile", str(profile), "--code", code), check=True,
                   capture_output=True)
    url, db = f"http://127.0.0.1:{port}", card / "station.db"
    ils = start_demo_ils(tmp_path, "--data", str(data), port=ils_port)
    station = run_station(profile, port, tmp_path / "station.log")
    try:
        # A hold loaded into a locker (from the hub's desk), its door closed: the patron's code.
        queued = hub.call("POST", "/api/v1/stations/demo-station/commands", desk,
                          json={"kind": "load_hold", "args": {"item_id": HOLD}}).json()
        wait_for(lambda: hub.call("GET", f"/api/v1/commands/{queued['id']}", desk).json()["done"],
                 timeout_s=20)
        door = hub.call("GET", f"/api/v1/commands/{queued['id']}", desk).json()["result"]["door"]
        lock = int(door[1:])
        httpx.post(f"{url}/sim/boards/A/doors/{lock}", json={"action": "close"}, timeout=10)
        wait_for(lambda: len(mail.messages) >= 1, timeout_s=20)
        pickup_code = re.search(r"Pickup code: (\d{10})", body_of(mail.messages[0])).group(1)

        # The ILS goes away: 50 offline checkouts wait in the queue.
        stop(ils.proc)
        with httpx.Client(base_url=url, timeout=10) as kiosk:
            session = kiosk.post("/api/v1/sessions", json={"barcode": PATRON, "pin": "1234"}).json()
            for item in ITEMS:
                lent = kiosk.post("/api/v1/checkout", json={"item_id": item},
                                  headers={"X-Kiosk-Session": session["token"]}).json()
                assert lent["ok"] and lent["offline"], lent
        assert queue_left(db) == 50
        last_checkout = datetime.now().astimezone()
        # The next copy reaches the hub (sealed: the hub cannot read it; the station's key can).
        wait_for(lambda: (copy_taken_at(hub, admin) or "") > last_checkout.isoformat(), timeout_s=60)
        copy = httpx.get(f"{hub.url}/api/v1/fleet/state-copy", timeout=10,
                         headers={"Authorization": f"Bearer {station_token(db)}"}).content
        assert b"CT00001" not in copy and b"Restore Test" not in copy
        key = bytes.fromhex((card / "station.key").read_text().strip())
        assert open_with_station_key(copy, key).station_id == "demo-station"
        copied_at = copy_taken_at(hub, admin)

        # The ILS is back: the old card replays all 50 and tells the hub which are done...
        ils = start_demo_ils(tmp_path, "--data", str(data), port=ils_port)
        wait_for(lambda: queue_left(db) == 0, timeout_s=60)
        wait_for(lambda: len(httpx.get(f"{hub.url}/api/v1/fleet/done-transactions", timeout=10,
                                       headers={"Authorization": f"Bearer {station_token(db)}"}
                                       ).json()) >= 50, timeout_s=30)
        # ...and dies before its next copy: the hub's copy still has all 50 queued.
        station.send_signal(signal.SIGKILL)
        station.wait()
        assert copy_taken_at(hub, admin) == copied_at
    finally:
        if station.poll() is None:
            station.kill()
    for path in card.glob("station.*"):  # the SD card is dead: the database and the key
        path.unlink()

    # A new card: the same profile, an admin's code that replaces the station, the recovery key.
    replace = hub.call("POST", "/api/v1/stations/demo-station/enrolment-code", admin,
                       params={"replace": "true"}).json()["code"]
    restored = subprocess.run(bronco("restore", "--from-hub", "--profile", str(profile), "--code",
                                     replace, "--recovery-key", str(tmp_path / "recovery.key")),
                              capture_output=True, text=True, timeout=120)
    assert restored.returncode == 0, restored.stderr
    said = restored.stdout.splitlines()[-1]
    assert '"marked_done": 50' in said and '"queued": 0' in said and '"lockers_in_use": 1' in said
    station = run_station(profile, port, tmp_path / "station-new.log")
    try:
        time.sleep(3)  # a replay, if anything were left, would start at once
        # The patron's code from before the card died opens the same door.
        picked = httpx.post(f"{url}/api/v1/lockers/pickup/code", json={"code": pickup_code},
                            timeout=20).json()
        assert [(p["door_id"], p["outcome"]) for p in picked] == [(door, "opened")]
        # The new card's events reach the hub (a new sequence, not taken for resends).
        wait_for(lambda: any(e["kind"] == "door_open" and e["payload"].get("door_id") == door
                             for e in hub.call("GET", "/api/v1/stations/demo-station/events?after=0",
                                               admin).json()[-200:]), timeout_s=30)
    finally:
        station.send_signal(signal.SIGTERM)
        station.wait(20)
        stop(ils.proc)
    checkouts = Counter(r["item"] for r in ils.records() if r["op"] == "checkout")
    assert all(checkouts[item] == 1 for item in ITEMS), {i: checkouts[i] for i in ITEMS if checkouts[i] != 1}
    assert checkouts[HOLD] == 1  # the pickup, once
