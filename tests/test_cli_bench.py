"""`bronco bench`: runs benchmarks in child processes and gathers one JSON document."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bronco import cli_bench
from bronco.cli import app


def test_goals_and_ratios_are_found_at_any_depth() -> None:
    result = {
        "benchmark": "x", "ratio_vs_peer": 1.5, "goal": ">= 1x", "meets_goal": True,
        "station": {"rss_mb": 102, "rss_goal": "< 80 MB", "rss_meets_goal": False},
        "nested": {"deeper": {"ratio_a_vs_b": 0.3}},
    }
    assert cli_bench.goals(result) == [
        {"figure": "overall", "goal": ">= 1x", "met": True},
        {"figure": "station.rss", "goal": "< 80 MB", "met": False},
    ]
    assert cli_bench.ratios(result) == {"ratio_vs_peer": 1.5, "nested.deeper.ratio_a_vs_b": 0.3}


def test_bench_runs_a_real_benchmark_and_writes_one_document(tmp_path: Path) -> None:
    out = tmp_path / "out.json"
    done = CliRunner().invoke(app, ["bench", "sip2_pool", "--json", str(out)])
    assert done.exit_code == 0, done.output
    document = json.loads(out.read_text())
    assert set(document["benchmarks"]) == {"sip2_pool"}
    entry = document["benchmarks"]["sip2_pool"]
    figures = entry["figures"]
    # The ratio really is pool 4 over pool 1 as measured, and the goal is judged from it.
    assert entry["ratios"]["ratio_pool4_vs_pool1"] == pytest.approx(
        figures["pool4_s"] / figures["pool1_s"], abs=0.01)
    assert entry["goals"][0]["met"] == (figures["ratio_pool4_vs_pool1"] <= 0.35)
    assert document["machine"]["cpus"] >= 1 and "machine" not in figures
    assert document["failed"] == {}


def test_unknown_benchmark_is_a_usage_error() -> None:
    done = CliRunner().invoke(app, ["bench", "warp_drive"])
    assert done.exit_code == 2
    assert "unknown benchmark: warp_drive" in done.output


def test_a_benchmark_that_fails_is_reported_and_the_rest_still_run(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setitem(cli_bench.BENCHMARKS, "missing_module", ("nothing", "", 30))
    out = tmp_path / "out.json"
    done = CliRunner().invoke(app, ["bench", "missing_module", "sip2_pool", "--json", str(out)])
    assert done.exit_code == 1
    document = json.loads(out.read_text())
    assert "missing_module" in document["failed"]
    assert "exit 1" in document["failed"]["missing_module"]
    assert "sip2_pool" in document["benchmarks"]
