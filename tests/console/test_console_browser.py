"""The staff console in real headless Chromium (Debian's), driven by Playwright: sign in, load a
hold and watch its door change in the live grid, open a door with a reason and find it in the
audit log, resolve an exception, download the statistics CSV. Screenshots go to the artefacts."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.bridge.test_crash_replay import station_profile_file
from tests.conftest import bronco, free_port, start_demo_ils, stop, wait_http

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
PASSWORD = "a long staff password"
MARIA_HOLD = "3100007001"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not Path(CHROMIUM).exists(),
                       reason="Debian's chromium is not installed (scripts/run-tests installs it)"),
]


@pytest.fixture
def console(tmp_path: Path) -> Iterator[dict]:
    ils_port, port = free_port(), free_port()
    profile = station_profile_file(tmp_path, ils_port)
    subprocess.run(bronco("staff", "add", "desk1", "--profile", str(profile)), check=True,
                   capture_output=True, env={**os.environ, "BRONCO_STAFF_PASSWORD": PASSWORD})
    station = subprocess.Popen(bronco("station", "--profile", str(profile), "--port", str(port)),
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    ils = None
    try:
        wait_http(f"{url}/healthz", station)
        # While the ILS is away, a return of an unknown item is queued; the replay will refuse it.
        assert httpx.post(f"{url}/api/v1/checkin", json={"item_id": "NO-SUCH-ITEM"}).json()["offline"]
        ils = start_demo_ils(tmp_path, port=ils_port)
        deadline = time.monotonic() + 15
        while httpx.get(f"{url}/api/v1/status").json()["queue"]["open_exceptions"] != 1:
            assert time.monotonic() < deadline, "the replay did not produce the exception"
            time.sleep(0.2)
        yield {"url": url, "ils": ils}
    finally:
        stop(station)
        if ils is not None:
            stop(ils.proc)


def test_console_in_chromium(console: dict, artifacts: Path, tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    url = console["url"]
    shots = artifacts / "console"
    shots.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900}, accept_downloads=True)
        try:
            page.goto(f"{url}/console")
            expect(page).to_have_url(f"{url}/console/login")
            page.fill("input[name=username]", "desk1")
            page.fill("input[name=password]", "wrong password!")
            page.click("button[type=submit]")
            expect(page.locator(".error")).to_contain_text("Wrong user name or password")
            page.fill("input[name=username]", "desk1")
            page.fill("input[name=password]", PASSWORD)
            page.screenshot(path=str(shots / "login.png"))
            page.click("button[type=submit]")
            expect(page).to_have_url(f"{url}/console")
            expect(page.locator(".door")).to_have_count(16)

            # Load a hold from the desk: the door pops, the grid follows live.
            page.fill("#load-item", MARIA_HOLD)
            page.press("#load-item", "Enter")
            expect(page.locator("#message")).to_contain_text("Door A01 for MJN: opened")
            expect(page.locator('.door[data-door="A01"]')).to_have_attribute("data-state", "reserved")
            page.screenshot(path=str(shots / "lockers-reserved.png"))
            httpx.post(f"{url}/sim/boards/A/doors/1", json={"action": "close"})  # staff close it
            expect(page.locator('.door[data-door="A01"]')).to_have_attribute("data-state", "loaded",
                                                                            timeout=10_000)
            expect(page.locator('.door[data-door="A01"] .who')).to_have_text("MJN")
            page.screenshot(path=str(shots / "lockers-loaded.png"))

            # Open a door by hand: a reason is mandatory, and the open is audited.
            page.click('.door[data-door="A05"]')
            page.click("#btn-open")
            expect(page.locator("#message")).to_contain_text("needs a reason")
            page.click('.door[data-door="A05"]')
            page.fill("#door-reason", "patron left an umbrella")
            page.click("#btn-open")
            expect(page.locator("#message")).to_contain_text("Door A05: opened")
            page.click("text=Audit log")
            row = page.locator("#audit tr", has_text="patron left an umbrella")
            expect(row).to_contain_text("door_open")
            expect(row).to_contain_text("desk1")
            page.screenshot(path=str(shots / "audit.png"))

            # Resolve the replay exception.
            page.click("text=Queue")
            expect(page.locator("#exceptions")).to_contain_text("NO-SUCH-ITEM")
            # The replay's report: the refused return, in the ILS's own words.
            refused = page.locator("#latest-replay tr.refused")
            expect(refused).to_contain_text("NO-SUCH-ITEM")
            expect(refused).to_contain_text("Item not found")
            with page.expect_download() as replay_csv:
                page.click("#replays a[download]")
            assert "NO-SUCH-ITEM,,refused" in Path(replay_csv.value.path()).read_text()
            page.screenshot(path=str(shots / "queue.png"), full_page=True)
            page.fill("input.note", "item withdrawn, record fixed")
            page.click("button.resolve")
            expect(page.locator(".empty")).to_contain_text("No open exceptions")

            # Statistics, and the CSV download.
            page.click("text=Statistics")
            expect(page.locator("#totals")).to_contain_text("Holds loaded into lockers")
            page.screenshot(path=str(shots / "statistics.png"), full_page=True)
            with page.expect_download() as download:
                page.click("#csv")
            saved = tmp_path / "stats.csv"
            download.value.save_as(saved)
            lines = saved.read_text().splitlines()
            assert lines[0] == "period_type,period,metric,value"
            assert any(line.startswith("total,") and ",locker_loaded,1" in line for line in lines)
            assert "MJN" not in saved.read_text() and MARIA_HOLD not in saved.read_text()

            page.click("text=Health")
            expect(page.locator("main")).to_contain_text("online")
            page.screenshot(path=str(shots / "health.png"))
        finally:
            browser.close()
    assert shutil.disk_usage(shots).free > 0 and len(list(shots.glob("*.png"))) == 7
