"""`bronco update apply BUNDLE`: install a signed release bundle on this station, switch to it,
and keep it only if it passes the health gate; otherwise go back by itself.

Steps, each recorded in /var/lib/bronco/update.json before it is taken (so a kill -9 or a power
cut at any step leaves a station `bronco update recover` puts on one version or the other):
verify -> wait until idle -> unpack into releases/<version> (the running one untouched) -> online
backup of the database -> switch `current` -> restart -> health gate. The gate passes when, within
the gate time, /healthz is ok, the ILS answers, no device is worse than before the update, the
kiosk (if this Pi has one) runs, and the station has not crashed twice. A failed gate switches
back, puts the database copy back only if the new version wrote no transaction (a patron was told
it is done: then the database is kept and the report says so), and restarts.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from station_core.durable_files import write_durably
from station_core.release_bundle import (
    BundleRefused,
    Manifest,
    trusted_keys,
    verify,
    version_key,
)

Say = Callable[[str], None]


@dataclass
class Station:
    """Where this station's parts are (the installer's layout; tests point elsewhere)."""
    prefix: Path = Path("/opt/bronco")
    state: Path = Path("/var/lib/bronco")
    keys: Path = Path("/etc/bronco/release-keys")
    database: Path = Path("/var/lib/bronco/station.db")
    healthz: str = "http://127.0.0.1:8080/healthz"
    services: list[str] = field(default_factory=lambda: ["bronco-station"])
    user: str = "bronco"

    @property
    def journal(self) -> Path:
        return self.state / "update.json"


@dataclass
class Outcome:
    result: str  # installed, rolled_back, refused, already
    version: str
    reason: str = ""
    database_restored: bool = False


# -- what is installed ------------------------------------------------------------------------
def current_release(station: Station) -> str:
    """The folder name `current` points at (releases/<name>)."""
    return Path(os.readlink(station.prefix / "current")).name


def public_version(release: str) -> str:
    return release.split("+", 1)[0]


def _switch(station: Station, release: str) -> None:
    link = station.prefix / "current"
    tmp = station.prefix / "current.new"
    tmp.unlink(missing_ok=True)
    tmp.symlink_to(f"releases/{release}")
    os.replace(tmp, link)
    fd = os.open(station.prefix, os.O_RDONLY)  # the rename itself survives a power cut
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _record(station: Station, **state: Any) -> None:
    write_durably(station.journal, json.dumps(state, default=str).encode(), mode=0o600)


def read_journal(station: Station) -> dict[str, Any]:
    try:
        return dict(json.loads(station.journal.read_text()))
    except (OSError, ValueError):
        return {}


def _health(station: Station) -> dict[str, Any] | None:
    try:
        with urllib.request.urlopen(station.healthz, timeout=5) as reply:
            return dict(json.load(reply))
    except (OSError, ValueError):
        return None


def _systemctl(*args: str) -> str:
    done = subprocess.run(["systemctl", *args], capture_output=True, text=True, timeout=120)
    return done.stdout.strip()


def _restarts(service: str) -> int:
    try:
        return int(_systemctl("show", "-p", "NRestarts", "--value", service) or 0)
    except ValueError:
        return 0


# -- the steps --------------------------------------------------------------------------------
def wait_idle(station: Station, timeout_s: float, say: Say) -> None:
    """Never in a patron's session or with a door open: wait for the station to be idle."""
    deadline = time.monotonic() + timeout_s
    told = False
    while True:
        health = _health(station)
        if health is None or health.get("idle", True):
            return  # a station that does not answer serves nobody
        if time.monotonic() > deadline:
            raise BundleRefused(f"the station was not idle for {int(timeout_s)} s (a patron or an "
                                "open door): try again later")
        if not told:
            say("waiting for the station to be idle (no patron session, no open door)")
            told = True
        time.sleep(2)


def unpack(station: Station, manifest: Manifest, members: dict[str, bytes], release: str,
           extras: str) -> Path:
    """releases/<release>: the bundle's files and a venv from its wheels only (no index)."""
    folder = station.prefix / "releases" / release
    if (folder / ".installed").exists():
        return folder
    shutil.rmtree(folder, ignore_errors=True)  # a half-made one from a run that was stopped
    # The code is for the station's user to read: never the service's own strict umask.
    saved = os.umask(0o022)
    try:
        return _unpack(folder, manifest, members, extras)
    finally:
        os.umask(saved)


def _unpack(folder: Path, manifest: Manifest, members: dict[str, bytes], extras: str) -> Path:
    for name in manifest.files:
        target = folder / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(members[name])
    subprocess.run([sys.executable, "-m", "venv", str(folder / "venv")], check=True, timeout=300)
    spec = f"bronco-station[{extras}]" if extras else "bronco-station"
    done = subprocess.run([str(folder / "venv/bin/pip"), "install", "-q", "--no-index",
                           "--find-links", str(folder / "wheels"), f"{spec}=={manifest.version}"],
                          capture_output=True, text=True, timeout=1800)
    if done.returncode != 0:
        shutil.rmtree(folder, ignore_errors=True)
        raise BundleRefused(f"the bundle's wheels do not install here: {done.stderr[-800:]}")
    (folder / ".installed").write_text(extras + "\n")
    return folder


