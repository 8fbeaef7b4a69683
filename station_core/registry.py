"""Driver registries: a profile names a driver, the registry finds its class and imports it lazily.

Importing only the chosen driver means a missing optional library (sllurp, pymodbus, pyscard)
breaks only the profiles that use it, with a message that names what to install.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any


class DriverUnavailable(Exception):
    """The driver is unknown, or its module or a library it needs cannot be imported."""


@dataclass(frozen=True)
class DriverSpec:
    module: str
    cls: str
    needs: str = ""  # what to install when the import fails, for the error message
    extra: str = ""  # the package extra that brings what it needs (the installer reads it)
    apt: tuple[str, ...] = ()  # Debian packages it needs at run time (the installer reads them)
    locks: int = 0  # lock boards: how many locks the board drives (at most)
    # Lock boards sold in several models: (relays, door inputs) of each model the driver knows.
    # Empty: any lock count up to `locks`, with one door input per lock.
    models: tuple[tuple[int, int], ...] = ()
    models_note: str = ""  # the maker's documentation behind `models`, for the error message

    def door_inputs(self, locks: int) -> int | None:
        """How many door switches a board with `locks` locks can read; None: no such model."""
        if not self.models:
            return locks if locks <= self.locks else None
        return dict(self.models).get(locks)


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
                           needs="sllurp (pip install 'bronco-station[llrp]')", extra="llrp"),
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
            needs="pymodbus (pip install 'bronco-station[modbus]')", extra="modbus", models=((8, 8),),
            models_note="the Modbus RTU Relay (D) has 8 relays and 8 digital inputs; Waveshare's "
                        "16- and 32-channel Modbus RTU Relay boards document no digital inputs for "
                        "door switches, so this driver does not drive them",
        ),
        "numato_usb": DriverSpec(
            "locker_controller.drivers.numato", "NumatoRelay", locks=8,
            models=((8, 0), (16, 10), (32, 8)),
            models_note="Numato's USB relay modules have 8 relays and no GPIO, 16 relays and 10 "
                        "GPIOs, or 32 relays and 8 GPIOs",
        ),
    },
)

SORTERS = DriverRegistry(
    "sorter",
    {
        "simulated": DriverSpec("sorter.simulator", "SimulatedSorter"),
        "modbus": DriverSpec("sorter.drivers.modbus", "ModbusSorter",
                             needs="pymodbus (pip install 'bronco-station[modbus]')", extra="modbus"),
    },
)

CARD_READERS = DriverRegistry(
    "card reader",
    {
        "simulated": DriverSpec("rfid.cards.simulator", "SimulatedCardReader"),
        "pcsc": DriverSpec(
            "rfid.cards.pcsc", "PcscCardReader",
            needs="pyscard (pip install 'bronco-station[smartcard]'; apt install libpcsclite-dev pcscd)",
            extra="smartcard", apt=("pcscd", "libpcsclite1"),
        ),
    },
)


def default_lock_count(driver: str) -> int:
    spec = LOCK_BOARDS.specs.get(driver)
    return spec.locks if spec else 48
