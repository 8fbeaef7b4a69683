"""`bronco demo-ils` and `bronco sip2` as library IT runs them."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

from tests.conftest import DemoIls, bronco, free_port, start_demo_ils, stop
from tests.ils.test_sip2_client_faults import make_certificate


def sip2(port: int, *args: str, extra: tuple[str, ...] = ()) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        bronco("sip2", "--port", str(port), "--user", "kiosk",
               "--location", "KIOSK1", "--encoding", "utf-8", *extra, *args),
        capture_output=True, text=True, timeout=60,
        env={**os.environ, "BRONCO_ILS_PASSWORD": "demo"},  # never on the command line
    )


def test_sip2_commands_print_decoded_json(demo_ils: DemoIls) -> None:
    status = json.loads(sip2(demo_ils.port, "status").stdout)
    assert status["command"] == "98" and status["online"] is True
    assert status["institution_id"] == "DEMO"
    patron = json.loads(sip2(demo_ils.port, "patron", "2900001000", "--pin", "1234").stdout)
    assert patron["personal_name"] == "María José Núñez" and patron["valid_patron_password"] is True
    out = json.loads(sip2(demo_ils.port, "checkout", "2900001000", "3100002000").stdout)
    assert out["ok"] is True and out["title"] == "The Left Hand of Darkness"
    item = json.loads(sip2(demo_ils.port, "item", "3100002000").stdout)
    assert item["circulation_status"] == 4
    renew = json.loads(sip2(demo_ils.port, "renew", "2900001000", "3100002000").stdout)
    assert renew["command"] == "30" and renew["renewal_ok"] is True
    back = json.loads(sip2(demo_ils.port, "checkin", "3100007001").stdout)
    assert back["alert"] is True and back["hold_patron_id"] == "2900001000"
    listed = json.loads(sip2(demo_ils.port, "patron", "2900001000", "--items", "hold_items").stdout)
    assert listed["hold_items"] == ["3100007001"]


def test_sip2_reports_failures_with_exit_codes(demo_ils: DemoIls) -> None:
    down = sip2(free_port(), "status")
    assert down.returncode == 1 and "IlsUnavailable" in down.stderr
    wrong = subprocess.run(bronco("sip2", "--port", str(demo_ils.port), "--user", "kiosk",
                                  "--password-env", "WRONG_PASSWORD", "status"),
                           capture_output=True, text=True, timeout=60,
                           env={**os.environ, "WRONG_PASSWORD": "nope"})
    assert wrong.returncode == 1 and "login" in wrong.stderr
    bad_list = sip2(demo_ils.port, "patron", "2900001000", "--items", "everything")
    assert bad_list.returncode == 2


def test_demo_ils_over_tls(tmp_path: Path) -> None:
    cert, key = make_certificate(tmp_path)
    ils = start_demo_ils(tmp_path, "--tls-cert", str(cert), "--tls-key", str(key))
    try:
        ok = sip2(ils.port, "status", extra=("--host", "localhost", "--tls", "--ca-file", str(cert)))
        assert ok.returncode == 0, ok.stderr
        assert json.loads(ok.stdout)["online"] is True
        refused = sip2(ils.port, "status", extra=("--host", "localhost", "--tls"))
        assert refused.returncode == 1  # not our CA: certificate refused
        plain = sip2(ils.port, "status", extra=("--timeout", "2"))
        assert plain.returncode == 1  # plain text to a TLS port gets nowhere
    finally:
        stop(ils.proc)


def test_demo_ils_latency_delays_replies(tmp_path: Path) -> None:
    ils = start_demo_ils(tmp_path, "--latency-ms", "300")
    try:
        started = time.monotonic()
        assert sip2(ils.port, "item", "3100002000").returncode == 0
        # login + status + item information: three replies, each held back 300 ms
        assert time.monotonic() - started >= 0.9
    finally:
        stop(ils.proc)


def test_demo_ils_refuses_bad_data_with_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[[patrons]]\nbarcode = "1"\nname = "A"\n\n[[items]]\nbarcode = "2"\n'
                   'title = "T"\nloan_rule = "nope"\n\n[loan_rules.regular]\nminutes = 10\n')
    res = subprocess.run(bronco("demo-ils", "--data", str(bad), "--port", str(free_port())),
                         capture_output=True, text=True, timeout=30)
    assert res.returncode == 2
    assert "unknown loan rule 'nope'" in res.stderr
    half_tls = subprocess.run(bronco("demo-ils", "--tls-cert", str(bad)), capture_output=True,
                              text=True, timeout=30)
    assert half_tls.returncode == 2
