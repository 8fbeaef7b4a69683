"""The staff console in real headless Chromium (Debian's), driven by Playwright: sign in, load a
hold and watch its door change in the live grid, open a door with a reason and find it in the
audit log, resolve an exception, download the statistics CSV; actions offered by door state and
destructive ones confirmed; a door standing open seen on the grid; Back after sign-out shows
nothing; the keyboard alone works; axe-core finds no serious violation on any page.
Screenshots go to the artefacts."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest
from axe_playwright_python import __file__ as axe_package

from tests.bridge.circulation.test_crash_replay import station_profile_file
from tests.conftest import bronco, free_port, start_demo_ils, stop, wait_http

if TYPE_CHECKING:
    from playwright.sync_api import Page

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


AXE = Path(axe_package).parent / "axe.min.js"
PAGES = ("/console", "/console/queue", "/console/health", "/console/tags", "/console/stats",
         "/console/audit")


def sign_in(page, url: str) -> None:
    page.goto(f"{url}/console/login")
    page.fill("input[name=username]", "desk1")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")


def sign_in_after_a_wrong_password(page: Page, url: str, user: str, password: str,
                                   shots: Path) -> None:
    """Signed out, the console sends the browser to sign in; a wrong password is refused in
    words; the right one lands on the console's first page."""
    from playwright.sync_api import expect

    page.goto(f"{url}/console")
    expect(page).to_have_url(f"{url}/console/login")
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", "not the password!")
    page.click("button[type=submit]")
    expect(page.locator(".error")).to_contain_text("Wrong user name or password")
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", password)
    page.screenshot(path=str(shots / "login.png"))
    page.click("button[type=submit]")
    expect(page).to_have_url(f"{url}/console")


def serious_violations(page: Page) -> list[str]:
    """axe-core's WCAG 2.x A/AA rules (2.2 included) run in the page; serious and critical only."""
    # Evaluated by the browser's debugger, as a tool would: the console's own CSP forbids inline
    # scripts, which add_script_tag would be.
    page.evaluate(AXE.read_text())
    result = page.evaluate("""async () => {
        const r = await axe.run(document, {runOnly: {type: "tag",
            values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]}});
        return r.violations.map(v => ({id: v.id, impact: v.impact,
            nodes: v.nodes.map(n => n.target.join(" ")).slice(0, 3)}));
    }""")
    return [f"{v['id']} ({v['impact']}): {v['nodes']}" for v in result
            if v["impact"] in ("serious", "critical")]


