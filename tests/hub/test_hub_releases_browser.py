"""The hub console's Releases page in headless Chromium: an admin uploads a release bundle, ticks
two stations and starts a rollout; the page shows the canary sent its update while the other
waits (the hub's round runs every second here). axe-core finds no serious violation."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.conftest import bronco
from tests.console.test_console_browser import (
    CHROMIUM,
    FLAGS,
    serious_violations,
    sign_in_after_a_wrong_password,
)
from tests.hub.conftest import Hub
from tests.hub.test_rollouts import a_bundle

PASSWORD = "a long hub password"
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not Path(CHROMIUM).exists(),
                       reason="Debian's chromium is not installed (scripts/run-tests installs it)"),
]


def test_an_admin_uploads_a_bundle_and_starts_a_rollout(tmp_path: Path, hub_url: str,
                                                         artifacts: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    hub = Hub(tmp_path, hub_url)
    hub.profile.write_text(hub.profile.read_text() + f'releases_dir = "{tmp_path / "releases"}"\n'
                           "\n[alerts]\nevery_s = 1\n")
    hub.start()
    try:
        subprocess.run(bronco("hub", "user", "hubadmin", "--profile", str(hub.profile), "--role",
                              "admin"), check=True, capture_output=True,
                       env={**os.environ, "BRONCO_STAFF_PASSWORD": PASSWORD})
        admin = hub.token("it-admin", "admin")
        for name in ("north", "south"):
            code = hub.call("POST", f"/api/v1/stations/{name}/enrolment-code", admin).json()["code"]
            assert hub.call("POST", "/api/v1/enrol", admin,
                            json={"station_id": name, "code": code}).status_code == 200
        bundle = tmp_path / "bronco-station-0.2.0.tar"
        bundle.write_bytes(a_bundle(tmp_path))
        shots = artifacts / "hub-console"
        shots.mkdir(exist_ok=True)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            try:
                sign_in_after_a_wrong_password(page, hub.url, "hubadmin", PASSWORD, shots)
                page.click("nav >> text=Releases")
                page.set_input_files("#bundle-file", str(bundle))
                page.click("#upload-form button")
                expect(page.locator("#releases")).to_contain_text("0.2.0", timeout=15000)
                page.check('.rollout-station[value="north"]')
                page.check('.rollout-station[value="south"]')
                page.fill("#rollout-soak", "1")
                page.click("#rollout-form button")
                expect(page.locator("#message")).to_contain_text("started")
                row = page.locator("#rollouts tbody tr").first
                expect(row).to_contain_text("north: sent", timeout=15000)
                expect(row).to_contain_text("south: waiting")
                expect(row).to_contain_text("1 of 2")
                page.screenshot(path=str(shots / "releases-rollout.png"), full_page=True)
                assert serious_violations(page) == []
            finally:
                browser.close()
    finally:
        hub.kill()
