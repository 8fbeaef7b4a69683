"""Finding the station's readers and lock boards by asking each serial port in each device's own
protocol. Nothing is switched: readers run one inventory, boards are asked for their door status.

Order per port: a FEIG reader at every usual line setting (rfid/drivers/feig.py
`find_line_settings`, factory 38400 8E1 first), then Kerong CU16 and CU48 status queries at the
addresses asked for, then a Numato `relay read`, then a Waveshare Modbus relay board's inputs at its
factory address. A port that answers none of them is reported as silent, never guessed.
"""

from __future__ import annotations

import asyncio
import contextlib
import glob
import os
from dataclasses import dataclass, field
from typing import Any, Literal

from station_core.registry import LOCK_BOARDS

PROBE_TIMEOUT_S = 0.3


@dataclass(frozen=True)
class UsbIdentity:
    """What udev can match an adapter by (serial.tools.list_ports)."""
    vid: int
    pid: int
    serial_number: str = ""
    location: str = ""  # the USB port path (KERNELS), for adapters without a serial number


@dataclass
class FoundDevice:
    kind: Literal["rfid_reader", "lock_board"]
    driver: str
    url: str
    said: str
    address: int = 0
    locks: int = 0
    options: dict[str, Any] = field(default_factory=dict)
    usb: UsbIdentity | None = None


def serial_ports() -> list[str]:
    """Serial ports worth asking, stable names first: /dev/serial/by-id/* then any USB or ACM
    port not reached through one of them."""
    stable = sorted(glob.glob("/dev/serial/by-id/*"))
    seen = {os.path.realpath(p) for p in stable}
    others = [p for p in sorted(glob.glob("/dev/ttyUSB*") + glob.glob("/dev/ttyACM*"))
              if os.path.realpath(p) not in seen]
    return stable + others


def usb_identity(url: str) -> UsbIdentity | None:
    from serial.tools import list_ports

    real = os.path.realpath(url)
    for port in list_ports.comports():
        if os.path.realpath(port.device) == real and port.vid is not None:
            return UsbIdentity(port.vid, port.pid or 0, port.serial_number or "", port.location or "")
    return None


async def _feig(url: str) -> FoundDevice | None:
    from rfid.drivers.feig import find_line_settings

    found = await find_line_settings(url, timeout_s=PROBE_TIMEOUT_S)
    if found is None:
        return None
    baudrate, parity, frames = found
    options: dict[str, Any] = {}
    if (baudrate, parity) != (38400, "E"):
        options = {"baudrate": baudrate, "parity": parity}
    return FoundDevice("rfid_reader", "feig_hf", url,
                       f"FEIG HF reader at {baudrate} baud, parity {parity}, {frames} frames",
                       options=options)


async def _kerong(url: str, addresses: list[int]) -> list[FoundDevice]:
    found: list[FoundDevice] = []
    for driver in ("kerong_cu16", "kerong_cu48"):
        spec = LOCK_BOARDS.spec(driver)
        for address in addresses:
            board = LOCK_BOARDS.create(driver, name=f"probe-{address}", url=url, address=address,
                                       locks=spec.locks, timeout_s=PROBE_TIMEOUT_S, retries=0)
            try:
                await board.open()
                doors = await board.read_doors()
            except Exception:  # silence or another protocol: not this board
                continue
            finally:
                with contextlib.suppress(Exception):
                    await board.close()
            found.append(FoundDevice("lock_board", driver, url,
                                     f"Kerong {driver.split('_')[1].upper()} board at address "
                                     f"{address}, {len(doors)} locks", address=address,
                                     locks=spec.locks))
        if found:  # one bus carries one model
            return found
    return found


async def _numato(url: str) -> FoundDevice | None:
    board = LOCK_BOARDS.create("numato_usb", name="probe", url=url, locks=32, timeout_s=PROBE_TIMEOUT_S)
    try:
        await board.open()
        try:
            await board.read_relay(0)
        except Exception:  # the other probes' bytes were still in its line: once more
            await board.read_relay(0)
        relays = 8
        for count in (32, 16):  # the modules have 8, 16 or 32 relays; a missing one is an error
            with contextlib.suppress(Exception):
                await board.read_relay(count - 1)
                relays = count
                break
    except Exception:
        return None
    finally:
        with contextlib.suppress(Exception):
            await board.close()
    return FoundDevice("lock_board", "numato_usb", url, f"Numato USB relay module, {relays} relays",
                       locks=relays)


async def _waveshare(url: str) -> FoundDevice | None:
    """A Waveshare Modbus RTU Relay (D) at its factory address 1, 9600 baud: its inputs read."""
    try:
        board = LOCK_BOARDS.create("waveshare_modbus", name="probe", url=url, address=1,
                                   timeout_s=PROBE_TIMEOUT_S)
    except Exception:  # pymodbus is not installed: this driver cannot be asked
        return None
    try:
        await board.open()
        await board.read_doors()
    except Exception:
        return None
    finally:
        with contextlib.suppress(Exception):
            await board.close()
    return FoundDevice("lock_board", "waveshare_modbus", url,
                       "Waveshare Modbus RTU Relay (D) at address 1, 8 relays", address=1, locks=8)


async def probe_port(url: str, *, kerong_addresses: list[int]) -> list[FoundDevice]:
    """Every device found on one port (a RS-485 bus may carry several boards)."""
    usb = await asyncio.to_thread(usb_identity, url)
    found: list[FoundDevice] = []
    reader = await _feig(url)
    if reader is not None:
        found = [reader]
    else:
        found = await _kerong(url, kerong_addresses)
        if not found:
            other = await _numato(url) or await _waveshare(url)
            found = [other] if other else []
    for device in found:
        device.usb = usb
    return found


async def probe(ports: list[str], *, kerong_addresses: list[int]) -> dict[str, list[FoundDevice]]:
    """Each port and what answered on it (an empty list: silent). The ports are asked at the
    same time: each is its own device, and a silent one costs seconds of timeouts."""
    found = await asyncio.gather(*(probe_port(url, kerong_addresses=kerong_addresses)
                                   for url in ports))
    return dict(zip(ports, found, strict=True))
