"""The installer without a profile: a setup page on port 8080 (the one-time code for other
machines), and the station started by systemd once the page saved a profile."""

from __future__ import annotations

import shutil
import socket
from pathlib import Path

import httpx
import pytest

from tests.conftest import start_demo_ils, stop, wait_http
from tests.install.container import Container
from tests.install.test_install_container import ARCH, checkout

pytestmark = [
    pytest.mark.slow,
    pytest.mark.timeout(1500),
    pytest.mark.skipif(shutil.which("systemd-nspawn") is None or shutil.which("mmdebstrap") is None,
                       reason="needs systemd-container and mmdebstrap (scripts/run-tests installs them)"),
]


def port_free(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


def test_no_profile_gives_a_setup_page_that_starts_the_station(tmp_path: Path) -> None:
    # The container shares the host's network, and the page listens where the station will: 8080.
    assert port_free(8080), "port 8080 is taken on this machine"
    ils = start_demo_ils(tmp_path)
    machine = Container.fresh(tmp_path, ARCH)
    machine.boot()
    try:
        out = machine.run("/root/bronco-src/scripts/install-station", "--kiosk", timeout_s=1200).stdout
        code = machine.run("cat", "/etc/bronco/setup-code").stdout.strip()
        assert code in out and "8080/console/setup" in out
        assert machine.service("bronco-station", "UnitFileState") != "enabled"
        assert machine.service("bronco-setup", "ActiveState") == "active"
        assert machine.run("stat", "-c", "%a", "/etc/bronco/setup-code").stdout.strip() == "600"
        wait_http("http://127.0.0.1:8080/console/setup", timeout_s=60)

        with httpx.Client(base_url="http://127.0.0.1:8080", timeout=60) as client:
            page = client.get("/console/setup").text
            csrf = page.split('name="csrf" value="', 1)[1].split('"', 1)[0]
            reply = client.post("/console/setup", data={
                "csrf": csrf, "library_name": "Main Library", "institution_id": "DEMO",
                "station_id": "desk-kiosk", "location_code": "MAIN", "kiosk": "on",
                "ils_host": "127.0.0.1", "ils_port": str(ils.port), "login_user": "kiosk",
                "login_location": "MAIN", "password": "demo", "simulated": "on", "rows": "4"})
            assert reply.status_code == 200, reply.text

        # The page stopped, systemd started the station on the saved profile, the code is gone.
        machine.wait_service("bronco-station", timeout_s=120)
        wait_http("http://127.0.0.1:8080/healthz", timeout_s=90)
        assert checkout("http://127.0.0.1:8080", "3100002002")["ok"] is True
        assert machine.service("bronco-station", "UnitFileState") == "enabled"
        assert machine.run("test", "-e", "/etc/bronco/setup-code", check=False).returncode != 0
        # The installer run again removes the page for good.
        again = machine.run("/root/bronco-src/scripts/install-station", "--kiosk", timeout_s=1200).stdout
        assert "setup page removed" in again
        assert machine.run("test", "-e", "/etc/systemd/system/bronco-setup.service",
                           check=False).returncode != 0
    finally:
        machine.stop()
        stop(ils.proc)
