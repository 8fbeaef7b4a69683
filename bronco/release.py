"""`bronco release build`: a release bundle of a source tree for this machine's architecture
(station_core/release_bundle.py says what is in one and how a station checks it)."""

from __future__ import annotations

import hashlib
import platform
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from station_core.release_bundle import Manifest, this_python, write_bundle

SKIP = shutil.ignore_patterns(".venv", ".git", "artifacts", "__pycache__", "*.egg-info", "build",
                              "dist", "*.db", "*.db-wal", "*.db-shm")


def source_version(src: Path) -> str:
    found = re.search(r'^__version__ = "([^"]+)"', (src / "station_core/__init__.py").read_text(), re.M)
    if found is None:
        raise ValueError(f"{src}: no __version__ in station_core/__init__.py")
    return found.group(1)


def migration_head(src: Path) -> str:
    """The station database's newest revision in this source tree ('' if it has no single one)."""
    from bridge.db.engine import head_revision

    try:
        return head_revision(src / "bridge/db/migrations/versions")
    except RuntimeError:
        return ""


def build(src: Path, out: Path, *, min_from: str = "0.0.0", reversible: bool = False,
          extras: str = "") -> Path:
    """wheels/ (the project and every dependency, built or fetched for this machine) and systemd/,
    hashed into an unsigned manifest. Returns the bundle's path."""
    version = source_version(src)
    arch = platform.machine()
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="bronco-release-") as scratch:
        tree = Path(scratch) / "src"
        shutil.copytree(src, tree, ignore=SKIP)  # pip builds in the tree: never in the caller's
        wheels = Path(scratch) / "wheels"
        spec = f"{tree}[{extras}]" if extras else str(tree)
        done = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--wheel-dir", str(wheels),
                               spec], capture_output=True, text=True, timeout=1800)
        if done.returncode != 0:
            raise RuntimeError(f"pip wheel failed:\n{done.stderr[-3000:]}")
        files: dict[str, bytes] = {f"wheels/{w.name}": w.read_bytes() for w in sorted(wheels.glob("*.whl"))}
        for unit in sorted((src / "systemd").iterdir()):
            if unit.is_file():
                files[f"systemd/{unit.name}"] = unit.read_bytes()
    manifest = Manifest(version=version, arch=arch, python=this_python(), min_from=min_from,
                        migrations_reversible=reversible, migration_head=migration_head(src),
                        files={name: hashlib.sha256(data).hexdigest() for name, data in files.items()})
    path = out / f"bronco-station-{version}-{arch}.tar"
    write_bundle(path, files, manifest.to_bytes())
    return path
