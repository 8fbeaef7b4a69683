"""Driver registries: a profile names a driver, the registry finds its class and imports it lazily.

Importing only the chosen driver means a missing optional library (sllurp, pymodbus, pyscard)
breaks only the profiles that use it, with a message that names what to install.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bronco.profile import (
        CardReaderSettings,
        LockBoardSettings,
        Profile,
        ProfileIssue,
        RfidReaderSettings,
    )


class DriverUnavailable(Exception):
    """The driver is unknown, or its module or a library it needs cannot be imported."""


@dataclass(frozen=True)
class DriverSpec:
    module: str
    cls: str
    needs: str = ""  # what to install when the import fails, for the error message
    locks: int = 0  # lock boards: how many locks the board drives


class DriverRegistry:
    def __init__(self, kind: str, specs: dict[str, DriverSpec]) -> None:
        self.kind = kind
        self.specs = dict(specs)

    def names(self) -> list[str]:
        return sorted(self.specs)

    def spec(self, name: str) -> DriverSpec:
        try:
            return self.specs[name]
        except KeyError:
            raise DriverUnavailable(
                f"unknown {self.kind} driver '{name}' (known: {', '.join(self.names())})"
            ) from None

    def load(self, name: str) -> type:
        spec = self.spec(name)
        try:
            module = importlib.import_module(spec.module)
        except ImportError as exc:
            missing = exc.name or "?"
            if missing == spec.module or spec.module.startswith(missing + "."):
                raise DriverUnavailable(
                    f"{self.kind} driver '{name}' is not available in this version "
                    f"(module {spec.module} is missing)"
                ) from exc
            hint = f"; install {spec.needs}" if spec.needs else ""
            raise DriverUnavailable(
                f"{self.kind} driver '{name}' needs the Python package '{missing.split('.')[0]}'{hint}"
            ) from exc
        return getattr(module, spec.cls)

    def create(self, driver: str, /, **kwargs: Any) -> Any:
        return self.load(driver)(**kwargs)


RFID_READERS = DriverRegistry(
    "RFID reader",
    {
        "simulated": DriverSpec("rfid.simulator", "SimulatedReader"),
        "llrp": DriverSpec("rfid.drivers.llrp", "LlrpReader",
                           needs="sllurp (pip install 'bronco-station[llrp]')"),
        "feig_hf": DriverSpec("rfid.drivers.feig", "FeigReader", needs="pyserial"),
    },
)

LOCK_BOARDS = DriverRegistry(
    "lock board",
    {
        "simulated": DriverSpec("locker_controller.simulator", "SimulatedLockBoard", locks=16),
        "kerong_cu16": DriverSpec("locker_controller.drivers.kerong", "KerongCU16", locks=16),
        "kerong_cu48": DriverSpec("locker_controller.drivers.kerong", "KerongCU48", locks=48),
        "waveshare_modbus": DriverSpec(
            "locker_controller.drivers.waveshare", "WaveshareRelayD", locks=8,
            needs="pymodbus (pip install 'bronco-station[modbus]')",
        ),
        "numato_usb": DriverSpec("locker_controller.drivers.numato", "NumatoRelay", locks=8),
    },
)

CARD_READERS = DriverRegistry(
    "card reader",
    {
        "simulated": DriverSpec("rfid.cards.simulator", "SimulatedCardReader"),
        "pcsc": DriverSpec(
            "rfid.cards.pcsc", "PcscCardReader",
            needs="pyscard (pip install 'bronco-station[smartcard]'; apt install libpcsclite-dev pcscd)",
        ),
    },
)


def default_lock_count(driver: str) -> int:
    spec = LOCK_BOARDS.specs.get(driver)
    return spec.locks if spec else 48


def known_driver_issues(profile: Profile) -> list[ProfileIssue]:
    """Profile issues for driver names no registry knows (checked without importing anything)."""
    from bronco.profile import ProfileIssue

    issues = []
    for section, registry, items in (
        ("rfid_readers", RFID_READERS, profile.rfid_readers),
        ("lock_boards", LOCK_BOARDS, profile.lock_boards),
        ("card_readers", CARD_READERS, profile.card_readers),
    ):
        for index, item in enumerate(items):
            if item.driver not in registry.specs:
                issues.append(ProfileIssue(
                    f"{section}[{index}].driver",
                    f"unknown driver '{item.driver}' (known: {', '.join(registry.names())})",
                ))
    return issues


def create_rfid_reader(settings: RfidReaderSettings) -> Any:
    kwargs: dict[str, Any] = {"name": settings.id, **settings.options}
    if settings.url:
        kwargs["url"] = settings.url
    if settings.host:
        kwargs["host"] = settings.host
    if settings.port:
        kwargs["port"] = settings.port
    return RFID_READERS.create(settings.driver, **kwargs)


def create_lock_board(settings: LockBoardSettings) -> Any:
    kwargs: dict[str, Any] = {"name": settings.id, **settings.options}
    if settings.url:
        kwargs["url"] = settings.url
    if settings.driver != "simulated":
        kwargs["address"] = settings.address
    kwargs["locks"] = settings.locks or default_lock_count(settings.driver)
    return LOCK_BOARDS.create(settings.driver, **kwargs)


def create_card_reader(settings: CardReaderSettings) -> Any:
    kwargs: dict[str, Any] = {"name": settings.id, **settings.options}
    if settings.driver != "simulated":
        kwargs["reader_name"] = settings.reader_name
        kwargs["apdu"] = bytes.fromhex(settings.apdu)
    return CARD_READERS.create(settings.driver, **kwargs)
