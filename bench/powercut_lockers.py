"""The lockers under power cuts (bench/powercut.py): a desk loads holds and closes their doors; a
patron picks them up with the code from the notice, which a real SMTP server on loopback takes in.
What staff and patrons were told is kept here: a door staff saw "loaded" must still open for its
latest code after every cut, and a pickup the patron was told about must reach the ILS once."""

from __future__ import annotations

import email
import random
import re
import threading
import time
from collections import Counter
from typing import Any

import httpx

HOLD_PATRONS = [f"29000002{n:02d}" for n in range(6)]
STAFF, STAFF_PASSWORD = "desk1", "a long staff password for the bench"
CODE = re.compile(r"Pickup code: (\d+)")
HOLD_ITEM = re.compile(r"HL\d{5}")
TOLD_OPEN = ("opened", "open_not_detected", "not_confirmed")


def hold_items(count: int) -> list[str]:
    return [f"HL{n:05d}" for n in range(count)]


def library_lines(holds: int) -> list[str]:
    """Demo ILS data: hold patrons with email, hold items (title = barcode), their holds here."""
    lines = [f'[[patrons]]\nbarcode = "{p}"\nname = "Hold Patron {n}"\n'
             f'email = "hold{n}@demo.example.edu"\npin = "1234"\n' for n, p in enumerate(HOLD_PATRONS)]
    for n, item in enumerate(hold_items(holds)):
        lines.append(f'[[items]]\nbarcode = "{item}"\ntitle = "{item}"\nloan_rule = "regular"\n')
        lines.append(f'[[holds]]\nitem = "{item}"\npatron = "{HOLD_PATRONS[n % len(HOLD_PATRONS)]}"\n'
                     'pickup = "LOCKERS1"\n')
    return lines


class Mailbox:
    """aiosmtpd handler: the latest pickup code each hold item's notice gave."""

    def __init__(self) -> None:
        self.codes: dict[str, str] = {}
        self.notices = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content)
        for part in message.walk():
            if part.get_content_type() == "text/plain":
                text = part.get_payload(decode=True).decode("utf-8", errors="replace")
                found = CODE.search(text)
                if found:
                    self.notices += 1
                    for item in HOLD_ITEM.findall(text):
                        self.codes[item] = found.group(1)
        return "250 OK"


class Told:
    """What the desk and the patrons were told, across every cut."""

    def __init__(self) -> None:
        self.loaded: dict[str, str] = {}  # hold item -> its door, once staff saw "loaded"
        self.picked: Counter[str] = Counter()  # hold item -> pickups the patron was told of


def close_door(client: httpx.Client, door_id: str) -> None:
    client.post(f"/sim/boards/A/doors/{int(door_id[1:])}", json={"action": "close"})


def door_state(client: httpx.Client, door_id: str) -> str:
    grid = client.get("/api/v1/staff/lockers").json()
    return next((d["state"] for d in grid if d["door_id"] == door_id), "")


class Desk(threading.Thread):
    """Scans holds while few doors wait; puts each in, closes the door, waits to see "loaded".
    A hold whose load was not seen through is scanned again (staff still hold the book)."""

    def __init__(self, url: str, holds: list[str], told: Told, rng: random.Random,
                 waiting_limit: int = 5) -> None:
        super().__init__(daemon=True)
        self.url, self.holds, self.told, self.rng = url, holds, told, rng
        self.waiting_limit = waiting_limit
        self.stop_flag = threading.Event()

    def run(self) -> None:
        with httpx.Client(base_url=self.url, timeout=5) as client:
            try:
                login = client.post("/api/v1/staff/login",
                                    json={"username": STAFF, "password": STAFF_PASSWORD})
                client.headers["X-CSRF-Token"] = login.json()["csrf_token"]
                while self.holds and not self.stop_flag.is_set():
                    waiting = [i for i in self.told.loaded if not self.told.picked[i]]
                    if len(waiting) >= self.waiting_limit:
                        time.sleep(0.05)
                        continue
                    self._load(client, self.holds.pop(0))
            except (httpx.HTTPError, KeyError, ValueError, TypeError):
                return  # the power went under us

    def _load(self, client: httpx.Client, item: str) -> None:
        try:
            reply = client.post("/api/v1/staff/lockers/load", json={"item_id": item})
        except httpx.HTTPError:
            self.holds.insert(0, item)
            raise
        if reply.status_code != 200:
            if "already in door" not in reply.text:  # loaded before a cut: nothing to do
                self.holds.insert(0, item)  # the ILS away, no door free: later
                time.sleep(0.2)
            return
        door_id = reply.json()["door_id"]
        try:
            time.sleep(self.rng.uniform(0.02, 0.2))  # the book goes in
            close_door(client, door_id)
            deadline = time.monotonic() + 5
            while door_state(client, door_id) != "loaded":
                if time.monotonic() > deadline:
                    raise httpx.ReadTimeout("never loaded")
                time.sleep(0.05)
        except httpx.HTTPError:
            self.holds.insert(0, item)  # the grid still shows it reserved: scan it again
            raise
        self.told.loaded[item] = door_id


