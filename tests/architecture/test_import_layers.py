"""The layers of docs/architecture.md hold: import-linter's contracts, and no circle between packages."""

from __future__ import annotations

import itertools
import subprocess
import sys
import tomllib
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["root_packages"]


def test_import_linter_contracts_are_kept() -> None:
    lint = Path(sys.executable).with_name("lint-imports")
    done = subprocess.run([str(lint), "--no-cache"], cwd=ROOT, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "0 broken" in done.stdout


def test_no_two_packages_import_each_other() -> None:
    graph = grimp.build_graph(*PACKAGES)
    circles = [(a, b) for a, b in itertools.combinations(PACKAGES, 2)
               if graph.chain_exists(a, b, as_packages=True) and graph.chain_exists(b, a, as_packages=True)]
    assert circles == []


def test_the_ground_floor_imports_nothing_of_ours_even_lazily() -> None:
    """station_core finds driver modules by name (importlib), never by an import statement."""
    graph = grimp.build_graph(*PACKAGES)
    above = [p for p in PACKAGES if p != "station_core"]
    leaks = [p for p in above if graph.chain_exists("station_core", p, as_packages=True)]
    assert leaks == []
