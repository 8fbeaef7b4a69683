"""The book drop with real processes: the demo ILS (its own process, behind a cable this test
pulls), the station (its own process, hardware_profiles/returns-simulated.toml), the sorter's PLC
on Modbus TCP and the kiosk in returns mode offscreen. 200 items of every kind go through the slot
in random order; each must end in the bin its kind goes to (worked out from the library's data,
and the demo ILS's own ledger), none checked in twice; a jam and a full bin stop the belt and it
goes on without loss; the ILS goes away for a stretch and the check-ins it missed reach it after."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from bench.returns_line import HANDED_BACK, KINDS, LOCAL_BIN, ReturnLineRun, wait_until
from tests.conftest import ROOT

pytestmark = pytest.mark.slow


def kiosk_env(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "SDL_VIDEODRIVER": "offscreen", "KIVY_HOME": str(tmp_path / "kivy")}


def test_two_hundred_items_through_the_book_drop(tmp_path: Path, artifacts: Path) -> None:
    shots = artifacts / "returns"
    with ReturnLineRun(tmp_path / "line", items=200, segment_s=0.25) as run:
        kiosk = subprocess.Popen(
            [sys.executable, str(ROOT / "tests" / "kiosk" / "kivy_returns.py"), str(run.profile),
             run.url, str(shots)], env=kiosk_env(tmp_path), cwd=ROOT,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            folder = run.profile.parent
            wait_until(lambda: (folder / "kiosk-ready").exists() or kiosk.poll() is not None,
                       "the kiosk's event stream", 60)
            expected: dict[str, int] = {}
            offline: set[str] = set()
            jam_done = full_done = False
            cart: list[str] = []
            for n, drop in enumerate(run.drops):
                if n == 60:
                    run.ils_away(True)  # the cable is pulled for 30 items
                if n == 90:
                    run.ils_away(False)
                if not jam_done and drop.bin == 6 and n > 20:
                    drop.jam_before = 4  # it sticks on the belt before diverter 4's eye
                if not full_done and drop.bin == 3 and n > 100:
                    run.belt.full_forced.add(3)  # the Reserves bin reports full
                uids = run.put(drop)
                if drop.jam_before is not None and not jam_done:
                    run.gone(uids)
                    run.wait_state("jammed")
                    run.belt.clear_jam()  # staff free it...
                    run.resume()  # ...and press Resume
                    jam_done = True
                elif 3 in run.belt.full_forced and not full_done:
                    run.wait_state("bin_full")
                    assert run.belt.slot_eye()  # the item waits in the slot meanwhile
                    cart = run.belt.empty(3)  # staff empty the bin (the sensor clears)
                    listed = run.emptied(3)  # ...and say so: the list for the cart
                    assert sorted(i["item_id"] for i in listed) == sorted(cart)
                    run.gone(uids)
                    full_done = True
                else:
                    run.gone(uids)
                away = 60 <= n < 90
                if away and drop.kind in KINDS:
                    offline.add(drop.item_id)
                # Away, the ILS says nothing: the local rules sort what the tag alone allows.
                queued = away and (drop.kind in KINDS or drop.kind == "unknown")
                expected[drop.parcel] = LOCAL_BIN if queued else drop.bin
            run.settled(120)
            bins_seen = {b["bin"]: [i["item_id"] for i in b["items"]] for b in run.line()["bins"]}
            (folder / "kiosk-done").write_text("done")
            out, _err = kiosk.communicate(timeout=120)
        finally:
            if kiosk.poll() is None:
                kiosk.kill()
        belt = run.belt
        checkins = run.checkins()
    assert jam_done and full_done
    # Each item where its rules send it, by the belt's own bins (the PLC's world).
    landed = {name: k for k, names in enumerate(belt.bins) for name in names}
    landed.update({name: 3 for name in cart})  # taken out of Reserves when it was full
    landed.update({name: HANDED_BACK for name in belt.rejected})
    wrong = {name: (landed.get(name), want) for name, want in expected.items()
             if landed.get(name) != want}
    assert not wrong, wrong
    # The ILS's own record: every item it knows was checked in exactly once, offline ones too.
    per_item = Counter(r["item"] for r in checkins if r["ok"])
    library = [d.item_id for d in run.drops if d.kind in KINDS]
    assert all(per_item[item] == 1 for item in library), \
        {i: per_item[i] for i in library if per_item[i] != 1}
    assert not {d.item_id for d in run.drops if d.kind in ("foreign", "part_missing")} & \
        set(per_item)
    assert offline and all(per_item[item] == 1 for item in offline)
    # Staff saw the same bins (the Reserves bin was emptied once mid-run).
    assert sorted(bins_seen[5]) == sorted(n for n, k in expected.items() if k == 5)
    # The slot's screen showed every item the station took.
    report = json.loads(next(line[7:] for line in out.splitlines() if line.startswith("REPORT ")))
    missed = [(n, d.item_id, d.kind) for n, d in enumerate(run.drops)
              if d.item_id and d.item_id not in report["items"]]
    assert report["returned_events"] == len(run.drops), missed
    assert (shots / "returns-en.png").exists() and (shots / "returns-es.png").exists()
    # Switched to Spanish, what is on the screen reads in Spanish (the titles aside).
    spanish = ("devuelto", "recibido", "pertenece", "no se pudo", "falta")
    assert report["lines"]["es"] and all(any(w in line for w in spanish)
                                         for line in report["lines"]["es"]), report["lines"]