class Patron(threading.Thread):
    """Types the code of a notice at the kiosk; takes the items; closes the door."""

    def __init__(self, url: str, mailbox: Mailbox, told: Told, rng: random.Random) -> None:
        super().__init__(daemon=True)
        self.url, self.mailbox, self.told, self.rng = url, mailbox, told, rng
        self.stop_flag = threading.Event()

    def run(self) -> None:
        with httpx.Client(base_url=self.url, timeout=5) as client:
            try:
                while not self.stop_flag.is_set():
                    ready = [i for i in self.told.loaded if not self.told.picked[i]
                             and i in self.mailbox.codes]
                    if not ready:
                        time.sleep(0.05)
                        continue
                    item = self.rng.choice(ready)
                    if not pick_up(client, self.mailbox.codes[item], self.told):
                        time.sleep(0.3)  # a code replaced by a resent notice: read the mail
            except (httpx.HTTPError, KeyError, ValueError, TypeError):
                return


def pick_up(client: httpx.Client, code: str, told: Told) -> bool:
    """One pickup by code; True if doors opened (their items are then counted as told)."""
    reply = client.post("/api/v1/lockers/pickup/code", json={"code": code})
    if reply.status_code == 429:  # earlier codes replaced by resent notices count as wrong
        time.sleep(min(float(reply.headers.get("Retry-After", "1")), 60))
    if reply.status_code != 200:
        return False
    for opened in reply.json():
        if opened["outcome"] in TOLD_OPEN:
            for item in opened["items"]:
                told.picked[item] += 1
            close_door(client, opened["door_id"])
    return True


def final_pickups(url: str, mailbox: Mailbox, told: Told, wait_s: float = 90.0) -> list[str]:
    """After the last cut, every door staff saw loaded and nobody emptied must open for its
    latest code (a resent notice may have replaced it): the codes that do not are lost."""
    lost = []
    with httpx.Client(base_url=url, timeout=10) as client:
        for item in [i for i in told.loaded if not told.picked[i]]:
            deadline = time.monotonic() + wait_s
            while not told.picked[item] and time.monotonic() < deadline:
                code = mailbox.codes.get(item)
                if code is None or not pick_up(client, code, told):
                    time.sleep(0.5)
            if not told.picked[item]:
                lost.append(item)
    return lost


def unanswered_pickups(unopened: list[str], records: list[dict[str, Any]]) -> list[str]:
    """Doors that would not open at the end although no patron was told of their pickup: fine
    when the ILS lent the item (a pickup went through and the power took its answer - the
    patron saw the door open); lost otherwise."""
    lent = {r["item"] for r in records if r["op"] == "checkout" and r.get("ok")}
    return [item for item in unopened if item in lent]


def ledger_checks(records: list[dict[str, Any]], told: Told) -> dict[str, Any]:
    """Each told pickup checked out to its patron exactly once; no hold item checked out twice."""
    out = Counter(r["item"] for r in records
                  if r["op"] == "checkout" and r.get("ok") and HOLD_ITEM.fullmatch(r.get("item", "")))
    lost = sorted(i for i in told.picked if out[i] < 1)
    doubled = sorted(i for i, n in out.items() if n > 1)
    return {"loads_told": len(told.loaded), "pickups_told": sum(1 for i in told.picked
                                                                if told.picked[i]),
            "pickups_lost": len(lost), "pickups_doubled": len(doubled),
            "pickup_examples": (lost + doubled)[:5]}
