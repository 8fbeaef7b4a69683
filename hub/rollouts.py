"""Staged rollouts of a release bundle: the canary station first, then a share of the stations,
then the rest; each stage only once every station of the stage before passed its health gate and
the soak time went by. A station that rolled back halts the rollout and alerts (email and webhook,
as every hub alert). The hub hands out the bundle; each station checks its signature itself."""

from __future__ import annotations

import hashlib
import math
import shutil
import tempfile
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from hub.fleet import FleetError, audit, aware, now
from hub.models import HubCommand, HubRelease, HubRollout, HubRolloutStation, HubStation
from station_core.release_bundle import MANIFEST, BundleRefused, Manifest, read_members

FINAL = ("installed", "rolled_back", "failed")


def upload(engine: Engine, folder: Path, data_path: Path, *, by: str) -> dict[str, Any]:
    """Keep an uploaded bundle (already on disk at `data_path`); its manifest says what it is."""
    try:
        members = read_members(data_path)
        manifest = Manifest.from_bytes(members[MANIFEST])
    except (BundleRefused, KeyError) as exc:
        data_path.unlink(missing_ok=True)
        raise FleetError(422, f"not a release bundle: {exc}") from None
    digest = hashlib.sha256(data_path.read_bytes()).hexdigest()
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{digest}.tar"
    shutil.move(data_path, target)
    with Session(engine) as db:
        row = db.exec(select(HubRelease).where(HubRelease.sha256 == digest)).first()
        if row is None:
            row = HubRelease(version=manifest.version[:64], arch=manifest.arch[:32], sha256=digest,
                             size=target.stat().st_size, file=target.name, uploaded_by=by,
                             uploaded_at=now())
            db.add(row)
            audit(db, by, "release_uploaded", manifest.version, digest)
            db.commit()
            db.refresh(row)
        return release_row(row)


def release_row(row: HubRelease) -> dict[str, Any]:
    return {"id": row.id, "version": row.version, "arch": row.arch, "sha256": row.sha256,
            "size": row.size, "uploaded_by": row.uploaded_by,
            "uploaded_at": aware(row.uploaded_at).isoformat()}


def releases(engine: Engine) -> list[dict[str, Any]]:
    with Session(engine) as db:
        return [release_row(r) for r in db.exec(select(HubRelease).order_by(col(HubRelease.id)))]


def bundle_file(engine: Engine, folder: Path, release_id: int, station_id: str) -> Path:
    """The bundle, for a station that some rollout of it names (nobody else fetches it)."""
    with Session(engine) as db:
        release = db.get(HubRelease, release_id)
        named = db.exec(select(HubRolloutStation).join(
            HubRollout, col(HubRollout.id) == col(HubRolloutStation.rollout_id)).where(
            HubRollout.release_id == release_id, HubRolloutStation.station_id == station_id)).first()
    if release is None or named is None:
        raise FleetError(404, "no such release for this station")
    return folder / release.file


def plan(stations: list[str], canary: int, percent: int) -> list[list[str]]:
    """Stages: the first `canary` stations, then up to `percent`% of all, then the rest."""
    stations = sorted(stations)
    cut = min(len(stations), max(canary, math.ceil(len(stations) * percent / 100)))
    stages = [stations[:canary], stations[canary:cut], stations[cut:]]
    return [stage for stage in stages if stage]


def start(engine: Engine, release_id: int, *, stations: list[str], branch: str, canary: int,
          percent: int, soak_s: float, by: str) -> dict[str, Any]:
    with Session(engine) as db:
        if db.get(HubRelease, release_id) is None:
            raise FleetError(404, f"no release {release_id}")
        query = select(HubStation).where(col(HubStation.token_digest).is_not(None),
                                         col(HubStation.revoked_at).is_(None))
        enrolled = db.exec(query).all()
        chosen = [s.id for s in enrolled if (not stations or s.id in stations)
                  and (not branch or s.branch == branch)]
        unknown = set(stations) - {s.id for s in enrolled}
        if unknown:
            raise FleetError(422, f"not enrolled stations: {', '.join(sorted(unknown))}")
        if not chosen:
            raise FleetError(422, "no station to update")
        stages = plan(chosen, canary, percent)
        rollout = HubRollout(release_id=release_id, stages=len(stages), soak_s=soak_s, created_by=by,
                             created_at=now())
        db.add(rollout)
        db.flush()
        for n, stage in enumerate(stages):
            for station_id in stage:
                db.add(HubRolloutStation(rollout_id=rollout.id, station_id=station_id, stage=n))
        audit(db, by, "rollout_started", f"release {release_id}",
              " then ".join(",".join(s) for s in stages))
        db.commit()
        assert rollout.id is not None
        rollout_id = rollout.id
    return status(engine, rollout_id)