def test_console_in_chromium(console: dict, artifacts: Path, tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    url = console["url"]
    shots = artifacts / "console"
    shots.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900}, accept_downloads=True)
        try:
            sign_in_after_a_wrong_password(page, url, "desk1", PASSWORD, shots)
            expect(page.locator(".door")).to_have_count(16)
            expect(page.locator("#live")).to_have_text("live")  # only once the stream is open

            # Load a hold from the desk: the door pops, the grid follows live.
            page.fill("#load-item", MARIA_HOLD)
            page.press("#load-item", "Enter")
            expect(page.locator("#message")).to_contain_text("Door A01 for MJN: opened")
            a01 = page.locator('.door[data-door="A01"]')
            expect(a01).to_have_attribute("data-state", "reserved")
            expect(a01).to_contain_text("Being loaded")  # the legend's words, not "reserved"
            expect(page.locator("#legend")).to_contain_text("Being loaded")
            expect(a01).to_contain_text("Door open")  # it stands open while staff load it
            page.screenshot(path=str(shots / "lockers-reserved.png"))
            httpx.post(f"{url}/sim/boards/A/doors/1", json={"action": "close"})  # staff close it
            expect(a01).to_have_attribute("data-state", "loaded", timeout=10_000)
            expect(a01).not_to_contain_text("Door open")
            expect(page.locator('.door[data-door="A01"] .who')).to_have_text("MJN")
            page.screenshot(path=str(shots / "lockers-loaded.png"))

            # Actions by state: a loaded door can be moved or cancelled, not reclaimed; cancelling
            # is destructive, so it is asked twice, and saying no leaves the door as it was.
            a01.click()
            offered = page.locator("#door-actions button")
            expect(offered).to_have_text(["Open door", "Move to another door", "Cancel assignment"])
            expect(page.locator("#door-actions button.danger")).to_have_text(["Cancel assignment"])
            page.once("dialog", lambda dialog: dialog.dismiss())
            page.click("#door-actions button[value=cancel]")
            expect(a01).to_have_attribute("data-state", "loaded")
            page.keyboard.press("Escape")
            page.click('.door[data-door="A05"]')
            expect(offered).to_have_text(["Open door", "Take out of service"])

            # Open a door by hand: a reason is mandatory, and the open is audited.
            page.click("#door-actions button[value=open]")
            expect(page.locator("#message")).to_contain_text("needs a reason")
            page.click('.door[data-door="A05"]')
            page.fill("#door-reason", "patron left an umbrella")
            page.click("#door-actions button[value=open]")
            expect(page.locator("#message")).to_contain_text("Door A05: opened")
            expect(page.locator('.door[data-door="A05"]')).to_contain_text("Door open")
            page.click("text=Audit log")
            row = page.locator("#audit tr", has_text="patron left an umbrella")
            expect(row).to_contain_text("Door opened")  # words, not door_open
            expect(row).to_contain_text("desk1")
            failed = page.locator('#audit tr[data-action="login_failed"]').first
            expect(failed).to_contain_text("(not signed in)")  # a failed sign-in proves nobody
            page.screenshot(path=str(shots / "audit.png"))

            # Resolve the replay exception.
            page.click("text=Queue")
            expect(page.locator("#exceptions")).to_contain_text("NO-SUCH-ITEM")
            expect(page.locator("#exceptions")).to_contain_text("The ILS has no item with this barcode")
            expect(page.locator("#q-last-sync")).not_to_contain_text("T")  # no raw ISO stamp
            # The replay's report: the refused return, in the ILS's own words.
            refused = page.locator("#latest-replay tr.refused")
            expect(refused).to_contain_text("NO-SUCH-ITEM")
            expect(refused).to_contain_text("Item not found")
            with page.expect_download() as replay_csv:
                page.click("#replays a[download]")
            assert "NO-SUCH-ITEM,,refused" in Path(replay_csv.value.path()).read_text()
            page.screenshot(path=str(shots / "queue.png"), full_page=True)
            page.fill("input.note", "item withdrawn, record fixed")
            page.once("dialog", lambda dialog: dialog.dismiss())  # not yet: nothing changes
            page.click("button.resolve")
            expect(page.locator("#exceptions")).to_contain_text("NO-SUCH-ITEM")
            page.once("dialog", lambda dialog: dialog.accept())
            page.click("button.resolve")
            expect(page.locator(".empty").first).to_contain_text("No open exceptions")
            expect(page.locator("#exception-count")).to_have_class("count zero")

            # Statistics, drawn by Chart.js from the station's own copy, and the CSV download.
            page.click("text=Statistics")
            expect(page.locator("#totals")).to_contain_text("Holds loaded into lockers")
            expect(page.locator("#canvas-refused")).to_be_visible()  # the refused return
            expect(page.locator("#canvas-locker-use")).to_be_visible()  # A01 while loaded
            assert page.evaluate("() => Object.keys(Chart.instances).length") == 2
            expect(page.locator("#chart-by-hour .empty")).to_contain_text("Nothing to show")
            expect(page.locator("#chart-devices .empty")).to_contain_text("No tech devices")
            page.screenshot(path=str(shots / "statistics.png"), full_page=True)
            with page.expect_download() as download:
                page.click("#csv")
            saved = tmp_path / "stats.csv"
            download.value.save_as(saved)
            lines = saved.read_text().splitlines()
            assert lines[0] == "period_type,period,metric,value"
            assert any(line.startswith("total,") and line.endswith(",locker_loaded,1") for line in lines)
            assert "MJN" not in saved.read_text() and MARIA_HOLD not in saved.read_text()

            page.click("text=Health")
            expect(page.locator("main")).to_contain_text("online")
            page.screenshot(path=str(shots / "health.png"))
        finally:
            browser.close()
    taken = {"login", "lockers-reserved", "lockers-loaded", "audit", "queue", "statistics", "health"}
    assert taken <= {png.stem for png in shots.glob("*.png") if png.stat().st_size > 0}


