"""Rollouts at the hub, stage by stage, with the hub's API and its round (hub/rollouts.py): the
canary alone first, the next stage only after the canary installed and soaked, a rollback halting
everything with an alert, and only named stations fetching the bundle. The stations' side under
systemd is tests/install/test_rollout_containers.py (scripts/check-updates)."""

from __future__ import annotations

import hashlib
import platform
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine
from sqlmodel import Session, select

from hub import rollouts
from hub.alerts import conditions
from hub.fleet import create_staff_token
from hub.models import HubRolloutStation
from hub.profile import AlertSettings, HubProfile, HubSettings
from station_core.release_bundle import Manifest, this_python, write_bundle
from tests.hub.test_hub_api import bearer, code_for, enrol


def client_with_releases(engine: Engine, url: str, folder: Path):
    from fastapi.testclient import TestClient

    from hub.app import create_hub_app

    profile = HubProfile(hub=HubSettings(database_url=url, releases_dir=folder))
    return TestClient(create_hub_app(profile, engine), client=("127.0.0.1", 50000))


def a_bundle(tmp_path: Path) -> bytes:
    files = {"systemd/bronco-station.service": b"[Service]\n"}
    manifest = Manifest(version="0.2.0", arch=platform.machine(), python=this_python(),
                        files={n: hashlib.sha256(d).hexdigest() for n, d in files.items()})
    path = tmp_path / "b.tar"
    write_bundle(path, files, manifest.to_bytes(), b"c2lnbmF0dXJl\n")
    return path.read_bytes()


def report(client, token: str, seq: int, rollout: int, result: str, epoch: str) -> None:
    event = {"event_id": str(uuid.uuid4()), "seq": seq, "kind": "update",
             "at": datetime.now(UTC).isoformat(),
             "payload": {"rollout": rollout, "version": "0.2.0", "result": result,
                         "reason": "the ILS login does not work in the new version"}}
    assert client.post("/api/v1/fleet/events", json={"events": [event], "epoch": epoch},
                       headers=bearer(token)).status_code == 200


def commands(client, token: str) -> list[dict]:
    return [c for c in client.get("/api/v1/fleet/commands", headers=bearer(token)).json()
            if c["kind"] == "update"]


def soaked(engine: Engine, rollout: int) -> None:
    with Session(engine) as db:
        for row in db.exec(select(HubRolloutStation).where(HubRolloutStation.rollout_id == rollout)):
            if row.updated_at is not None:
                row.updated_at -= timedelta(hours=1)
                db.add(row)
        db.commit()


def test_stages_wait_for_the_canary_and_a_rollback_halts_and_alerts(
        hub_engine: Engine, hub_url: str, tmp_path: Path) -> None:
    client = client_with_releases(hub_engine, hub_url, tmp_path / "releases")
    admin = create_staff_token(hub_engine, "it-admin", "admin")
    tokens = {name: enrol(client, name, code_for(client, admin, name)) for name in ("a", "b", "c")}
    uploaded = client.post("/api/v1/releases", content=a_bundle(tmp_path), headers=bearer(admin))
    assert uploaded.status_code == 200, uploaded.text
    release = uploaded.json()["id"]
    started = client.post("/api/v1/rollouts", headers=bearer(admin), json={
        "release_id": release, "canary": 1, "percent": 50, "soak_s": 600}).json()
    assert [(s["station"], s["stage"]) for s in started["stations"]] == [("a", 0), ("b", 1), ("c", 2)]
    rollout = started["id"]

    rollouts.advance(hub_engine)
    assert [len(commands(client, tokens[n])) for n in "abc"] == [1, 0, 0]  # the canary alone
    # Only a station the rollout names gets the bundle; a stranger's token gets nothing.
    assert client.get(f"/api/v1/fleet/releases/{release}/bundle",
                      headers=bearer(tokens["a"])).status_code == 200
    outsider = enrol(client, "z", code_for(client, admin, "z"))
    assert client.get(f"/api/v1/fleet/releases/{release}/bundle",
                      headers=bearer(outsider)).status_code == 404
    # Resuming a cut download: a Range request gives the rest.
    rest = client.get(f"/api/v1/fleet/releases/{release}/bundle",
                      headers={**bearer(tokens["a"]), "Range": "bytes=100-"})
    assert rest.status_code == 206 and len(rest.content) == len(a_bundle(tmp_path)) - 100

    report(client, tokens["a"], 1, rollout, "installed", "ea")
    rollouts.advance(hub_engine)
    assert commands(client, tokens["b"]) == []  # installed, but not soaked yet
    soaked(hub_engine, rollout)
    rollouts.advance(hub_engine)  # the canary's stage passed
    rollouts.advance(hub_engine)  # the next stage goes out
    assert len(commands(client, tokens["b"])) == 1 and commands(client, tokens["c"]) == []

    report(client, tokens["b"], 1, rollout, "rolled_back", "eb")
    rollouts.advance(hub_engine)
    halted = client.get(f"/api/v1/rollouts/{rollout}", headers=bearer(admin)).json()
    assert halted["state"] == "halted" and halted["reason"].startswith("b rolled back")
    rollouts.advance(hub_engine)
    assert commands(client, tokens["c"]) == []  # the last stage never goes
    found = conditions(hub_engine, AlertSettings(), datetime.now(UTC))
    assert f"rollout_halted:{rollout}" in found


def test_a_station_cannot_report_for_a_rollout_that_does_not_name_it(
        hub_engine: Engine, hub_url: str, tmp_path: Path) -> None:
    client = client_with_releases(hub_engine, hub_url, tmp_path / "releases")
    admin = create_staff_token(hub_engine, "it-admin", "admin")
    tokens = {name: enrol(client, name, code_for(client, admin, name)) for name in ("a", "b")}
    release = client.post("/api/v1/releases", content=a_bundle(tmp_path),
                          headers=bearer(admin)).json()["id"]
    rollout = client.post("/api/v1/rollouts", headers=bearer(admin), json={
        "release_id": release, "stations": ["a"], "soak_s": 0}).json()["id"]
    rollouts.advance(hub_engine)
    report(client, tokens["b"], 1, rollout, "rolled_back", "eb")  # b is not in it: ignored
    rollouts.advance(hub_engine)
    assert client.get(f"/api/v1/rollouts/{rollout}", headers=bearer(admin)).json()["state"] == "running"
    report(client, tokens["a"], 1, rollout, "installed", "ea")
    rollouts.advance(hub_engine)
    rollouts.advance(hub_engine)
    assert client.get(f"/api/v1/rollouts/{rollout}", headers=bearer(admin)).json()["state"] == "done"
    # Staff cannot queue an update by hand: only a rollout sends one.
    queued = client.post("/api/v1/stations/a/commands", headers=bearer(admin),
                         json={"kind": "update", "args": {"release": release}})
    assert queued.status_code == 422
