"""Files written so that a power cut leaves the old one or the new one, never an empty one
(issue: Pi realities). Before: the station key was written without fsync, and a cut in a new
station's first seconds left it 0 bytes, so every later start failed until someone deleted it."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from bridge.access.station_key import load_key
from station_core.durable_files import write_durably


def test_the_file_and_its_folder_are_synced_before_it_counts(tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    synced: list[int] = []
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        synced.append(os.fstat(fd).st_ino)
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    target = tmp_path / "keys" / "station.key"
    write_durably(target, b"0123456789abcdef\n")
    assert target.read_bytes() == b"0123456789abcdef\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    # The bytes (the file's inode, before the rename) and then the rename (the folder's inode).
    assert synced[-1] == target.parent.stat().st_ino
    assert target.stat().st_ino in synced
    assert [p.name for p in target.parent.iterdir()] == ["station.key"]  # no temporary left


def test_a_failed_write_leaves_the_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "credential.json"
    write_durably(target, b"old")

    def fail(_fd: int) -> None:
        raise OSError("the card went away")

    monkeypatch.setattr(os, "fsync", fail)
    with pytest.raises(OSError):
        write_durably(target, b"new")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["credential.json"]


def test_a_station_key_left_empty_by_a_power_cut_does_not_stop_every_start(tmp_path: Path) -> None:
    key_file = tmp_path / "station.key"
    key_file.write_bytes(b"")  # what a cut after the create, before the bytes, left behind
    key = load_key(key_file)
    assert len(key) >= 32 and load_key(key_file) == key
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
