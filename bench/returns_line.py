"""A whole return line of real processes, for the end-to-end test, `bronco bench returns` and
`bronco demo --returns`: the demo ILS (its own process, on a library of generated items of every
kind, behind a cable that can be pulled), the sorter's PLC emulated on Modbus TCP (a thread here:
its belt is the world the patron touches), the station (its own process, profile
hardware_profiles/returns-simulated.toml) and a patron at the slot who drops each item onto the
PLC's intake and its tags into the slot reader's field (the station's /sim routes), and takes the
tags away when the item has gone in or come back out.

What each item should become is worked out here from the library's own data - the bin its kind
goes to - never from the station's log."""

from __future__ import annotations

import os
import random
import re
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from bench.powercut_link import Cable
from rfid.tags.decoding import encode_tag
from rfid.tags.model import TagValue
from sorter.belt import Belt
from sorter.emulators.modbus_tcp import SorterEmulator

ROOT = Path(__file__).resolve().parent.parent
PROFILE = ROOT / "hardware_profiles" / "returns-simulated.toml"
SAMPLE = ROOT / "ils" / "demo_server" / "sample_library.toml"
BRONCO = [sys.executable, "-m", "bronco"]
STAFF_PASSWORD = "a long staff password for the line"
HANDED_BACK = -1
# kind -> (location, media type, parts, branch, hold pickup, the bin it must end in)
KINDS: dict[str, tuple[str, str, int, str, str, int]] = {
    "stacks": ("STACKS", "001", 1, "", "", 0),
    "reserves": ("RESERVES", "001", 1, "", "", 3),
    "reference": ("REFERENCE", "001", 1, "", "", 6),
    "media": ("MEDIA", "004", 1, "", "", 4),
    "tech": ("TECH", "010", 2, "", "", 5),
    "magazine": ("STACKS", "002", 1, "", "", 8),
    "hold_here": ("STACKS", "001", 1, "", "LOCKERS1", 1),
    "hold_elsewhere": ("STACKS", "001", 1, "", "MAINCIRC", 2),
    "other_branch": ("STACKS", "001", 1, "SCIENCE", "", 2),
}
# Items that are not the ILS's to take: what happens to each.
ODD_KINDS = {"unknown": 7, "part_missing": 7, "foreign": HANDED_BACK, "unreadable": HANDED_BACK}
LOCAL_BIN = 0  # everything else: where the local rules send an item while the ILS is away


@dataclass
class Drop:
    item_id: str
    kind: str
    tags: list[bytes]
    bin: int  # where it must end (HANDED_BACK: back out of the slot)
    jam_before: int | None = None

    @property
    def parcel(self) -> str:
        return self.item_id or f"unreadable-{id(self)}"


def library_items(count: int, seed: int) -> list[Drop]:
    """`count` items of every kind in a random order, with their tags and bins."""
    rng = random.Random(seed)
    kinds = list(KINDS) + list(ODD_KINDS)
    drops = []
    for n in range(count):
        kind = kinds[n % len(kinds)]
        item = f"39{n:08d}"
        parts = KINDS[kind][2] if kind in KINDS else (2 if kind == "part_missing" else 1)
        if kind == "unreadable":
            drops.append(Drop("", kind, [b"\xff\x00 not a tag " + str(n).encode()], HANDED_BACK))
            continue
        owner, country = ("705", "DE") if kind == "foreign" else ("US-DEMO", "US")
        tags = [encode_tag(TagValue(item, owner, country, parts=parts, part=p))
                for p in range(1, parts + 1)]
        if kind == "part_missing":
            tags = tags[:1]
        bin_k = KINDS[kind][5] if kind in KINDS else ODD_KINDS[kind]
        drops.append(Drop(item, kind, tags, bin_k))
    rng.shuffle(drops)
    return drops


