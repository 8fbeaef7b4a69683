"""`bronco setup`: a profile from answers (a file, or typed at the prompts), devices found by asking
emulated serial ports in their own protocols, the ILS login tried before anything is saved."""

from __future__ import annotations

import re
import stat
import subprocess
from pathlib import Path

import pytest

from bronco.setup.probe import FoundDevice, UsbIdentity
from bronco.setup.udev import rule
from locker_controller.emulators.kerong import KerongEmulator
from rfid.emulators.feig import FeigEmulator
from station_core.profile import load_profile
from tests.conftest import DemoIls, bronco

pytestmark = pytest.mark.slow


def answers_file(tmp_path: Path, ils: DemoIls, *, password: str = "demo", devices: str = "",
                 lockers: bool = True) -> Path:
    path = tmp_path / "answers.toml"
    path.write_text(f"""
[library]
name = "Main Library"
institution_id = "DEMO"

[station]
id = "north-lockers"
name = "Lockers by the north door"
location_code = "LOCKERS1"
kiosk = true
lockers = {str(lockers).lower()}

[ils]
host = "127.0.0.1"
port = {ils.port}
tls = false
login_user = "kiosk"
login_location = "LOCKERS1"
password = "{password}"

[devices]
{devices}

[doors]
rows = 4
sizes_by_row = ["small", "small", "medium", "large"]

[staff]
admin = "alice"
password = "correct horse battery"
""")
    return path


def setup(tmp_path: Path, answers: Path, **kwargs) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        bronco("setup", "--answers", str(answers), "--etc", str(tmp_path / "etc"),
               "--state", str(tmp_path / "state"), "--udev", str(tmp_path / "udev")),
        capture_output=True, text=True, timeout=120, **kwargs)


