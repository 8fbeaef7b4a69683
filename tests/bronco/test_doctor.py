"""`bronco doctor`: real devices behind the checks (the demo ILS, the byte-exact Kerong emulator on
a pty, a running station), and the words it uses when each one is wrong."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from typer.testing import CliRunner

from bronco.cli import app
from locker_controller.emulators.kerong import KerongEmulator
from tests.conftest import (
    SIMULATED,
    DemoIls,
    bronco,
    free_port,
    kerong_bank_profile,
    start_demo_ils,
    stop,
    wait_http,
)


def simulated_profile(tmp_path: Path, ils_port: int, station_port: int = 0) -> Path:
    text = SIMULATED.read_text().replace("port = 6001", f"port = {ils_port}").replace(
        'database_url = "sqlite:///bronco-demo.db"',
        f'database_url = "sqlite:///{tmp_path / "station.db"}"')
    text = text.replace("port = 8080", f"port = {station_port or free_port()}")
    profile = tmp_path / "site.toml"
    profile.write_text(text)
    return profile


def doctor(profile: Path) -> tuple[int, dict[tuple[str, str], dict]]:
    done = CliRunner().invoke(app, ["doctor", "--profile", str(profile), "--json"])
    findings = json.loads(done.output)
    return done.exit_code, {(f["area"], f["name"]): f for f in findings}


def test_a_healthy_simulated_site_passes(tmp_path: Path, demo_ils: DemoIls) -> None:
    code, found = doctor(simulated_profile(tmp_path, demo_ils.port))
    assert code == 0
    ils = found[("ils", "SIP2 login")]
    assert ils["level"] == "ok" and "Demo University Library" in ils["message"]
    assert found[("lock board", "A")]["message"].startswith("simulated: 16 door sensors read")
    assert found[("lock board", "A")]["level"] == "warn"  # simulated hardware is pointed out
    database = found[("database", "storage")]
    assert database["level"] == "warn" and database["message"].endswith("does not exist yet")
    assert not (tmp_path / "station.db").exists()  # the doctor did not create it


def test_ils_problems_in_plain_words(tmp_path: Path, monkeypatch) -> None:
    ils = start_demo_ils(tmp_path)
    try:
        monkeypatch.setenv("BRONCO_ILS_PASSWORD", "wrong")
        code, found = doctor(simulated_profile(tmp_path, ils.port))
        assert code == 1
        login = found[("ils", "SIP2 login")]
        assert "refused the SIP2 login for user 'kiosk'" in login["message"]
        assert "BRONCO_ILS_PASSWORD" in login["hint"]
        monkeypatch.delenv("BRONCO_ILS_PASSWORD")
        _, found = doctor(simulated_profile(tmp_path, ils.port))
        assert found[("ils", "SIP2 login")]["message"] == "no SIP2 password for user 'kiosk'"
    finally:
        stop(ils.proc)
    monkeypatch.setenv("BRONCO_ILS_PASSWORD", "demo")
    code, found = doctor(simulated_profile(tmp_path, free_port()))
    assert code == 1
    assert "nothing accepts connections at 127.0.0.1:" in found[("ils", "SIP2 login")]["message"]


def test_lock_boards_on_the_emulator(tmp_path: Path) -> None:
    link = tmp_path / "bronco-locks"
    profile = kerong_bank_profile(tmp_path, link)
    _, found = doctor(profile)
    missing = found[("lock board", "A")]
    assert missing["level"] == "fail" and missing["message"] == f"{link} does not exist"
    assert "plugged in" in missing["hint"]

    bus = KerongEmulator(link, boards=(0, 1))
    bus.start()
    try:
        bus.door(0, 3).open = True
        bus.boards[1].silent = True
        code, found = doctor(profile)
    finally:
        bus.stop()
    assert code == 1
    a = found[("lock board", "A")]
    assert a["level"] == "ok" and a["message"] == "kerong_cu16: 16 door sensors read; open now: 3"
    b = found[("lock board", "B")]
    assert b["message"] == f"no answer from the kerong_cu16 at address 1 on {link}"
    assert "RS-485" in b["hint"]
    assert bus.boards[0].unlocks == [] and bus.boards[1].unlocks == []  # the doctor never pulses


def test_with_a_station_running_it_reports_the_station_view(tmp_path: Path,
                                                             demo_ils: DemoIls) -> None:
    port = free_port()
    profile = simulated_profile(tmp_path, demo_ils.port, station_port=port)
    station = subprocess.Popen(bronco("station", "--profile", str(profile)),
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               env={**os.environ, "BRONCO_ILS_PASSWORD": "demo"})
    try:
        wait_http(f"http://127.0.0.1:{port}/healthz", station)
        code, found = doctor(profile)
    finally:
        stop(station)
    assert code == 0, found
    assert "it owns the devices" in found[("station", "demo-station")]["message"]
    assert found[("ils", "SIP2 link")]["level"] == "ok"
    assert found[("lock_board", "A")]["message"] == "simulated: ok"
    assert found[("database", "storage")]["level"] == "ok"


def test_a_bad_profile_exits_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[station]\n")
    assert CliRunner().invoke(app, ["doctor", "--profile", str(bad)]).exit_code == 2


def test_the_book_drops_sorter_on_the_emulated_plc(tmp_path: Path) -> None:
    """The doctor reads the sorter's PLC over Modbus TCP and says what stops the belt (a full
    bin, the emergency stop); a PLC that does not answer is named with where to look."""
    from sorter.belt import Belt
    from sorter.emulators.modbus_tcp import SorterEmulator
    from tests.conftest import ROOT

    emulator = SorterEmulator(Belt(diverters=8)).start()
    shipped = (ROOT / "hardware_profiles" / "returns-simulated.toml").read_text()
    profile = tmp_path / "drop.toml"
    profile.write_text(shipped.replace("socket://127.0.0.1:5020",
                                       f"socket://127.0.0.1:{emulator.port}").replace(
        "sqlite:///bronco-returns-demo.db", f"sqlite:///{tmp_path / 'station.db'}"))
    try:
        _code, found = doctor(profile)
        assert found[("sorter", "returns")]["level"] == "ok"
        emulator.belt.full_forced.add(1)
        emulator.belt.press_emergency_stop()
        _code, found = doctor(profile)
        sorter = found[("sorter", "returns")]
        assert sorter["level"] == "warn"
        assert "Holds is full" in sorter["message"] and "emergency stop" in sorter["message"]
    finally:
        emulator.close()
    _code, found = doctor(profile)  # nothing listens there now
    sorter = found[("sorter", "returns")]
    assert sorter["level"] == "fail" and "Modbus TCP" in sorter["hint"]
