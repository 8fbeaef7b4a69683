"""The hub console in real headless Chromium (Playwright) with a hub on PostgreSQL and two real
station processes: sign in, see both stations online, watch both banks' grids, load a hold into
the second station's bank (that station checks it in over SIP2 and opens its own door; the
first station's grid does not move; a door closed at bank-b shows at the hub while a keyboard
user's focus stays on its door), open a door at the first station with a reason, resolve the
first station's queue exception, filter the statistics by branch and download the CSV, read the
audit log; axe-core finds no serious violation on any page. Screenshots go to the artefacts."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.bridge.circulation.test_kiosk_api import BOOKS
from tests.bridge.lockers.test_locker_flows import MARIA_HOLDS
from tests.conftest import DemoIls, bronco, free_port, start_demo_ils, stop, wait_for
from tests.console.test_console_browser import (
    CHROMIUM,
    FLAGS,
    serious_violations,
    sign_in_after_a_wrong_password,
)
from tests.hub.conftest import Hub
from tests.hub.test_fleet_stations import checkouts_at, enrol, run_station, station_file

PASSWORD = "a long hub password"
PAGES = ("/console", "/console/lockers", "/console/queue", "/console/alerts", "/console/stats",
         "/console/audit")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not Path(CHROMIUM).exists(),
                       reason="Debian's chromium is not installed (scripts/run-tests installs it)"),
]


@pytest.fixture
def fleet(tmp_path: Path, hub: Hub) -> Iterator[dict]:
    """Two enrolled stations; bank-a queued a return while its ILS was away, which the ILS then
    refused: one open exception at bank-a."""
    ils_port = free_port()
    subprocess.run(bronco("hub", "user", "hubadmin", "--profile", str(hub.profile), "--role",
                          "admin"), check=True, capture_output=True,
                   env={**os.environ, "BRONCO_STAFF_PASSWORD": PASSWORD})
    admin = hub.token("it-admin", "admin")
    stations: dict[str, tuple[Path, int, subprocess.Popen[bytes]]] = {}
    ils: DemoIls | None = None
    try:
        for name, branch in (("bank-a", "Main"), ("bank-b", "Science")):
            profile = station_file(tmp_path, ils_port, name, hub)
            enrol(hub, admin, profile, name, branch)
            port = free_port()
            stations[name] = (profile, port, run_station(profile, port, tmp_path / f"{name}.log"))
        url_a = f"http://127.0.0.1:{stations['bank-a'][1]}"
        assert httpx.post(f"{url_a}/api/v1/checkin", json={"item_id": "NO-SUCH-ITEM"},
                          timeout=10).json()["offline"]
        ils = start_demo_ils(tmp_path, port=ils_port)
        wait_for(lambda: httpx.get(f"{url_a}/api/v1/status").json()["queue"]["open_exceptions"]
                 == 1, timeout_s=20)
        checkouts_at(stations["bank-b"][1], BOOKS[:1])
        yield {"stations": stations, "ils": ils, "admin": admin}
    finally:
        for _profile, _port, proc in stations.values():
            stop(proc)
        if ils is not None:
            stop(ils.proc)


def station_db(fleet: dict, name: str) -> sqlite3.Connection:
    return sqlite3.connect(fleet["stations"][name][0].parent / "station.db")


def test_hub_console_in_chromium(fleet: dict, hub: Hub, artifacts: Path, tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    shots = artifacts / "hub-console"
    shots.mkdir(exist_ok=True)
    url = hub.url
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900}, accept_downloads=True)
        try:
            sign_in_after_a_wrong_password(page, url, "hubadmin", PASSWORD, shots)

            # Every station: online, its version, devices and queue.
            for name in ("bank-a", "bank-b"):
                row = page.locator(f'#stations tr[data-station="{name}"]')
                expect(row).to_contain_text("online")
                expect(row).to_contain_text("ok")  # "n of n ok": the devices as reported
            expect(page.locator('#stations tr[data-station="bank-a"]')).to_contain_text("1 exception")
            expect(page.locator("#live")).to_have_text("live")
            page.screenshot(path=str(shots / "stations.png"), full_page=True)

            # Both banks' grids, live; load a hold into the second station's bank.
            page.click("nav >> text=Locker banks")
            grid_a, grid_b = page.locator('[data-grid="bank-a"]'), page.locator('[data-grid="bank-b"]')
            expect(grid_a.locator(".door")).to_have_count(16)
            expect(grid_b.locator(".door")).to_have_count(16)
            page.select_option("#load-bank", "bank-b")
            page.fill("#load-item", MARIA_HOLDS[0])
            page.press("#load-item", "Enter")
            expect(page.locator("#message")).to_contain_text("bank-b door A01 for MJN: opened",
                                                             timeout=30000)
            b01 = grid_b.locator('.door[data-door="A01"]')
            expect(b01).to_have_attribute("data-state", "reserved", timeout=15000)
            expect(b01).to_contain_text("Being loaded")
            expect(grid_a.locator('.door[data-door="A01"]')).to_have_attribute("data-state", "free")
            page.screenshot(path=str(shots / "lockers-loaded-at-bank-b.png"), full_page=True)

            # Staff at bank-b close the door: the hub's grid follows, and a keyboard user's focus
            # stays on the door it was on while the grid redraws.
            grid_b.locator('.door[data-door="A05"]').focus()
            port_b = fleet["stations"]["bank-b"][1]
            assert httpx.post(f"http://127.0.0.1:{port_b}/sim/boards/A/doors/1",
                              json={"action": "close"}, timeout=10).status_code == 200
            expect(b01).to_have_attribute("data-state", "loaded", timeout=15000)
            expect(b01).to_contain_text("Waiting for pickup")
            expect(grid_b.locator('.door[data-door="A05"]')).to_be_focused()

            # Open a door at the first station, with a reason.
            grid_a.locator('.door[data-door="A03"]').click()
            expect(page.locator("#door-title")).to_have_text("bank-a: door A03")
            page.click("#door-actions button[value=open]")  # no reason yet: refused here
            expect(page.locator("#message")).to_contain_text("needs a reason")
            expect(page.locator("#door-reason")).to_be_focused()  # the dialog stays for it
            page.fill("#door-reason", "cleaning the shelf")
            page.click("#door-actions button[value=open]")
            expect(page.locator("#message")).to_contain_text("bank-a door A03: opened",
                                                             timeout=30000)

            # bank-a's queue exception, resolved from the hub with a note.
            page.click("nav >> text=Queue")
            section = page.locator('section[data-station="bank-a"]')
            expect(section.locator(".count")).to_have_text("1")
            page.screenshot(path=str(shots / "queue.png"), full_page=True)
            section.locator("input.note").fill("item withdrawn; returned to stock by hand")
            page.once("dialog", lambda dialog: dialog.accept())
            section.locator("button.resolve").click()
            expect(page.locator("#message")).to_contain_text("resolved", timeout=30000)

            # Statistics across stations, by branch, with the CSV.
            page.click("nav >> text=Statistics")
            expect(page.locator("#branch option")).to_have_count(3)  # every branch, Main, Science
            page.select_option("#branch", "Science")
            page.click("form.range button[type=submit]")
            wait_for(lambda: page.locator('#totals td[data-metric="checkouts"]').inner_text() == "1",
                     timeout_s=30, step=0.5) or page.reload()
            expect(page.locator('#totals td[data-metric="checkouts"]')).to_have_text("1")
            expect(page.locator("#chart-by-station canvas")).to_be_visible()
            page.screenshot(path=str(shots / "statistics-science.png"), full_page=True)
            with page.expect_download() as download:
                page.click("#csv")
            table = Path(download.value.path()).read_text()
            assert ",checkouts,1" in table and "bank-b" in table and "bank-a" not in table

            page.click("nav >> text=Audit log")
            audit = page.locator("#audit")
            for action in ("command_load_hold", "command_open_door", "command_resolve_exception",
                           "done_load_hold", "login_failed"):
                expect(audit).to_contain_text(action)

            for path in PAGES:
                page.goto(f"{url}{path}")
                page.wait_for_load_state("networkidle")
                assert serious_violations(page) == [], path

            page.click("text=Sign out")
            expect(page).to_have_url(f"{url}/console/login")
            page.go_back()
            expect(page).to_have_url(f"{url}/console/login")
        finally:
            page.screenshot(path=str(shots / "last.png"))
            browser.close()

    # What the station did for the hub, in its own records and audit log, as the hub user:
    with station_db(fleet, "bank-b") as db:
        assert db.execute("SELECT state FROM locker_door WHERE door_id = 'A01'").fetchone()[0] \
            == "loaded"
        assert {a for (a,) in db.execute("SELECT actor FROM audit_log WHERE action = 'door_open'")} \
            == {"hub:hubadmin"}
    assert ("checkin", MARIA_HOLDS[0]) in [(r["op"], r["item"]) for r in fleet["ils"].records()]
    with station_db(fleet, "bank-a") as db:
        assert db.execute("SELECT resolved_by, resolution FROM queue_exception").fetchall() == \
            [("hub:hubadmin", "item withdrawn; returned to stock by hand")]
        opened = db.execute("SELECT actor, target, detail FROM audit_log "
                            "WHERE action = 'door_open'").fetchall()
        assert [(a, t) for a, t, _d in opened] == [("hub:hubadmin", "A03")]
        assert "cleaning the shelf" in opened[0][2]
        assert db.execute("SELECT count(*) FROM locker_door WHERE state != 'free'").fetchone()[0] == 0
    time.sleep(0)  # nothing else to wait for
