"""The console's Returns page in headless Chromium against a return line of real processes
(bench/returns_line.py): a jam is shown with how to clear it and Resume starts the belt again;
"Bin emptied" gives the list for the cart and the bin starts afresh; axe-core finds no serious
violation. Screenshots go to the artefacts."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.returns_line import STAFF_PASSWORD, ReturnLineRun
from tests.console.test_console_browser import CHROMIUM, FLAGS, serious_violations

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not Path(CHROMIUM).exists(),
                       reason="Debian's chromium is not installed (scripts/run-tests installs it)"),
]


def test_the_returns_page_clears_a_jam_and_empties_a_bin(tmp_path: Path, artifacts: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    shots = artifacts / "console"
    shots.mkdir(parents=True, exist_ok=True)
    with ReturnLineRun(tmp_path / "line", items=13, segment_s=0.25) as run:
        ordinary = [d for d in run.drops if d.bin >= 0]
        for drop in ordinary[:5]:
            run.drop(drop)
        stuck = next(d for d in ordinary[5:] if d.bin >= 4 or d.bin == 0)
        stuck.jam_before = 3
        run.drop(stuck)
        run.wait_state("jammed")
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            try:
                page.goto(f"{run.url}/console/login")
                page.fill("input[name=username]", "desk1")
                page.fill("input[name=password]", STAFF_PASSWORD)
                page.click("button[type=submit]")  # a book drop has no lockers: Returns first
                expect(page).to_have_url(f"{run.url}/console/returns")
                expect(page.locator("nav")).not_to_contain_text("Lockers")
                expect(page.locator("#belt-state")).to_contain_text("Jammed")
                expect(page.locator("#belt-state")).to_contain_text("diverter 3")
                expect(page.locator("main")).to_contain_text(stuck.item_id)  # which item
                expect(page.locator("#how-to-clear")).to_be_visible()
                page.screenshot(path=str(shots / "returns-jammed.png"), full_page=True)
                assert serious_violations(page) == []
                run.belt.clear_jam()  # staff free the item on the belt...
                page.once("dialog", lambda dialog: dialog.accept())
                page.click("#belt-resume")  # ...and resume
                expect(page.locator("#belt-state")).not_to_contain_text("Jammed", timeout=10_000)
                run.settled(30)
                page.reload()
                landed = {k: names for k, names in enumerate(run.belt.bins) if names}
                bin_k, names = next(iter(landed.items()))
                row = page.locator(f'tr[data-bin="{bin_k}"]')
                expect(row.locator(".bin-count")).to_have_text(str(len(names)))
                page.once("dialog", lambda dialog: dialog.accept())
                row.locator("button.bin-emptied").click()
                expect(page.locator("#cart")).to_be_visible()
                expect(page.locator("#cart-items li")).to_have_count(len(names))
                expect(row.locator(".bin-count")).to_have_text("0")
                page.screenshot(path=str(shots / "returns-emptied.png"), full_page=True)
                page.reload()
                expect(page.locator(f'tr[data-bin="{bin_k}"] .bin-count')).to_have_text("0")
            finally:
                browser.close()
    assert stuck.item_id in {n for names in run.belt.bins for n in names}  # nothing lost
