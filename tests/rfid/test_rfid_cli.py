"""`bronco tag` and `bronco rfid watch`."""

from __future__ import annotations

import json
import subprocess
import time

import httpx

from tests.conftest import bronco


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(bronco(*args), capture_output=True, text=True, timeout=60)


def test_encode_then_decode_every_scheme() -> None:
    for scheme in ("28560-3", "28560-2", "28560-4"):
        encoded = run("tag", "encode", "--item", "3100004001", "--country", "US", "--library", "CPP",
                      "--parts", "2", "--part", "2", "--scheme", scheme)
        assert encoded.returncode == 0, encoded.stderr
        decoded = run("tag", "decode", encoded.stdout.strip(),
                      "--scheme", "hf-auto" if scheme != "28560-4" else scheme)
        body = json.loads(decoded.stdout)
        assert (body["item_id"], body["parts"], body["part"]) == ("3100004001", 2, 2)
        assert body["usage"] == "circulating"


def test_decode_reports_unreadable_data_with_exit_1() -> None:
    bad = run("tag", "decode", "DEADBEEF")
    assert bad.returncode == 1 and bad.stderr.startswith("unreadable:")
    assert run("tag", "decode", "not-hex").returncode == 2


def test_encode_refuses_bad_values_with_exit_2() -> None:
    too_long = run("tag", "encode", "--item", "X" * 17, "--country", "US", "--library", "CPP")
    assert too_long.returncode == 2 and "16" in too_long.stderr
    assert run("tag", "encode", "--item", "1", "--country", "US", "--library", "CPP",
               "--usage", "lunch").returncode == 2
    assert run("tag", "encode", "--item", "1", "--country", "US", "--library", "CPP",
               "--parts", "2", "--part", "3").returncode == 2


def test_rfid_watch_lists_the_pad(station_process) -> None:
    _, url = station_process
    tag = run("tag", "encode", "--item", "3100002000", "--country", "US", "--library", "CPP").stdout
    httpx.post(f"{url}/sim/readers/pad/tags", json={"uid": "E004010203040506", "data": tag.strip()})
    deadline = time.monotonic() + 10
    rows: list = []
    while time.monotonic() < deadline and not rows:
        watched = run("rfid", "watch", "--station", url, "--once")
        rows = json.loads(watched.stdout) if watched.returncode == 0 else []  # a busy machine
        time.sleep(0.2)
    assert rows == [{"uid": "E004010203040506", "item_id": "3100002000", "part": 1, "parts": 1,
                     "data_model": "28560-3", "error": ""}]
    live = run("rfid", "watch", "--station", url, "--seconds", "0.6")
    assert live.returncode == 0 and "E004010203040506" in live.stdout
