"""`bronco restore --from-hub`: a new SD card gets back what the dead one held - the locker
assignments, pickup codes, the unsent offline queue, staff accounts and the station key - from the
sealed copy the station kept at the hub, opened with the library's recovery key.

A restored queue never sends a transaction the ILS already has: the hub knows, by id, every
transaction the old card reported as done (it may have replayed some after its last copy), and
those are marked done before the station starts. What was sent but never answered stays 'sent'
and the replay settles it with item information, as after any crash.
"""

from __future__ import annotations

import os
import pwd
import shutil
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx

from bridge.access.station_key import default_key_file
from bridge.fleet.state_copy import unpack
from station_core.durable_files import write_durably
from station_core.profile import Profile
from station_core.sealing import SealError, open_with_recovery_key


class RestoreRefused(Exception):
    pass


@dataclass
class Restored:
    taken_at: str
    queued: int
    marked_done: int
    lockers_in_use: int
    database: Path
    key_file: Path


def key_file_for(profile: Profile) -> Path:
    """Where the station reads its key: the installer's credential file, the profile's, or the
    file beside the database."""
    if profile.server.key_file:
        return profile.server.key_file
    if os.geteuid() == 0 and Path("/etc/bronco").is_dir():
        return Path("/etc/bronco/station.key")
    key = default_key_file(profile.server.database_url)
    if key is None:
        raise RestoreRefused("a station on PostgreSQL is restored with its own database tools")
    return key


def _in_use(path: Path) -> int:
    if not path.exists():
        return 0
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        rows = conn.execute("SELECT (SELECT count(*) FROM circ_transaction) + "
                            "(SELECT count(*) FROM locker_door WHERE state != 'free')").fetchone()
        return int(rows[0])
    except sqlite3.Error:
        return 0
    finally:
        conn.close()


def restore(profile: Profile, *, code: str, recovery_private: str, force: bool = False,
            say: Callable[[str], None] = print) -> Restored:
    from bridge.db.engine import open_database
    from bridge.fleet.link import new_sequence_epoch, store_token

    url = profile.server.database_url
    if not url.startswith("sqlite:///"):
        raise RestoreRefused("a station on PostgreSQL is restored with its own database tools")
    if not profile.hub.url:
        raise RestoreRefused("the profile names no hub ([hub] url)")
    database = Path(url.removeprefix("sqlite:///"))
    if _in_use(database) and not force:
        raise RestoreRefused(f"{database} already holds transactions or loaded lockers: restoring "
                             "would replace them (--force if this card is to be overwritten)")
    hub = profile.hub.url.rstrip("/")
    with httpx.Client(base_url=hub, timeout=60) as client:
        enrolled = client.post("/api/v1/enrol", json={"station_id": profile.station.id, "code": code})
        if enrolled.status_code != 200:
            raise RestoreRefused(f"the hub refused the enrolment code ({enrolled.status_code}): "
                                 "an admin makes one that replaces this station")
        token = enrolled.json()["token"]
        auth = {"Authorization": f"Bearer {token}"}
        blob = client.get("/api/v1/fleet/state-copy", headers=auth)
        if blob.status_code != 200:
            raise RestoreRefused(f"the hub has no copy of {profile.station.id} ({blob.status_code})")
        done_ids = client.get("/api/v1/fleet/done-transactions", headers=auth).json()
    try:
        sealed = open_with_recovery_key(blob.content, recovery_private)
    except SealError as exc:
        raise RestoreRefused(str(exc)) from None
    if sealed.station_id != profile.station.id:
        raise RestoreRefused(f"the copy is of {sealed.station_id}, not {profile.station.id}")
    header, data = unpack(sealed.body)
    say(f"copy of {sealed.station_id} taken at {sealed.taken_at}")

    for suffix in ("-wal", "-shm"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)
    write_durably(database, data, mode=0o600)
    key_file = key_file_for(profile)
    write_durably(key_file, (str(header["station_key"]) + "\n").encode(), mode=0o600)
    engine = open_database(url)  # migrations, if this release is newer than the copy
    store_token(engine, token)
    new_sequence_epoch(engine)  # the copy's outbox numbers go on in a new sequence
    engine.dispose()
    conn = sqlite3.connect(database)
    try:
        marked = 0
        for start in range(0, len(done_ids), 500):
            chunk = [str(t) for t in done_ids[start:start + 500]]
            marks = ",".join("?" * len(chunk))
            marked += conn.execute(
                f"UPDATE circ_transaction SET state = 'done', outcome = 'done before the restore' "
                f"WHERE state IN ('pending', 'sent') AND txn_id IN ({marks})", chunk).rowcount
        conn.commit()
        queued = conn.execute("SELECT count(*) FROM circ_transaction "
                              "WHERE state IN ('pending', 'sent')").fetchone()[0]
        lockers = conn.execute("SELECT count(*) FROM locker_door WHERE state != 'free'").fetchone()[0]
    finally:
        conn.close()
    _own(database)
    return Restored(sealed.taken_at, int(queued), marked, int(lockers), database, key_file)


def _own(database: Path) -> None:
    """Restored as root: the files belong to the station's user, as the installer made them."""
    if os.geteuid() != 0:
        return
    try:
        user = pwd.getpwnam("bronco")
    except KeyError:
        return
    for path in (database, *database.parent.glob(database.name + "-*")):
        shutil.chown(path, user.pw_uid, user.pw_gid)
