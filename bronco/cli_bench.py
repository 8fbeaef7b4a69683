"""`bronco bench`: every benchmark in one run, one JSON document.

Each benchmark runs in its own Python process (`python -m bench.NAME`), so one benchmark's
threads, event loops and imports cannot colour another's figures, and a failing one is reported
without losing the rest.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

# name -> (what it measures, its peer or baseline, limit in seconds)
BENCHMARKS: dict[str, tuple[str, str, int]] = {
    "sip2_codec": ("SIP2 decode+encode round trips", "pysip2's codec", 120),
    "sip2_pool": ("a 10-item checkout over SIP2 at 50 ms ILS latency", "pool of 1 session", 120),
    "queue": ("offline transactions enqueued and replayed, one at a time and pooled", "", 240),
    "lockers": ("door command latency and polling CPU for 8x16 doors", "", 120),
    "rfid": ("LLRP reports to presence events; tag decodes", "", 120),
    "pad": ("the station's own time per pad item, ILS and air time taken out", "", 120),
    "budgets": ("station RSS and start, kiosk first frame, the 8x16 + 4 kiosk scale case", "", 180),
    "faults": ("kiosk API latency while the ILS hangs", "", 120),
    "fuzz": ("fuzzing every byte parser (30 s per target)", "", 360),
    "fleet": ("50 simulated stations against one hub on PostgreSQL: ingest, CPU, drain after an "
              "outage", "", 300),
    "writes": ("bytes the station writes to its storage per idle hour and per checked-out item",
               "", 300),
    "powercut": ("power cut at random instants (unsynced writes lost): transactions lost or "
                 "doubled, the station starting after every cut", "", 1200),
    "pi": ("a quarter of one core and 256 MB (a cgroup): 10-item checkout, two-door pickup, "
           "kiosk first frame, idle CPU, as ratios to the same run unlimited", "", 900),
    "returns": ("items per hour through the book drop at 50 ms ILS latency: station, demo ILS "
                "and the PLC on Modbus TCP as separate processes", "the belt's own limit", 300),
}


class BenchFailed(Exception):
    pass


def run_one(name: str, extra_env: dict[str, str] | None = None) -> dict[str, Any]:
    """Run bench.NAME in a child process; its stdout is its JSON result."""
    _, _, limit = BENCHMARKS[name]
    env = {**os.environ, **(extra_env or {})}
    try:
        done = subprocess.run([sys.executable, "-m", f"bench.{name}"], capture_output=True,
                              timeout=limit, env=env, check=False)
    except subprocess.TimeoutExpired:
        raise BenchFailed(f"{name}: still running after {limit} s") from None
    if done.returncode != 0:
        tail = done.stderr.decode(errors="replace").strip().splitlines()[-3:]
        raise BenchFailed(f"{name}: exit {done.returncode}: {' | '.join(tail)}")
    try:
        return json.loads(done.stdout)
    except ValueError:
        raise BenchFailed(f"{name}: did not print JSON") from None


def goals(result: Any, path: str = "") -> list[dict[str, Any]]:
    """Every goal a result states, found wherever it sits: {figure, goal, met}."""
    found: list[dict[str, Any]] = []
    if isinstance(result, dict):
        for key, value in result.items():
            if key.endswith("meets_goal") and isinstance(value, bool):
                prefix = key[: -len("meets_goal")]
                found.append({"figure": f"{path}{prefix}".rstrip("._") or "overall",
                              "goal": result.get(f"{prefix}goal", ""), "met": value})
            elif isinstance(value, dict):
                found.extend(goals(value, f"{path}{key}."))
    return found


def ratios(result: Any, path: str = "") -> dict[str, float]:
    """Every ratio to a peer a result reports (keys starting `ratio`)."""
    found: dict[str, float] = {}
    if isinstance(result, dict):
        for key, value in result.items():
            if key.startswith("ratio") and isinstance(value, int | float):
                found[f"{path}{key}"] = value
            elif isinstance(value, dict):
                found.update(ratios(value, f"{path}{key}."))
    return found


def run_all(names: list[str], progress: Any = None, *, quick: bool = False) -> dict[str, Any]:
    from bench.machine import machine

    started = time.monotonic()
    document: dict[str, Any] = {
        "generated": datetime.now(UTC).isoformat(timespec="seconds"), "quick": quick,
        "machine": machine(), "benchmarks": {}, "failed": {},
    }
    for name in names:
        what, peer, _ = BENCHMARKS[name]
        if progress:
            progress(f"{name}: {what}")
        began = time.monotonic()
        try:
            result = run_one(name, {"BRONCO_BENCH_QUICK": "1"} if quick else None)
        except BenchFailed as exc:
            document["failed"][name] = str(exc)
            continue
        result.pop("machine", None)  # one machine per document
        document["benchmarks"][name] = {
            "measures": what, "peer": peer, "seconds": round(time.monotonic() - began, 1),
            "ratios": ratios(result), "goals": goals(result), "figures": result,
        }
    document["seconds"] = round(time.monotonic() - started, 1)
    return document


def bench(
    names: Annotated[list[str] | None, typer.Argument(
        help=f"Benchmarks to run (default all): {', '.join(BENCHMARKS)}.", show_default=False)] = None,
    json_out: Annotated[Path | None, typer.Option("--json", help="Write the JSON document here.")]
    = None,
    quick: Annotated[bool, typer.Option("--quick", help="Every benchmark at small sizes: proves "
                                        "each still runs; its figures mean nothing.")] = False,
) -> None:
    """Run the benchmarks against their peers; print a summary, write one JSON document.

    Exit 1 if a benchmark failed to run (a missed goal is a figure, not a failure).
    """
    chosen = names or list(BENCHMARKS)
    unknown = [n for n in chosen if n not in BENCHMARKS]
    if unknown:
        typer.echo(f"unknown benchmark: {', '.join(unknown)} (known: {', '.join(BENCHMARKS)})",
                   err=True)
        raise typer.Exit(2)
    try:
        import bench as _  # noqa: F401  (shipped with the source tree and the dev install)
    except ImportError:
        typer.echo("the benchmarks need the dev install: pip install -e '.[dev]'", err=True)
        raise typer.Exit(2) from None
    document = run_all(chosen, progress=lambda line: typer.echo(line, err=True), quick=quick)
    for name, entry in document["benchmarks"].items():
        for goal in entry["goals"]:
            mark = "meets" if goal["met"] else "MISSES"
            typer.echo(f"{name:<11} {goal['figure']:<32} {mark} {goal['goal']}", err=True)
        for key, value in entry["ratios"].items():
            typer.echo(f"{name:<11} {key:<32} {value}", err=True)
    for reason in document["failed"].values():
        typer.echo(f"FAILED {reason}", err=True)
    if json_out is not None:
        json_out.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n",
                            encoding="utf-8")
        typer.echo(f"wrote {json_out} ({document['seconds']} s)", err=True)
    else:
        typer.echo(json.dumps(document, indent=2, ensure_ascii=False))
    if document["failed"]:
        raise typer.Exit(1)