def write_library(path: Path, drops: list[Drop]) -> None:
    """The sample library's patrons and rules, with these items (and their holds) instead."""
    sample = SAMPLE.read_text()
    head = sample[:sample.index("[[items]]")]
    lines = [head]
    holds = []
    for drop in drops:
        if drop.kind not in KINDS and drop.kind != "part_missing":
            continue
        location, media, parts, branch, pickup, _bin = KINDS.get(drop.kind, KINDS["tech"])
        rule = {"RESERVES": "reserve_2h", "TECH": "tech_1d", "MEDIA": "media_7d",
                "REFERENCE": "noncirc"}.get(location, "regular")
        lines.append(f'[[items]]\nbarcode = "{drop.item_id}"\ntitle = "Returned item '
                     f'{drop.item_id} ({drop.kind})"\nloan_rule = "{rule}"\nparts = {parts}\n'
                     f'location = "{location}"\nmedia_type = "{media}"\n'
                     + (f'branch = "{branch}"\n' if branch else "") + "\n")
        if pickup:
            holds.append(f'[[holds]]\nitem = "{drop.item_id}"\npatron = "2900001001"\n'
                         f'pickup = "{pickup}"\n\n')
    path.write_text("".join(lines + holds))


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until(check: Callable[[], bool], what: str, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        time.sleep(0.02)


class ReturnLineRun:
    """Everything started in `__enter__`, stopped in `__exit__`; `folder` keeps the files."""

    def __init__(self, folder: Path, *, items: int = 200, latency_ms: int = 0,
                 segment_s: float = 0.3, seed: int = 7, plc_port: int = 0,
                 station_port: int = 0) -> None:
        self.folder, self.latency_ms, self.segment_s = folder, latency_ms, segment_s
        self.drops = library_items(items, seed)
        self.plc_port, self.station_port = plc_port, station_port
        self.children: list[subprocess.Popen[bytes]] = []
        self.uid = 0

    # -- start and stop --------------------------------------------------------------------------
    def __enter__(self) -> ReturnLineRun:
        self.folder.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "BRONCO_ILS_PASSWORD": "demo",
               "BRONCO_STAFF_PASSWORD": STAFF_PASSWORD}
        library, self.ledger = self.folder / "library.toml", self.folder / "ledger.jsonl"
        write_library(library, self.drops)
        ils_port = free_port()
        self._start([*BRONCO, "demo-ils", "--port", str(ils_port), "--data", str(library),
                     "--ledger", str(self.ledger), "--latency-ms", str(self.latency_ms)], env)
        wait_until(lambda: _listening(ils_port), "the demo ILS")
        self.cable = Cable(ils_port)
        self.cable.plug(True)
        belt = Belt(diverters=8, segment_s=self.segment_s, eye_s=min(0.08, self.segment_s / 4))
        self.emulator = SorterEmulator(belt, port=self.plc_port).start()
        self.belt = belt
        self.profile = self.folder / "returns.toml"
        port = self.station_port or free_port()
        text = PROFILE.read_text()
        text = re.sub(r"(\[ils\][^\[]*?port = )\d+", rf"\g<1>{self.cable.port}", text, count=1)
        text = text.replace("socket://127.0.0.1:5020", f"socket://127.0.0.1:{self.emulator.port}")
        text = text.replace("segment_s = 0.4", f"segment_s = {self.segment_s}")
        text = text.replace('sqlite:///bronco-returns-demo.db',
                            f"sqlite:///{self.folder / 'station.db'}")
        self.profile.write_text(text)
        subprocess.run([*BRONCO, "staff", "add", "desk1", "--profile", str(self.profile)],
                       check=True, capture_output=True, env=env)
        self.station = self._start([*BRONCO, "station", "--profile", str(self.profile),
                                    "--port", str(port)], env)
        self.url = f"http://127.0.0.1:{port}"
        self.http = httpx.Client(base_url=self.url, timeout=10)
        wait_until(self._online, "the station, online with the ILS", 60)
        self.staff = httpx.Client(base_url=self.url, timeout=10)
        csrf = self.staff.post("/api/v1/staff/login", json={
            "username": "desk1", "password": STAFF_PASSWORD}).json()["csrf_token"]
        self.staff.headers["X-CSRF-Token"] = csrf
        return self

    def _start(self, argv: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        with open(self.folder / f"{len(self.children)}.log", "wb") as log:  # the child keeps it
            child = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=log)
        self.children.append(child)
        return child

    def _online(self) -> bool:
        if self.station.poll() is not None:
            raise RuntimeError(f"the station exited ({self.station.returncode}); see "
                               f"{self.folder}/1.log")
        try:
            return bool(httpx.get(f"{self.url}/healthz", timeout=2).json()["ils"]["online"])
        except httpx.HTTPError:
            return False

    def __exit__(self, *_exc: object) -> None:
        for child in reversed(self.children):
            if child.poll() is None:
                child.terminate()
                try:
                    child.wait(15)
                except subprocess.TimeoutExpired:
                    child.kill()
                    child.wait()
        self.emulator.close()

    # -- the patron at the slot ------------------------------------------------------------------
    def put(self, drop: Drop) -> list[str]:
        """The item falls onto the intake; its tags come into the slot reader's field."""
        self.belt.drop(drop.parcel, jam_before=drop.jam_before)
        uids = []
        for data in drop.tags:
            self.uid += 1
            uids.append(f"E0040100{self.uid:08X}")
            self.http.post("/sim/readers/slot/tags", json={"uid": uids[-1], "data": data.hex()}
                           ).raise_for_status()
        return uids

    def gone(self, uids: list[str], timeout_s: float = 30.0) -> None:
        """Wait until the item left the slot (in, or back out) and the rollers are still; the
        tags left the field with it."""
        belt = self.belt
        wait_until(lambda: not belt.slot_eye() and not belt.intake and not belt.reject,
                   "the item to leave the slot", timeout_s)
        for uid in uids:
            self.http.delete(f"/sim/readers/slot/tags/{uid}")

    def drop(self, drop: Drop) -> None:
        self.gone(self.put(drop))

    # -- staff -----------------------------------------------------------------------------------
    def line(self) -> dict[str, Any]:
        return self.staff.get("/api/v1/staff/returns").json()

    def wait_state(self, state: str, timeout_s: float = 30.0) -> None:
        wait_until(lambda: self.line()["state"] == state, f"the belt to be {state}", timeout_s)

    def resume(self) -> None:
        self.staff.post("/api/v1/staff/returns/resume").raise_for_status()

    def emptied(self, bin_k: int) -> list[dict[str, str]]:
        response = self.staff.post(f"/api/v1/staff/returns/bins/{bin_k}/emptied")
        response.raise_for_status()
        return list(response.json()["taken"])

    def ils_away(self, away: bool) -> None:
        self.cable.plug(not away)
        wait_until(lambda: self._online() is not away, "the station to see the ILS "
                   + ("go" if away else "come back"), 60)

    def settled(self, timeout_s: float = 60.0) -> None:
        """Every queued check-in sent and the belt empty."""
        wait_until(lambda: self.http.get("/api/v1/status").json()["queue"]["pending"] == 0
                   and not self.belt.parcels, "the queue to drain and the belt to empty",
                   timeout_s)

    def checkins(self) -> list[dict[str, Any]]:
        import json

        if not self.ledger.exists():
            return []
        return [r for line in self.ledger.read_text().splitlines() if line
                and (r := json.loads(line))["op"] == "checkin"]


def _listening(port: int) -> bool:
    import socket

    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.3):
            return True
    except OSError:
        return False
