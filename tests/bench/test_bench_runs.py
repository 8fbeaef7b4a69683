"""The benchmarks run and report their figures (the figures themselves are never asserted)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from bench import sip2_codec, sip2_pool
from tests.conftest import ROOT


def test_codec_benchmark_reports_both_sides() -> None:
    result = sip2_codec.run(seconds=0.2)
    assert result["ours_messages_per_s"] > 0 and result["pysip2_messages_per_s"] > 0
    assert result["ratio_vs_pysip2"] > 0 and "cpu" in result["machine"]


def test_pool_benchmark_reports_both_pool_sizes() -> None:
    result = sip2_pool.run(latency_ms=5, repeats=1)
    assert result["items"] == 10 and result["pool1_s"] > 0 and result["pool4_s"] > 0


def test_benchmark_scripts_print_json() -> None:
    out = subprocess.run([sys.executable, "-c", "import json, bench.sip2_codec as b; "
                          "print(json.dumps(b.run(seconds=0.1)))"],
                         capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert json.loads(out.stdout)["benchmark"] == "sip2_codec"


def test_queue_benchmark_reports_enqueue_and_replay() -> None:
    from bench import queue

    result = queue.run(count=60, slow_count=24)
    assert result["enqueue_per_s"] > 0 and result["replay_per_s"] > 0
    slow = result["replay_50ms"]
    assert slow["one_at_a_time"]["per_s"] > 0 and slow["pooled"]["pool"] == 4
    assert slow["ratio_pooled_vs_one_at_a_time"] > 0 and "meets_goal" in slow
    assert result["order_violations"] == 0  # correctness, not speed: each item kept its order


def test_the_queue_order_check_sees_an_item_out_of_order(tmp_path) -> None:
    import json

    from bench.queue import order_violations

    ledger = tmp_path / "ledger.jsonl"
    ledger.write_text("\n".join(json.dumps(r) for r in [
        {"op": "checkin", "item": "A", "ok": True}, {"op": "checkout", "item": "A", "ok": True},
        {"op": "checkout", "item": "B", "ok": True}]))
    assert order_violations(ledger, {"A": ["checkout", "checkin"], "B": ["checkout"]}) == 1


def test_rfid_benchmark_reports_reads_cpu_and_decodes() -> None:
    from bench import rfid

    result = rfid.llrp_reports(tags=10, interval_s=0.05, seconds=1.0)
    assert result["reads_per_s"] > 0 and result["cpu_share_of_one_core"] > 0
    assert result["tags_present"] == 10
    assert set(rfid.decode_rates(seconds=0.05)) == {"28560-3", "28560-2", "28560-4", "gs1-giai"}


def test_locker_benchmark_reports_latency_and_polling_cpu() -> None:
    from bench import lockers

    latency = lockers.command_latency(count=20)
    assert latency["commands"] == 20 and latency["p99_ms"] > 0
    polling = lockers.polling_cpu(seconds=1.0)
    assert polling["doors"] == 128 and polling["doors_unknown_at_end"] == 0


def test_fault_benchmark_times_requests_from_the_moment_the_ils_hangs() -> None:
    from bench import faults

    result = faults.kiosk_when_ils_hangs_mid_use(requests=30)
    assert result["requests"] == 30 and result["p99_ms"] > 0
    # The station told the kiosk it was offline during the run, and the slowest request is the
    # one that met the hung ILS first (it waited for the station's deadline).
    assert result["kiosk_told_offline_after_s"] is not None
    assert result["max_ms"] > result["p99_ms"]


def test_station_budget_measures_first_start_and_restart() -> None:
    from bench import budgets

    result = budgets.station_budget()
    assert result["idle_rss_mb"] > 20 and result["first_start_idle_rss_mb"] > 20
    assert result["start_to_ready_s"] > 0 and result["rss_meets_goal"] == (result["idle_rss_mb"] < 80)


def test_pad_benchmark_reports_the_stations_own_time_per_item() -> None:
    import asyncio

    from bench import pad

    result = asyncio.run(pad.measure(items=5))
    assert result["items"] == 5  # every item came back with a result
    assert result["overhead_p50_ms"] > 0 and result["ils_round_trip_p50_ms"] > 0
    assert "overhead_meets_goal" in result


def test_budgets_report_the_largest_imports() -> None:
    from bench.budgets import import_costs

    costs = import_costs(("json", "fastapi"), top=2)
    assert costs[0]["module"] == "fastapi" and costs[0]["rss_mb"] > costs[1]["rss_mb"]


def test_rfid_benchmark_measures_the_programming_rate() -> None:
    from bench import rfid

    result = rfid.programming_rate(items=5)
    assert result["verified"] == 5 and result["tags_per_minute"] > 0
    # The air time sets the pace: a tag cannot be faster than its simulated exchanges.
    model = result["air_time_model"]
    assert result["seconds_per_tag"] >= 6 * model["overhead_s"] + 9 * model["write_per_block_s"]


def test_fleet_benchmark_reports_ingest_cpu_and_drain() -> None:
    from bench import fleet

    result = fleet.run(stations=3, steady_s=3.0, outage_s=30.0)
    assert result["steady"]["pushes"] > 0 and result["steady"]["ingest_p99_ms"] > 0
    assert result["steady"]["hub_cpu_share_of_one_core"] > 0
    # 12 events per station for 30 s at 0.4/s, and each bank's desk view once if a door changed
    assert 36 <= result["outage"]["backlog_events"] <= 39 and result["outage"]["all_acknowledged"]


@pytest.mark.timeout(600)
def test_every_benchmark_still_runs_and_reports_its_figures(tmp_path) -> None:
    """`bronco bench --quick`: each benchmark at small sizes. One that stops running (as the
    budgets benchmark did when the profile check began refusing its 8 x 16 door profile) fails
    here, not months later."""
    from bronco.cli_bench import BENCHMARKS

    out = tmp_path / "quick.json"
    done = subprocess.run([sys.executable, "-m", "bronco", "bench", "--quick", "--json", str(out)],
                          capture_output=True, text=True, cwd=tmp_path, timeout=600)
    document = json.loads(out.read_text())
    assert document["failed"] == {}, document["failed"]
    assert done.returncode == 0, done.stderr[-2000:]
    assert set(document["benchmarks"]) == set(BENCHMARKS)
    for name, entry in document["benchmarks"].items():
        assert entry["figures"] and entry["figures"].get("benchmark") == name, name
