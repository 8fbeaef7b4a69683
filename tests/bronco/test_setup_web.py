"""The setup page of a station with no profile yet: from the Pi itself it works at once, from
another machine only with the installer's one-time code, whose guesses are limited for good."""

from __future__ import annotations

import subprocess
import threading
from pathlib import Path

import httpx
import pytest
from starlette.testclient import TestClient

from bronco.setup.web import MAX_WRONG_CODES, setup_app
from bronco.setup.wizard import Targets
from station_core.profile import load_profile
from tests.conftest import DemoIls, bronco, free_port, stop, wait_http

LAN = ("192.0.2.10", 40000)


def targets(tmp_path: Path) -> Targets:
    return Targets(etc=tmp_path / "etc", udev=tmp_path / "udev", state=tmp_path / "state")


def form(ils: DemoIls, **changes: str) -> dict[str, str]:
    fields = {
        "library_name": "Main Library", "institution_id": "DEMO", "station_id": "desk-kiosk",
        "station_name": "Kiosk by the desk", "location_code": "MAIN", "kiosk": "on",
        "ils_host": "127.0.0.1", "ils_port": str(ils.port), "login_user": "kiosk",
        "login_location": "MAIN", "password": "demo", "dialect": "generic", "simulated": "on",
        "rows": "4", "kerong_addresses": "0",
    }
    fields.update(changes)
    return fields


def csrf_of(page: str) -> str:
    return page.split('name="csrf" value="', 1)[1].split('"', 1)[0]


def test_from_the_pi_itself_the_form_saves_a_checked_profile(tmp_path: Path, demo_ils: DemoIls) -> None:
    saved = []
    client = TestClient(setup_app(targets(tmp_path), None, saved.append))
    page = client.get("/console/setup")
    assert "content-security-policy" in page.headers
    reply = client.post("/console/setup", data={**form(demo_ils), "csrf": csrf_of(page.text)})
    assert reply.status_code == 200, reply.text
    assert len(saved) == 1
    profile = load_profile(tmp_path / "etc/profile.toml")
    assert profile.station.id == "desk-kiosk" and profile.kiosk.trust_loopback


def test_a_wrong_ils_password_is_shown_and_nothing_saved(tmp_path: Path, demo_ils: DemoIls) -> None:
    saved = []
    client = TestClient(setup_app(targets(tmp_path), None, saved.append))
    csrf = csrf_of(client.get("/console/setup").text)
    reply = client.post("/console/setup", data={**form(demo_ils, password="wrong",
                                                         library_name="<script>alert(1)</script>"),
                                                "csrf": csrf})
    assert reply.status_code == 422
    assert "refused" in reply.text
    # What was typed is kept (escaped), the password is not sent back.
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in reply.text and "<script>alert" not in reply.text
    assert 'value="wrong"' not in reply.text
    assert not saved and not (tmp_path / "etc/profile.toml").exists()


def test_another_machine_needs_the_code_and_guessing_it_ends_for_good(tmp_path: Path,
                                                                      demo_ils: DemoIls) -> None:
    code_file = tmp_path / "setup-code"
    code_file.write_text("K7QW-3MZP-X2\n")
    saved = []
    lan = TestClient(setup_app(targets(tmp_path), code_file, saved.append), client=LAN)
    page = lan.get("/console/setup")
    assert 'name="code"' in page.text and 'name="csrf"' not in page.text
    # Posting the form without the code does nothing.
    assert lan.post("/console/setup", data=form(demo_ils)).status_code == 403
    assert not (tmp_path / "etc/profile.toml").exists()
    # Many guesses at once from many addresses: the budget holds (counted before compared).
    def guess(n: int) -> None:
        other = TestClient(setup_app(targets(tmp_path), code_file, saved.append),
                           client=(f"198.51.100.{n}", 40000))
        other.post("/console/setup/code", data={"code": f"WRONG-{n}"})

    threads = [threading.Thread(target=guess, args=(n,)) for n in range(MAX_WRONG_CODES + 5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # The right code no longer works, even after a restart of the page (the count is on disk)...
    restarted = TestClient(setup_app(targets(tmp_path), code_file, saved.append), client=LAN)
    refused = restarted.post("/console/setup/code", data={"code": "K7QW-3MZP-X2"})
    assert refused.status_code == 403
    # ...but the Pi itself is not locked out.
    local = TestClient(setup_app(targets(tmp_path), code_file, saved.append))
    csrf = csrf_of(local.get("/console/setup").text)
    assert local.post("/console/setup", data={**form(demo_ils), "csrf": csrf}).status_code == 200


def test_the_right_code_opens_the_form_for_that_browser_only(tmp_path: Path, demo_ils: DemoIls) -> None:
    code_file = tmp_path / "setup-code"
    code_file.write_text("K7QW-3MZP-X2\n")
    saved = []
    app = setup_app(targets(tmp_path), code_file, saved.append)
    lan = TestClient(app, client=LAN)
    assert lan.post("/console/setup/code", data={"code": "k7qw-3mzp-x2"}).status_code == 200
    page = lan.get("/console/setup")
    assert 'name="csrf"' in page.text
    other = TestClient(app, client=("192.0.2.11", 40000))
    assert 'name="csrf"' not in other.get("/console/setup").text
    # A forged post from elsewhere without the form's token is refused even with the cookie.
    assert lan.post("/console/setup", data=form(demo_ils)).status_code == 403
    reply = lan.post("/console/setup", data={**form(demo_ils), "csrf": csrf_of(page.text)})
    assert reply.status_code == 200 and saved


@pytest.mark.slow
def test_the_setup_service_stops_once_the_profile_is_saved(tmp_path: Path, demo_ils: DemoIls) -> None:
    port = free_port()
    proc = subprocess.Popen(
        bronco("setup", "--web", "--port", str(port), "--etc", str(tmp_path / "etc"),
               "--state", str(tmp_path / "state"), "--udev", str(tmp_path / "udev")),
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        wait_http(f"http://127.0.0.1:{port}/console/setup", proc)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            csrf = csrf_of(client.get("/console/setup").text)
            assert client.post("/console/setup", data={**form(demo_ils), "csrf": csrf}).status_code == 200
        assert proc.wait(20) == 0  # the port is free for the station
        assert load_profile(tmp_path / "etc/profile.toml").station.id == "desk-kiosk"
    finally:
        stop(proc)
