"""What a profile needs installed: the package extras and Debian packages of the drivers it names.

The installer asks this (`bronco profile needs`) so that a station gets only what its hardware
uses: a locker bank with Kerong boards needs neither sllurp nor pcscd.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from station_core.profile import Profile
from station_core.registry import (
    CARD_READERS,
    LOCK_BOARDS,
    RFID_READERS,
    SORTERS,
    DriverRegistry,
)


@dataclass(frozen=True)
class Needs:
    extras: list[str] = field(default_factory=list)
    apt: list[str] = field(default_factory=list)


def needs(profile: Profile) -> Needs:
    extras: set[str] = set()
    apt: set[str] = set()

    def add(registry: DriverRegistry, driver: str) -> None:
        spec = registry.specs.get(driver)
        if spec is None:  # the profile check names unknown drivers
            return
        if spec.extra:
            extras.add(spec.extra)
        apt.update(spec.apt)

    for reader in profile.rfid_readers:
        add(RFID_READERS, reader.driver)
    for board in profile.lock_boards:
        add(LOCK_BOARDS, board.driver)
    for card in profile.card_readers:
        add(CARD_READERS, card.driver)
    if profile.returns.bins:  # a book drop: its sorter's driver (pymodbus for a PLC)
        add(SORTERS, profile.returns.sorter.driver)
    if profile.kiosk.printer:
        extras.add("printer")
    return Needs(sorted(extras), sorted(apt))
