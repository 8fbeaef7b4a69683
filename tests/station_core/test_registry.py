from __future__ import annotations

import sys

import pytest

from locker_controller.simulator import SimulatedLockBoard
from rfid.simulator import SimulatedReader
from station_core.registry import (
    CARD_READERS,
    LOCK_BOARDS,
    RFID_READERS,
    DriverRegistry,
    DriverSpec,
    DriverUnavailable,
)


def test_unknown_driver_names_the_known_ones() -> None:
    with pytest.raises(DriverUnavailable, match=r"unknown lock board driver 'nope' \(known: .*kerong_cu16"):
        LOCK_BOARDS.load("nope")


def test_simulators_are_registered_and_created_lazily() -> None:
    board = LOCK_BOARDS.create("simulated", name="A", locks=8)
    assert isinstance(board, SimulatedLockBoard) and board.lock_count == 8
    assert isinstance(RFID_READERS.create("simulated", name="pad"), SimulatedReader)
    assert CARD_READERS.load("simulated").__name__ == "SimulatedCardReader"


def test_missing_optional_package_fails_only_that_driver(monkeypatch) -> None:
    registry = DriverRegistry("RFID reader", {
        "needs-lib": DriverSpec(
            "tests.helpers.needs_missing_lib", "Reader", needs="fancylib (pip install fancylib)"
        ),
        "simulated": DriverSpec("rfid.simulator", "SimulatedReader"),
    })
    sys.modules.pop("tests.helpers.needs_missing_lib", None)
    with pytest.raises(DriverUnavailable) as info:
        registry.load("needs-lib")
    assert "needs the Python package 'fancylib_that_is_not_installed'" in str(info.value)
    assert "install fancylib (pip install fancylib)" in str(info.value)
    assert registry.load("simulated") is SimulatedReader  # the others still load


def test_real_optional_library_blocked(monkeypatch) -> None:
    # None in sys.modules makes `import pymodbus` raise ImportError, as if it were not installed.
    monkeypatch.setitem(sys.modules, "pymodbus", None)
    registry = DriverRegistry("lock board", {
        "x": DriverSpec("tests.helpers.uses_pymodbus", "Board", needs="pymodbus"),
    })
    sys.modules.pop("tests.helpers.uses_pymodbus", None)
    with pytest.raises(DriverUnavailable, match="needs the Python package 'pymodbus'; install pymodbus"):
        registry.load("x")


def test_driver_module_absent_from_this_build() -> None:
    registry = DriverRegistry("card reader", {"x": DriverSpec("rfid.cards.not_written", "X")})
    with pytest.raises(DriverUnavailable, match="not available in this version"):
        registry.load("x")


def test_llrp_driver_without_sllurp_names_the_package(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "sllurp", None)
    monkeypatch.setitem(sys.modules, "sllurp.llrp", None)
    monkeypatch.delitem(sys.modules, "rfid.drivers.llrp", raising=False)
    with pytest.raises(DriverUnavailable, match=r"needs the Python package 'sllurp'.*\[llrp\]"):
        RFID_READERS.load("llrp")


def test_a_book_drop_profile_needs_modbus_and_names_an_unknown_sorter(tmp_path) -> None:
    """The installer gets pymodbus for a book drop whose sorter is a Modbus PLC (it asks
    `bronco profile needs`), and a sorter driver nobody knows is a profile issue, not a crash."""
    import tomllib

    from station_core.install_needs import needs
    from station_core.profile import ProfileError, load_profile
    from tests.conftest import ROOT

    drop = load_profile(ROOT / "hardware_profiles" / "returns-simulated.toml")
    assert "modbus" in needs(drop).extras
    plain = load_profile(ROOT / "hardware_profiles" / "simulated.toml")
    assert "modbus" not in needs(plain).extras
    text = (ROOT / "hardware_profiles" / "returns-simulated.toml").read_text()
    odd = tmp_path / "odd.toml"
    odd.write_text(text.replace('driver = "modbus"', 'driver = "lyngsoe_magic"'))
    assert tomllib.loads(odd.read_text())["returns"]["sorter"]["driver"] == "lyngsoe_magic"
    with pytest.raises(ProfileError) as refused:
        load_profile(odd)
    assert any(i.path == "returns.sorter.driver" for i in refused.value.issues)
