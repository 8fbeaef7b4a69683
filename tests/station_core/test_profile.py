from __future__ import annotations

import subprocess
import tomllib
from pathlib import Path

import pytest

from station_core.profile import HARD_MAX_PULSE_MS, ProfileError, load_profile, parse_profile
from tests.conftest import PROFILES, SIMULATED, bronco

GOOD = """
[station]
id = "k1"
institution_id = "DEMO"
location_code = "MAIN"

[[lock_boards]]
id = "A"
driver = "kerong_cu16"
url = "/dev/ttyUSB0"

[[doors]]
id = "A01"
board = "A"
lock = 1
size = "small"
accessible = true
"""


def issues_of(text: str) -> list[tuple[str, str]]:
    with pytest.raises(ProfileError) as info:
        parse_profile(tomllib.loads(text), "test.toml")
    return [(i.path, i.reason) for i in info.value.issues]


def test_good_profile_loads_with_defaults() -> None:
    profile = parse_profile(tomllib.loads(GOOD))
    assert profile.station.id == "k1"
    assert profile.doors[0].board == "A"
    assert profile.ils.dialect == "generic" and profile.ils.encoding is None  # the dialect's:
    from ils.dialects import dialect

    assert dialect(profile.ils.dialect).encoding == "cp850"  # the SIP2 default
    assert profile.lockers.pulse_ms <= HARD_MAX_PULSE_MS


def test_unknown_key_is_an_error_with_its_path() -> None:
    issues = issues_of(GOOD.replace('size = "small"', 'size = "small"\ncolour = "red"'))
    assert issues == [("doors[0].colour", "Extra inputs are not permitted")]


def test_an_afi_security_marker_on_gs1_uhf_tags_is_refused() -> None:
    reader = '[[rfid_readers]]\nid = "pad"\ndriver = "llrp"\nhost = "192.0.2.1"\n' \
        'tag_scheme = "{}"\noptions = {{ security = "pc-afi" }}\n'
    issues = issues_of(GOOD + reader.format("gs1"))
    assert issues[0][0] == "rfid_readers[0]" and "GS1 EPC has none" in issues[0][1]
    parse_profile(tomllib.loads(GOOD + reader.format("28560-4")), "test.toml")


def test_wrong_type_names_field_and_reason() -> None:
    issues = issues_of(GOOD.replace("lock = 1", 'lock = "one"'))
    assert issues[0][0] == "doors[0].lock"
    assert "integer" in issues[0][1]


def test_missing_door_board_is_reported_with_known_boards() -> None:
    issues = issues_of(GOOD.replace('board = "A"', 'board = "Z"'))
    assert issues == [("doors[0].board", "no lock board 'Z' (boards: A)")]


def test_lock_beyond_board_and_duplicate_lock() -> None:
    text = GOOD + '\n[[doors]]\nid = "A02"\nboard = "A"\nlock = 1\nsize = "large"\n'
    text += '\n[[doors]]\nid = "A17"\nboard = "A"\nlock = 17\nsize = "large"\n'
    issues = issues_of(text)
    assert ("doors[1].lock", "lock 1 of board 'A' is already door 'A01'") in issues
    assert ("doors[2].lock", "board 'A' has only 16 locks") in issues


def test_pulse_above_hard_maximum_is_refused() -> None:
    issues = issues_of(GOOD + f"\n[lockers]\npulse_ms = {HARD_MAX_PULSE_MS + 1}\n")
    assert issues[0][0] == "lockers.pulse_ms"


def test_unknown_driver_lists_known_ones() -> None:
    issues = issues_of(GOOD.replace('driver = "kerong_cu16"', 'driver = "kerong_cu99"'))
    assert issues[0][0] == "lock_boards[0].driver"
    assert "unknown driver 'kerong_cu99'" in issues[0][1] and "kerong_cu16" in issues[0][1]


def test_secret_in_profile_is_refused() -> None:
    issues = issues_of(GOOD + '\n[ils]\npassword = "hunter2"\n')
    assert issues == [("ils.password", "Extra inputs are not permitted")]


def test_password_from_environment_then_secrets_file(tmp_path: Path, monkeypatch) -> None:
    secrets = tmp_path / "secrets.toml"
    secrets.write_text('[ils]\npassword = "from-file"\n')
    text = GOOD.replace('location_code = "MAIN"', f'location_code = "MAIN"\nsecrets_file = "{secrets}"')
    profile = parse_profile(tomllib.loads(text))
    monkeypatch.delenv("BRONCO_ILS_PASSWORD", raising=False)
    assert profile.ils_password() == "from-file"
    monkeypatch.setenv("BRONCO_ILS_PASSWORD", "from-env")
    assert profile.ils_password() == "from-env"


def test_bad_toml_and_missing_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[station\n")
    with pytest.raises(ProfileError, match="not valid TOML"):
        load_profile(bad)
    with pytest.raises(ProfileError, match="no such file"):
        load_profile(tmp_path / "absent.toml")


@pytest.mark.parametrize("path", sorted(PROFILES.glob("*.toml")), ids=lambda p: p.name)
def test_every_shipped_profile_passes(path: Path) -> None:
    load_profile(path)


def test_shipped_profiles_cover_the_required_setups() -> None:
    bank = load_profile(PROFILES / "kerong-32-door-bank.toml")
    assert len(bank.doors) == 32
    assert [b.driver for b in bank.lock_boards] == ["kerong_cu16", "kerong_cu16"]
    assert {d.size for d in bank.doors} == {"small", "medium", "large"}
    assert sum(d.accessible for d in bank.doors) >= 2  # >= 5% and one per bank
    assert load_profile(PROFILES / "kiosk-llrp.toml").rfid_readers[0].driver == "llrp"
    assert load_profile(PROFILES / "kiosk-feig-hf.toml").rfid_readers[0].driver == "feig_hf"
    sim = load_profile(SIMULATED)
    drivers = {s.driver for s in [*sim.rfid_readers, *sim.lock_boards, *sim.card_readers]}
    assert drivers == {"simulated"}


def test_cli_profile_check_ok_and_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(GOOD.replace('board = "A"', 'board = "Z"').replace("lock = 1", "lock = 0"))
    ok = subprocess.run(bronco("profile", "check", *map(str, PROFILES.glob("*.toml"))),
                        capture_output=True, text=True)
    assert ok.returncode == 0
    assert ok.stdout.count("OK ") == len(list(PROFILES.glob("*.toml")))
    res = subprocess.run(bronco("profile", "check", str(SIMULATED), str(bad)),
                         capture_output=True, text=True)
    assert res.returncode == 2
    assert f"OK {SIMULATED}" in res.stdout
    assert f"{bad}: doors[0].lock: Input should be greater than or equal to 1" in res.stdout
