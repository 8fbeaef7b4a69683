"""A rollout from the hub to two stations under systemd (two Debian 12 containers): the canary
first, the other only after the canary passed its health gate and soaked; a bundle that fails its
gate on the canary is rolled back there by itself, halts the rollout, alerts, and never reaches
the second station. The hub is a real process on PostgreSQL; the stations download the bundle
with their own token and check its signature themselves."""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from station_core.release_bundle import new_key_pair
from tests.conftest import free_port, start_demo_ils, stop, wait_for, wait_http
from tests.hub.conftest import Hub, fresh_database
from tests.install.container import Container
from tests.install.test_install_container import ARCH, install_profile, qemu_user_drop_in
from tests.install.test_updates_container import FIRST_PROBE, HEAD, release_of

pytestmark = [
    pytest.mark.slow,
    pytest.mark.timeout(2400),
    pytest.mark.skipif(shutil.which("systemd-nspawn") is None or shutil.which("mmdebstrap") is None,
                       reason="needs systemd-container and mmdebstrap (scripts/check-updates installs them)"),
]


class Station:
    def __init__(self, name: str, machine: Container, url: str) -> None:
        self.name, self.machine, self.url = name, machine, url

    def version(self) -> str:
        wait_http(f"{self.url}/healthz", timeout_s=120)
        return httpx.get(f"{self.url}/healthz", timeout=10).json()["version"]


@pytest.fixture(scope="module")
def rollout_hub_url(postgres) -> str:
    return fresh_database(postgres.url, "hub_rollout")


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory, rollout_hub_url: str) -> Iterator[tuple[Hub, dict]]:
    hub_url = rollout_hub_url
    work = tmp_path_factory.mktemp("rollout")
    private, public = new_key_pair()
    bundles = {"good": release_of(work / "good", "0.2.0", migrations=((FIRST_PROBE, HEAD),), key=private),
               "no-ils": release_of(work / "no-ils", "0.3.0", migrations=((FIRST_PROBE, HEAD),),
                                    no_ils=True, key=private)}
    hub = Hub(work, hub_url)
    hub.profile.write_text(hub.profile.read_text() + f'releases_dir = "{work / "hub-releases"}"\n'
                           "\n[alerts]\nevery_s = 1\nstation_offline_s = 600\n")
    hub.start()
    ils = start_demo_ils(work)
    stations: dict[str, Station] = {}
    try:
        for name in ("s1", "s2"):
            port = free_port()
            (work / name).mkdir()
            machine = Container.fresh(work / name, ARCH)
            text = install_profile(ils.port, port).replace('id = "demo-station"', f'id = "{name}"', 1)
            text += f'\n[hub]\nurl = "{hub.url}"\npush_interval_s = 0.5\ncommand_poll_s = 0.5\n'
            (machine.directory / "root/profile.toml").write_text(text)
            (machine.directory / "etc/bronco/release-keys").mkdir(parents=True)
            (machine.directory / "etc/bronco/release-keys/library.pub").write_bytes(public)
            (machine.directory / "etc/bronco/station.env").write_text("BRONCO_ILS_PASSWORD=demo\n")
            gate = machine.directory / "etc/systemd/system/bronco-update.service.d"
            gate.mkdir(parents=True)  # a short health gate for the test (180 s by default)
            (gate / "gate.conf").write_text("[Service]\nEnvironment=BRONCO_UPDATE_GATE_S=40\n")
            if ARCH != "amd64":
                qemu_user_drop_in(machine.directory)
            machine.name = f"bronco-{name}-{ARCH}"
            machine.boot()
            stations[name] = Station(name, machine, f"http://127.0.0.1:{port}")
            machine.run("/root/bronco-src/scripts/install-station", "--profile", "/root/profile.toml",
                        timeout_s=1200)
        admin = hub.token("it-admin", "admin")
        for name, station in stations.items():
            code = hub.call("POST", f"/api/v1/stations/{name}/enrolment-code", admin).json()["code"]
            station.machine.run("bronco", "hub", "enrol", "--code", code)
        yield hub, {"stations": stations, "bundles": bundles, "admin": admin}
    finally:
        for station in stations.values():
            station.machine.stop()
        stop(ils.proc)
        hub.kill()


def upload(hub: Hub, admin: str, bundle: Path) -> int:
    reply = httpx.post(f"{hub.url}/api/v1/releases", content=bundle.read_bytes(), timeout=120,
                       headers={"Authorization": f"Bearer {admin}"})
    assert reply.status_code == 200, reply.text
    return int(reply.json()["id"])


def watch(hub: Hub, admin: str, rollout: int, until: set[str], timeout_s: float) -> list[dict]:
    """Every distinct view of the rollout until its state is in `until`."""
    seen: list[dict] = []
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        now = hub.call("GET", f"/api/v1/rollouts/{rollout}", admin).json()
        if not seen or now != seen[-1]:
            seen.append(now)
        if now["state"] in until:
            return seen
        time.sleep(0.5)
    raise AssertionError(f"rollout {rollout} still {seen[-1]}")


def test_a_signed_bundle_goes_to_the_canary_then_to_the_rest(fleet) -> None:
    hub, parts = fleet
    admin, stations = parts["admin"], parts["stations"]
    release = upload(hub, admin, parts["bundles"]["good"])
    rollout = hub.call("POST", "/api/v1/rollouts", admin, json={
        "release_id": release, "stations": ["s1", "s2"], "canary": 1, "percent": 50,
        "soak_s": 5}).json()
    assert [(s["station"], s["stage"]) for s in rollout["stations"]] == [("s1", 0), ("s2", 1)]
    views = watch(hub, admin, rollout["id"], {"done", "halted"}, timeout_s=600)
    assert views[-1]["state"] == "done", views[-1]
    # s2 was sent the update only once s1 had installed it (and soaked).
    state = {v["stations"][1]["state"]: v["stations"][0]["state"] for v in views}
    assert state.get("sent") == "installed"
    assert stations["s1"].version() == "0.2.0" and stations["s2"].version() == "0.2.0"
    listed = {r["id"]: r for r in hub.call("GET", "/api/v1/stations", admin).json()}
    wait_for(lambda: all(r["version"] == "0.2.0" for r in
                         hub.call("GET", "/api/v1/stations", admin).json()), timeout_s=90)
    assert set(listed) == {"s1", "s2"}


def test_a_canary_that_fails_its_gate_rolls_back_halts_and_alerts(fleet) -> None:
    hub, parts = fleet
    admin, stations = parts["admin"], parts["stations"]
    release = upload(hub, admin, parts["bundles"]["no-ils"])
    rollout = hub.call("POST", "/api/v1/rollouts", admin, json={
        "release_id": release, "stations": ["s1", "s2"], "canary": 1, "soak_s": 5}).json()
    views = watch(hub, admin, rollout["id"], {"done", "halted"}, timeout_s=600)
    final = views[-1]
    assert final["state"] == "halted" and "ILS" in final["reason"], final
    by_station = {s["station"]: s for s in final["stations"]}
    assert by_station["s1"]["state"] == "rolled_back"
    assert by_station["s2"]["state"] == "waiting"  # never sent
    assert stations["s1"].version() == "0.2.0" and stations["s2"].version() == "0.2.0"
    alerts = hub.call("GET", "/api/v1/alerts", admin, params={"open": "true"}).json()
    assert any(a["kind"] == "rollout_halted" for a in alerts)