def backup(station: Station, version: str) -> Path | None:
    """An online copy of the database (SQLite's backup API: safe while the station writes)."""
    if not station.database.exists():
        return None
    target = station.state / "backups" / f"before-{version}.db"
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    partial = target.with_suffix(".partial")
    source = sqlite3.connect(f"file:{station.database}?mode=ro", uri=True)
    copy = sqlite3.connect(partial)
    try:
        source.backup(copy)
    finally:
        copy.close()
        source.close()
    with open(partial, "rb") as fh:
        os.fsync(fh.fileno())
    os.replace(partial, target)
    shutil.chown(target, station.user, station.user) if _user_exists(station.user) else None
    return target


def _user_exists(user: str) -> bool:
    import pwd

    try:
        pwd.getpwnam(user)
    except KeyError:
        return False
    return True


def written_since(database: Path, since: str) -> int:
    """Transactions the station recorded since `since` (ISO): each one a patron was told about."""
    if not database.exists():
        return 0
    conn = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    try:
        row = conn.execute("SELECT count(*) FROM circ_transaction WHERE created_at >= ?",
                           (since.replace("T", " ").split("+")[0],)).fetchone()
        return int(row[0])
    except sqlite3.Error:
        return 0
    finally:
        conn.close()


def gate(station: Station, before: dict[str, Any] | None, restarts_before: int, timeout_s: float,
         kiosk: bool) -> str:
    """'' when the new version is healthy, else why not."""
    deadline = time.monotonic() + timeout_s
    worse_before = {(d.get("kind"), d.get("id")) for d in (before or {}).get("devices", [])
                    if d.get("state") != "ok"}
    reason = "the station did not answer /healthz"
    healthy_since: float | None = None
    while time.monotonic() < deadline:
        if _restarts(station.services[0]) - restarts_before >= 2:
            return "the new version crashed twice"
        health = _health(station)
        if health is not None:
            worse = [f"{d.get('kind')} {d.get('id')}" for d in health.get("devices", [])
                     if d.get("state") != "ok" and (d.get("kind"), d.get("id")) not in worse_before]
            if not health.get("ils", {}).get("online", False):
                reason = "the ILS login does not work in the new version"
            elif worse:
                reason = f"devices worse than before: {', '.join(worse)}"
            elif kiosk and _systemctl("is-active", "bronco-kiosk") != "active":
                reason = "the kiosk is not running"
            elif kiosk and not health.get("kiosk_drawn"):
                reason = "the kiosk has not drawn its first frame"
            else:
                healthy_since = healthy_since or time.monotonic()
                if time.monotonic() - healthy_since >= 10:  # healthy, and it stays so
                    return ""
                time.sleep(1)
                continue
        healthy_since = None
        time.sleep(2)
    return reason


def _new_sequence(database: Path) -> None:
    """The copy's outbox numbers events the new version already sent the hub: go on in a new
    sequence, so the hub takes none of what follows for a resend (bridge/fleet/link.py)."""
    conn = sqlite3.connect(database)
    try:
        conn.execute("INSERT OR REPLACE INTO station_setting (key, value) VALUES (?, ?)",
                     ("hub_sequence_epoch", uuid.uuid4().hex))
        conn.commit()
    except sqlite3.Error:
        pass  # a database without the table has never talked to a hub
    finally:
        conn.close()


def rollback(station: Station, journal: dict[str, Any], reason: str, say: Say, *,
             restart: bool = True) -> Outcome:
    """Back to the release before; `restart=False` at boot, where systemd starts the services
    after this (bronco-update-recover runs before them)."""
    old = journal["from"]
    say(f"rolling back to {old}: {reason}")
    if restart:
        for service in reversed(station.services):
            _systemctl("stop", service)
    _switch(station, old)
    restored = False
    copy = Path(journal["backup"]) if journal.get("backup") else None
    written = written_since(station.database, journal["started_at"])
    if copy is not None and copy.exists() and written == 0:
        for suffix in ("-wal", "-shm"):
            Path(f"{station.database}{suffix}").unlink(missing_ok=True)
        shutil.copyfile(copy, station.database)
        _new_sequence(station.database)
        if _user_exists(station.user):
            shutil.chown(station.database, station.user, station.user)
        os.chmod(station.database, 0o600)
        restored = True
    elif written:
        reason += (f"; the database is kept as the new version left it: it recorded {written} "
                   "transaction(s) patrons were told are done (check the staff console)")
    _record(station, **{**journal, "phase": "rolled_back", "reason": reason,
                        "database_restored": restored})
    if restart:
        for service in station.services:
            _systemctl("start", service)
    return Outcome("rolled_back", public_version(old), reason, restored)