def test_back_after_sign_out_shows_no_staff_page(console: dict) -> None:
    """A shared desk PC: the next person presses Back after a colleague signed out."""
    from playwright.sync_api import expect, sync_playwright

    url = console["url"]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page()
        try:
            sign_in(page, url)
            page.goto(f"{url}/console/audit")
            expect(page.locator("#audit")).to_contain_text("Signed in")
            page.click("text=Sign out")
            expect(page).to_have_url(f"{url}/console/login")
            page.go_back()
            page.wait_for_load_state()
            expect(page).to_have_url(f"{url}/console/login")
            expect(page.locator("#audit")).to_have_count(0)
            assert "desk1" not in page.content()
            sign_in(page, url)
            page.goto(f"{url}/console/audit")
            expect(page.locator('#audit tr[data-action="logout"]')).to_contain_text("desk1")
        finally:
            browser.close()


def test_every_page_passes_axe_and_works_by_keyboard(console: dict, artifacts: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    url = console["url"]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        try:
            page.goto(f"{url}/console/login")
            assert serious_violations(page) == [], "login"
            sign_in(page, url)
            for path in PAGES:
                page.goto(url + path)
                page.wait_for_load_state("networkidle")
                assert serious_violations(page) == [], path
            # The keyboard alone: tab to a door, open its dialog, leave with Escape.
            page.goto(f"{url}/console")
            expect(page.locator(".door")).to_have_count(16)
            page.locator('.door[data-door="A02"]').focus()
            page.keyboard.press("Enter")
            expect(page.locator("#door-dialog")).to_be_visible()
            assert serious_violations(page) == [], "door dialog"
            page.keyboard.press("Escape")
            expect(page.locator("#door-dialog")).to_be_hidden()
            page.keyboard.press("Tab")
            focused = page.evaluate("() => document.activeElement.outerHTML")
            assert focused.startswith("<button") and "door" in focused  # focus came back to the grid
        finally:
            browser.close()


def test_programming_two_items_from_a_stack_and_an_overwrite(console: dict, artifacts: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    from rfid.tags.decoding import encode_tag
    from rfid.tags.model import TagValue

    url = console["url"]
    for uid in ("E0040100000000F1", "E0040100000000F2"):
        httpx.post(f"{url}/sim/readers/techpad/tags", json={"uid": uid, "data": ""})
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        try:
            sign_in(page, url)
            page.goto(f"{url}/console/tags")
            rows = page.locator("#pad-tags tbody tr")
            expect(rows).to_have_count(2)  # live from the pad
            expect(rows.first).to_contain_text("blank")
            page.check("#tag-batch")  # a conversion stack: one barcode per blank tag
            for item in ("3100002000", "3100002001"):
                page.fill("#tag-item", item)
                page.keyboard.press("Enter")
                expect(page.locator("#message")).to_contain_text(f"{item} programmed and verified")
            expect(page.locator("#tag-results tbody tr")).to_have_count(2)
            expect(page.locator("#tag-totals")).to_contain_text("2 done, 0 refused")
            expect(page.locator("#pad-tags tbody tr", has_text="blank")).to_have_count(0)
            expect(page.locator("#pad-tags tbody")).to_contain_text("item 3100002001")
            page.screenshot(path=str(artifacts / "console" / "tags.png"), full_page=True)

            # Another library's tag: refused, then overwritten once staff confirm.
            httpx.delete(f"{url}/sim/readers/techpad/tags/E0040100000000F1")
            httpx.delete(f"{url}/sim/readers/techpad/tags/E0040100000000F2")
            foreign = encode_tag(TagValue("4711", "DE-1", "DE", data_model="28560-3")).hex()
            httpx.post(f"{url}/sim/readers/techpad/tags",
                       json={"uid": "E0040100000000F3", "data": foreign})
            expect(page.locator("#pad-tags tbody")).to_contain_text("another library's tag")
            page.uncheck("#tag-batch")
            asked: list[str] = []
            page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.accept()))
            page.fill("#tag-item", "3100002002")
            page.keyboard.press("Enter")
            expect(page.locator("#message")).to_contain_text("3100002002 programmed and verified")
            assert "another library's tag" in asked[0]
            page.goto(f"{url}/console/audit")
            expect(page.locator("body")).to_contain_text("Tag overwritten")
            page.goto(f"{url}/console/tags")
            expect(page.locator("#converted-by-staff")).to_contain_text("3")
            page.goto(f"{url}/console/stats")
            expect(page.locator("#conversion")).to_contain_text("3 items programmed (3 tags)")
        finally:
            browser.close()
