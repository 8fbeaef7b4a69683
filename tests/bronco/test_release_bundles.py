"""Release bundles: a station installs only what a key it trusts signed, whole, for its
architecture and its version; each refusal is written as the attack or the accident."""

from __future__ import annotations

import hashlib
import io
import platform
import subprocess
import tarfile
from pathlib import Path

import pytest

from station_core.release_bundle import (
    BundleRefused,
    Manifest,
    new_key_pair,
    sign,
    this_python,
    trusted_keys,
    verify,
    write_bundle,
)
from tests.conftest import bronco

FILES = {"wheels/bronco_station-0.2.0-py3-none-any.whl": b"PK\x03\x04 a wheel",
         "systemd/bronco-station.service": b"[Service]\n"}


def keys(tmp_path: Path, name: str = "release") -> tuple[bytes, Path]:
    private, public = new_key_pair()
    folder = tmp_path / f"keys-{name}"
    folder.mkdir()
    (folder / f"{name}.pub").write_bytes(public)
    return private, folder


def bundle(tmp_path: Path, private: bytes | None, *, arch: str | None = None, min_from: str = "0.1.0",
           files: dict[str, bytes] | None = None, listed: dict[str, bytes] | None = None) -> Path:
    files = dict(FILES if files is None else files)
    listed = files if listed is None else listed
    manifest = Manifest(version="0.2.0", arch=arch or platform.machine(), python=this_python(),
                        min_from=min_from,
                        files={n: hashlib.sha256(d).hexdigest() for n, d in listed.items()})
    path = tmp_path / "bronco-station-0.2.0.tar"
    raw = manifest.to_bytes()
    write_bundle(path, files, raw, sign(raw, private) if private is not None else None)
    return path


def refused(path: Path, folder: Path, installed: str = "0.1.0") -> str:
    with pytest.raises(BundleRefused) as caught:
        verify(path, trusted_keys(folder), installed=installed)
    return str(caught.value)


def test_a_signed_whole_bundle_for_this_station_is_accepted(tmp_path: Path) -> None:
    private, folder = keys(tmp_path)
    manifest, members = verify(bundle(tmp_path, private), trusted_keys(folder), installed="0.1.0")
    assert manifest.version == "0.2.0" and members["systemd/bronco-station.service"] == b"[Service]\n"


def test_unsigned_or_signed_by_a_stranger_is_refused(tmp_path: Path) -> None:
    _, folder = keys(tmp_path)
    stranger, _ = keys(tmp_path, "stranger")
    assert "not signed" in refused(bundle(tmp_path, None), folder)
    assert "does not match a release key" in refused(bundle(tmp_path, stranger), folder)
    # No trusted key at all: nothing is installable (never "trust whatever comes").
    private, _ = keys(tmp_path, "other")
    assert "trusts no release key" in refused(bundle(tmp_path, private), tmp_path / "empty")


def test_a_file_changed_after_signing_is_refused(tmp_path: Path) -> None:
    private, folder = keys(tmp_path)
    path = bundle(tmp_path, private)
    # The attacker swaps the wheel inside the signed bundle and keeps the signed manifest.
    members = {}
    with tarfile.open(path) as tar:
        for info in tar:
            members[info.name] = tar.extractfile(info).read()
    members["wheels/bronco_station-0.2.0-py3-none-any.whl"] = b"PK\x03\x04 something else"
    rewrite(path, members)
    assert "does not match the hash" in refused(path, folder)
    # Or edits the manifest (a lower min_from, another hash): the signature no longer fits.
    members["manifest.json"] = members["manifest.json"].replace(b'"0.1.0"', b'"0.0.0"')
    rewrite(path, members)
    assert "does not match a release key" in refused(path, folder)


def rewrite(path: Path, members: dict[str, bytes]) -> None:
    with tarfile.open(path, "w:") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


def test_a_truncated_bundle_is_refused(tmp_path: Path) -> None:
    private, folder = keys(tmp_path)
    path = bundle(tmp_path, private, files={**FILES, "wheels/big.whl": b"x" * 200_000})
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])  # a download cut off half-way
    said = refused(path, folder)
    assert "damaged or incomplete" in said or "incomplete" in said


def test_a_bundle_for_another_architecture_or_version_is_refused(tmp_path: Path) -> None:
    private, folder = keys(tmp_path)
    other = "aarch64" if platform.machine() != "aarch64" else "x86_64"
    assert f"is for {other}" in refused(bundle(tmp_path, private, arch=other), folder)
    assert "updates from 0.1.5 or later" in refused(bundle(tmp_path, private, min_from="0.1.5"),
                                                   folder, installed="0.1.0")


def test_files_outside_the_manifest_or_the_bundle_are_refused(tmp_path: Path) -> None:
    private, folder = keys(tmp_path)
    smuggled = bundle(tmp_path, private, files={**FILES, "wheels/extra.whl": b"PK"}, listed=FILES)
    assert "does not list" in refused(smuggled, folder)
    missing = bundle(tmp_path, private, files=FILES, listed={**FILES, "wheels/gone.whl": b"PK"})
    assert "missing" in refused(missing, folder)
    escaping = bundle(tmp_path, private, files={**FILES, "../../etc/cron.d/x": b"* * * * * root sh"},
                      listed={**FILES, "../../etc/cron.d/x": b"* * * * * root sh"})
    assert "not a plain file inside it" in refused(escaping, folder)


@pytest.mark.slow
def test_the_cli_builds_signs_and_checks_a_bundle_of_this_project(tmp_path: Path) -> None:
    from tests.conftest import ROOT

    out = tmp_path / "dist"
    built = subprocess.run(bronco("release", "build", "--src", str(ROOT), "--out", str(out),
                                  "--min-from", "0.1.0"),
                           capture_output=True, text=True, timeout=1800)
    assert built.returncode == 0, built.stderr
    path = Path(built.stdout.strip().splitlines()[-1])
    assert path.name.endswith(f"-{platform.machine()}.tar")
    assert subprocess.run(bronco("release", "keygen", str(tmp_path / "k")), capture_output=True,
                          timeout=60).returncode == 0
    (tmp_path / "trusted").mkdir()
    (tmp_path / "k.pub").rename(tmp_path / "trusted/k.pub")
    unsigned = subprocess.run(bronco("release", "verify", str(path), "--keys", str(tmp_path / "trusted")),
                              capture_output=True, text=True, timeout=120)
    assert unsigned.returncode == 2 and "not signed" in unsigned.stderr
    assert subprocess.run(bronco("release", "sign", str(path), "--key", str(tmp_path / "k")),
                          capture_output=True, timeout=120).returncode == 0
    checked = subprocess.run(bronco("release", "verify", str(path), "--keys", str(tmp_path / "trusted"),
                                    "--installed", "0.1.0"),
                             capture_output=True, text=True, timeout=120)
    assert checked.returncode == 0, checked.stderr
    with tarfile.open(path) as tar:
        names = tar.getnames()
    assert any(n.startswith("wheels/bronco_station-") for n in names)
    assert any(n.startswith("wheels/fastapi-") for n in names)  # no package index needed
    assert "systemd/bronco-station.service" in names