def status(engine: Engine, rollout_id: int) -> dict[str, Any]:
    with Session(engine) as db:
        rollout = db.get(HubRollout, rollout_id)
        if rollout is None:
            raise FleetError(404, f"no rollout {rollout_id}")
        rows = db.exec(select(HubRolloutStation).where(HubRolloutStation.rollout_id == rollout_id)
                       .order_by(col(HubRolloutStation.stage), col(HubRolloutStation.station_id))).all()
        release = db.get(HubRelease, rollout.release_id)
        return {"id": rollout.id, "release": release_row(release) if release else None,
                "state": rollout.state, "reason": rollout.reason, "stage": rollout.stage,
                "stages": rollout.stages, "soak_s": rollout.soak_s,
                "stations": [{"station": r.station_id, "stage": r.stage, "state": r.state,
                              "reason": r.reason} for r in rows]}


def recent(engine: Engine, limit: int = 50) -> list[dict[str, Any]]:
    with Session(engine) as db:
        ids = db.exec(select(HubRollout.id).order_by(col(HubRollout.id).desc()).limit(limit)).all()
    return [status(engine, int(i)) for i in ids if i is not None]


def advance(engine: Engine) -> None:
    """One round: send the current stage's commands, halt on a rollback, move on after the soak."""
    with Session(engine) as db:
        running = db.exec(select(HubRollout).where(HubRollout.state == "running")
                          .with_for_update()).all()
        for rollout in running:
            _advance_one(db, rollout)
        db.commit()


def _advance_one(db: Session, rollout: HubRollout) -> None:
    assert rollout.id is not None
    rows = db.exec(select(HubRolloutStation).where(HubRolloutStation.rollout_id == rollout.id)).all()
    failed = [r for r in rows if r.state in ("rolled_back", "failed")]
    if failed:
        first = failed[0]
        rollout.state = "halted"
        rollout.reason = f"{first.station_id} {first.state.replace('_', ' ')}: {first.reason}"[:300]
        audit(db, "hub", "rollout_halted", f"rollout {rollout.id}", rollout.reason)
        db.add(rollout)
        return
    release = db.get(HubRelease, rollout.release_id)
    assert release is not None
    stage = [r for r in rows if r.stage == rollout.stage]
    for row in stage:
        if row.state == "waiting":
            # Not a command staff may queue (COMMAND_KINDS): only a rollout sends updates.
            args = {"rollout": rollout.id, "release": release.id or 0, "version": release.version,
                    "sha256": release.sha256, "size": release.size}
            db.add(HubCommand(station_id=row.station_id, kind="update", args=args,
                              created_by=f"rollout:{rollout.id}", created_at=now()))
            row.state, row.updated_at = "sent", now()
            db.add(row)
    if not stage or any(r.state != "installed" for r in stage):
        return
    passed = max(aware(r.updated_at) for r in stage if r.updated_at)
    if now() - passed < timedelta(seconds=rollout.soak_s):
        return  # the stage soaks: it must stay healthy a while before the next goes
    rollout.stage += 1
    rollout.stage_passed_at = now()
    if rollout.stage >= rollout.stages:
        rollout.state = "done"
    db.add(rollout)


def halted(engine: Engine) -> list[HubRollout]:
    with Session(engine) as db:
        return list(db.exec(select(HubRollout).where(HubRollout.state == "halted")).all())


def save_upload(chunks: bytes) -> Path:
    with tempfile.NamedTemporaryFile(delete=False, suffix=".tar") as handle:
        handle.write(chunks)
    return Path(handle.name)