def profile_check(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(bronco("profile", "check", str(path)), capture_output=True, text=True,
                          timeout=60)


def test_simulated_devices_give_a_profile_that_passes_the_check(tmp_path: Path, demo_ils: DemoIls) -> None:
    res = setup(tmp_path, answers_file(tmp_path, demo_ils, devices="simulated = true"))
    assert res.returncode == 0, res.stderr
    profile_path = tmp_path / "etc/profile.toml"
    assert profile_check(profile_path).returncode == 0
    profile = load_profile(profile_path)
    assert profile.station.id == "north-lockers"
    assert profile.ils.port == demo_ils.port and profile.ils.login_user == "kiosk"
    assert [b.driver for b in profile.lock_boards] == ["simulated"]
    assert len(profile.doors) == 16
    assert {d.size for d in profile.doors if d.row == 4} == {"large"}
    assert any(d.accessible for d in profile.doors)
    # The password is in the 0600 environment file, never in the profile.
    assert not re.search(r"^\s*password\s*=", profile_path.read_text(), re.M)
    env = tmp_path / "etc/station.env"
    assert "BRONCO_ILS_PASSWORD=demo" in env.read_text()
    assert stat.S_IMODE(env.stat().st_mode) == 0o600
    # The admin account exists: the station's staff login accepts it.
    from bridge.access.staff_auth import StaffAuth
    from bridge.db.engine import open_database

    auth = StaffAuth(open_database(profile.server.database_url), profile.staff)
    assert auth.authenticate("alice", "correct horse battery") is not None


def test_a_wrong_ils_password_is_refused_before_anything_is_saved(tmp_path: Path,
                                                                  demo_ils: DemoIls) -> None:
    res = setup(tmp_path, answers_file(tmp_path, demo_ils, password="wrong", devices="simulated = true"))
    assert res.returncode == 2
    assert "ILS" in res.stderr
    assert not (tmp_path / "etc/profile.toml").exists()
    assert not (tmp_path / "etc/station.env").exists()
    assert not (tmp_path / "state").exists()  # no database, no staff account


def test_a_feig_reader_and_a_kerong_board_are_found_by_probing(tmp_path: Path, demo_ils: DemoIls) -> None:
    # A FEIG reader someone set to 19200 8N1, a CU16 with address switches at 1, a silent port.
    feig = FeigEmulator(tmp_path / "ttyUSB0", baudrate=19200, parity="N")
    kerong = KerongEmulator(tmp_path / "ttyUSB1", model="cu16", boards=(1,))
    silent = KerongEmulator(tmp_path / "ttyUSB2", boards=(0,))
    silent.silent = True
    for device in (feig, kerong, silent):
        device.start()
    try:
        ports = [str(tmp_path / name) for name in ("ttyUSB0", "ttyUSB1", "ttyUSB2")]
        listed = ", ".join(f'"{p}"' for p in ports)
        res = setup(tmp_path, answers_file(tmp_path, demo_ils, devices=f"ports = [{listed}]"))
    finally:
        for device in (feig, kerong, silent):
            device.stop()
    assert res.returncode == 0, res.stderr
    profile_path = tmp_path / "etc/profile.toml"
    assert profile_check(profile_path).returncode == 0, profile_check(profile_path).stdout
    profile = load_profile(profile_path)
    [reader] = profile.rfid_readers
    assert (reader.driver, reader.url) == ("feig_hf", ports[0])
    # A pty carries the baud rate but not the parity, so only the baud rate can be told here.
    assert reader.options["baudrate"] == 19200
    [board] = profile.lock_boards
    assert (board.driver, board.url, board.address, board.locks) == ("kerong_cu16", ports[1], 1, 16)
    assert {d.board for d in profile.doors} == {board.id} and len(profile.doors) == 16
    assert profile.kiosk.rfid_reader == reader.id
    assert f"nothing answered on {ports[2]}" in res.stdout


def test_numato_and_waveshare_relay_boards_are_found_by_probing(tmp_path: Path,
                                                               demo_ils: DemoIls) -> None:
    from locker_controller.emulators.numato import NumatoEmulator
    from locker_controller.emulators.waveshare import WaveshareEmulator

    numato = NumatoEmulator(tmp_path / "ttyACM0", channels=16)
    waveshare = WaveshareEmulator(tmp_path / "ttyUSB3")
    for device in (numato, waveshare):
        device.start()
    try:
        listed = f'"{tmp_path / "ttyACM0"}", "{tmp_path / "ttyUSB3"}"'
        res = setup(tmp_path, answers_file(tmp_path, demo_ils, devices=f"ports = [{listed}]"))
    finally:
        for device in (numato, waveshare):
            device.stop()
    assert res.returncode == 0, res.stderr
    profile = load_profile(tmp_path / "etc/profile.toml")
    boards = {b.driver: b for b in profile.lock_boards}
    assert boards["numato_usb"].locks == 16 and boards["numato_usb"].url == str(tmp_path / "ttyACM0")
    assert boards["waveshare_modbus"].locks == 8 and boards["waveshare_modbus"].address == 1
    assert len(profile.doors) == 24
    # The 16-relay Numato reads 10 door switches: the other six doors are never shown "closed".
    numato_doors = [d for d in profile.doors if d.board == boards["numato_usb"].id]
    assert [d.sensor for d in numato_doors] == ["board"] * 10 + ["none"] * 6


def test_the_prompts_take_typed_answers(tmp_path: Path, demo_ils: DemoIls) -> None:
    typed = "\n".join([
        "Main Library", "DEMO", "desk-kiosk", "Kiosk by the desk", "MAIN",
        "y", "n",  # a kiosk, no lockers
        "127.0.0.1", str(demo_ils.port), "n", "kiosk", "MAIN", "wrong", "generic",
        "y",  # simulated devices
        "n", "n",  # no admin now, no hub
        "y", "demo",  # the ILS refused "wrong": try another password
    ]) + "\n"
    res = subprocess.run(
        bronco("setup", "--etc", str(tmp_path / "etc"), "--state", str(tmp_path / "state"),
               "--udev", str(tmp_path / "udev")),
        input=typed, capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stdout + res.stderr
    profile = load_profile(tmp_path / "etc/profile.toml")
    assert profile.station.id == "desk-kiosk" and profile.kiosk.trust_loopback
    assert profile.lock_boards == [] and profile.doors == []
    assert "BRONCO_ILS_PASSWORD=demo" in (tmp_path / "etc/station.env").read_text()


def test_an_adapter_gets_a_udev_rule_from_its_serial_number_or_its_port() -> None:
    pair = re.compile(r'^[A-Z]+(\{[^}]+\})?(==|!=|=|\+=|:=)"[^"]*"$')
    ftdi = FoundDevice("lock_board", "kerong_cu16", "/dev/ttyUSB0", "Kerong", locks=16,
                       usb=UsbIdentity(0x0403, 0x6001, "A10KXYZ1", "1-1.2:1.0"))
    ch340 = FoundDevice("rfid_reader", "feig_hf", "/dev/ttyUSB1", "FEIG",
                        usb=UsbIdentity(0x1A86, 0x7523, "", "1-1.3:1.0"))
    by_serial, by_port = rule(ftdi, "A"), rule(ch340, "pad")
    for text in (by_serial, by_port):
        assert text is not None
        assert all(pair.match(part.strip()) for part in text.split(","))
    assert 'ATTRS{serial}=="A10KXYZ1"' in by_serial and 'SYMLINK+="bronco-a"' in by_serial
    assert 'KERNELS=="1-1.3"' in by_port and 'ATTRS{idVendor}=="1a86"' in by_port
    assert rule(FoundDevice("rfid_reader", "feig_hf", "/tmp/pty", "pty"), "pad") is None


def test_staff_hear_each_board_click_and_edit_the_door_grid(tmp_path: Path, demo_ils: DemoIls) -> None:
    board = KerongEmulator(tmp_path / "ttyUSB0", model="cu16", boards=(0,))
    board.start()
    typed = "\n".join([
        "Main Library", "DEMO", "north-lockers", "", "LOCKERS1",
        "n", "y",  # no kiosk, a locker bank
        "127.0.0.1", str(demo_ils.port), "n", "kiosk", "LOCKERS1", "demo", "generic",
        "n", str(tmp_path / "ttyUSB0"),  # real hardware, on this port
        "n", "n",  # no admin now, no hub
        "y",  # lock 1 clicked
        "n", "8", "small small small small medium medium large large", "3 4",  # the grid, edited
        "y",
    ]) + "\n"
    try:
        res = subprocess.run(
            bronco("setup", "--etc", str(tmp_path / "etc"), "--state", str(tmp_path / "state"),
                   "--udev", str(tmp_path / "udev")),
            input=typed, capture_output=True, text=True, timeout=120)
    finally:
        board.stop()
    assert res.returncode == 0, res.stdout + res.stderr
    assert board.boards[0].unlocks == [1]  # one pulse of lock 1, nothing else opened
    profile = load_profile(tmp_path / "etc/profile.toml")
    assert max(d.row for d in profile.doors) == 8 and max(d.column for d in profile.doors) == 2
    assert {d.size for d in profile.doors if d.row == 8} == {"large"}
    assert {d.row for d in profile.doors if d.accessible} == {3, 4}
    assert "Door map" in res.stdout