def apply(bundle: Path, station: Station, say: Say, *, gate_s: float = 180, idle_s: float = 600,
          kiosk: bool = False, crash_at: str = "") -> Outcome:
    """The whole update; BundleRefused (nothing changed) when the bundle may not be installed."""
    old = current_release(station)
    manifest, members = verify(bundle, trusted_keys(station.keys), installed=public_version(old))
    if version_key(manifest.version) == version_key(public_version(old)):
        return Outcome("already", manifest.version, f"{manifest.version} is installed already")
    release = manifest.version
    extras = ((station.prefix / "releases" / old / ".installed").read_text().strip()
              if (station.prefix / "releases" / old / ".installed").exists() else "")
    wait_idle(station, idle_s, say)
    before = _health(station)
    started = datetime.now(UTC).isoformat()
    journal: dict[str, Any] = {"from": old, "to": release, "started_at": started, "backup": None}

    def step(phase: str) -> None:
        journal["phase"] = phase
        _record(station, **journal)
        if crash_at == phase:  # the tests' kill -9 at this step
            os.kill(os.getpid(), 9)

    step("unpacking")
    say(f"unpacking {release} into {station.prefix / 'releases' / release}")
    unpack(station, manifest, members, release, extras)
    step("backing_up")
    copy = backup(station, release)
    journal["backup"] = str(copy) if copy else None
    step("switching")
    restarts = _restarts(station.services[0])
    _switch(station, release)
    _install_units(station, station.prefix / "releases" / release / "systemd")
    step("gating")
    for service in station.services:
        _systemctl("restart", service)
    say(f"{release} started; health gate for up to {int(gate_s)} s")
    reason = gate(station, before, restarts, gate_s, kiosk)
    if reason:
        return rollback(station, journal, reason, say)
    _record(station, **{**journal, "phase": "done"})
    _prune(station, keep={release, old})
    return Outcome("installed", release)


def recover(station: Station, say: Say) -> Outcome | None:
    """At boot, before the station starts: an update that was stopped before its gate passed is
    undone (the gate never said the new version works)."""
    journal = read_journal(station)
    if not journal or journal.get("phase") in ("done", "rolled_back", None):
        return None
    reason = f"the update to {journal['to']} was interrupted while {journal['phase']}"
    if current_release(station) == journal["from"] and journal["phase"] in ("unpacking", "backing_up"):
        _record(station, **{**journal, "phase": "rolled_back", "reason": reason})
        say(reason + f": {journal['from']} kept")
        return Outcome("rolled_back", public_version(journal["from"]), reason)
    return rollback(station, journal, reason, say, restart=False)


UNITS_FOLDER = "etc/systemd/system"
UNITS = Path("/") / UNITS_FOLDER
# raspi-config's overlay file system (overlayroot) keeps the card's root here, read-only; what is
# written to / lives in RAM until the next boot (docs/operations.md, "A read-only root").
LOWER_ROOT = Path("/media/root-ro")


def _install_units(station: Station, folder: Path) -> None:
    """The bundle's units where systemd reads them (only those this station has installed); on a
    read-only root, also on the card underneath, or the next boot runs the old units."""
    changed = [unit for unit in folder.glob("*.service")
               if (UNITS / unit.name).exists()
               and (UNITS / unit.name).read_bytes() != unit.read_bytes()]
    for unit in changed:
        shutil.copyfile(unit, UNITS / unit.name)
    if changed and os.path.ismount(LOWER_ROOT):
        _on_lower_root(changed)
    if changed:
        _systemctl("daemon-reload")


def _on_lower_root(units: list[Path]) -> None:
    """Writes the units to the card under the overlay: its root is remounted writable for the
    copy and read-only again at once."""
    subprocess.run(["mount", "-o", "remount,rw", str(LOWER_ROOT)], check=True, timeout=60)
    try:
        for unit in units:
            write_durably(LOWER_ROOT / UNITS_FOLDER / unit.name, unit.read_bytes(),
                          mode=0o644)
    finally:
        subprocess.run(["mount", "-o", "remount,ro", str(LOWER_ROOT)], check=False, timeout=60)


def _prune(station: Station, keep: set[str]) -> None:
    """The running release, the one before, and one more: what a rollback may need."""
    releases = sorted((p for p in (station.prefix / "releases").iterdir() if p.is_dir()),
                      key=lambda p: p.stat().st_mtime, reverse=True)
    kept = 0
    for path in releases:
        if path.name in keep:
            continue
        kept += 1
        if kept > 1:
            shutil.rmtree(path, ignore_errors=True)


def as_dict(outcome: Outcome) -> dict[str, Any]:
    return asdict(outcome)
