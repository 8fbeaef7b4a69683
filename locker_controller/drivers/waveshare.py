"""Waveshare Modbus RTU Relay (D): 8 relays and 8 opto inputs (door switches), device id 1.

Byte layouts from Waveshare's wiki page "Modbus RTU Relay (D)", section "Development Protocol":
relays are coils 0x0000-0x0007 (0x00FF: all), inputs are discrete inputs 0x0000-0x0007, and
"flash on" writes coil 0x0200 + channel with the time in 100 ms steps. Only this 8-channel model
is driven: Waveshare's 16- and 32-channel Modbus RTU Relay boards document no digital inputs for
door switches, so a profile giving this driver more than 8 locks is refused at load.

Locks are pulsed with the hardware-timed flash, so a crash can never leave a relay energised.
pymodbus does the framing; its write_coil only sends FF00/0000, so the flash request packs its
own value. The door controller switches every relay off at start-up and at shutdown (all_off).
"""

from __future__ import annotations

import asyncio
import math
import struct
import threading
from typing import Any

from pymodbus.client import ModbusSerialClient
from pymodbus.exceptions import ModbusException
from pymodbus.pdu.bit_message import WriteSingleCoilRequest

from locker_controller.board import (
    BoardDisconnected,
    BoardProtocolError,
    BoardTimeout,
    DoorSensor,
    LockBoard,
)

FLASH_BASE = 0x0200
ALL_RELAYS = 0x00FF
INPUTS = 8


class FlashOnRequest(WriteSingleCoilRequest):
    """Function 05 at 0x0200 + channel with a duration instead of FF00 ("flash on")."""

    def __init__(self, channel: int, tenths: int, dev_id: int) -> None:
        super().__init__(address=FLASH_BASE + channel, bits=[True], dev_id=dev_id)
        self.tenths = tenths

    def encode(self) -> bytes:
        return struct.pack(">HH", self.address, self.tenths)


def doors_from_bits(bits: list[bool], count: int, closed_when_active: bool,
                    board: str) -> dict[int, DoorSensor]:
    """Door states from a discrete-inputs reply; a short reply is an error, not closed doors."""
    if len(bits) < count:
        raise BoardProtocolError(f"{board}: {len(bits)} inputs in the reply, expected {count}")
    return {n: DoorSensor.CLOSED if bool(bits[n - 1]) == closed_when_active else DoorSensor.OPEN
            for n in range(1, count + 1)}


class WaveshareRelayD(LockBoard):
    def __init__(self, *, name: str, url: str, address: int = 1, locks: int = 8,
                 baudrate: int = 9600, timeout_s: float = 0.3, closed_when_active: bool = True) -> None:
        if not 1 <= locks <= INPUTS:
            raise ValueError(f"{name}: the Modbus RTU Relay (D) has {INPUTS} relays, not {locks}")
        self.name, self.url, self.address = name, url, address or 1
        self.lock_count, self.baudrate, self.timeout_s = locks, baudrate, timeout_s
        self.door_inputs = INPUTS
        self.closed_when_active = closed_when_active
        self._client: ModbusSerialClient | None = None
        self._lock = threading.Lock()

    def _call(self, action: Any) -> Any:
        with self._lock:
            if self._client is None:
                raise BoardDisconnected(f"{self.name}: not open")
            try:
                reply = action(self._client)
            except ModbusException as exc:
                raise BoardTimeout(f"{self.name}: {exc}") from exc
            except OSError as exc:
                raise BoardDisconnected(f"{self.name}: {exc}") from exc
            if reply is None or reply.isError():
                raise BoardProtocolError(f"{self.name}: error reply {reply}")
            return reply

    async def open(self) -> None:
        def connect() -> None:
            with self._lock:
                client = ModbusSerialClient(self.url, baudrate=self.baudrate, timeout=self.timeout_s,
                                            retries=1, reconnect_delay=0)
                if not client.connect():
                    raise BoardDisconnected(f"{self.name}: cannot open {self.url}")
                self._client = client

        await asyncio.to_thread(connect)

    async def close(self) -> None:
        def disconnect() -> None:
            with self._lock:
                client, self._client = self._client, None
                if client is not None:
                    client.close()

        await asyncio.to_thread(disconnect)

    async def pulse(self, lock: int, duration_ms: int) -> bool:
        if not 1 <= lock <= self.lock_count:
            raise ValueError(f"{self.name}: no relay {lock} (1..{self.lock_count})")
        tenths = max(1, math.ceil(duration_ms / 100))
        try:
            await asyncio.to_thread(self._call, lambda c: c.execute(
                False, FlashOnRequest(lock - 1, tenths, self.address)))
        except BoardTimeout:
            return False  # sent, not acknowledged: the door sensor decides
        return True

    async def read_doors(self) -> dict[int, DoorSensor]:
        reply = await asyncio.to_thread(self._call, lambda c: c.read_discrete_inputs(
            0, count=INPUTS, device_id=self.address))
        return doors_from_bits(list(reply.bits or []), self.lock_count, self.closed_when_active,
                               self.name)

    async def all_off(self) -> None:
        await asyncio.to_thread(self._call, lambda c: c.write_coil(
            ALL_RELAYS, False, device_id=self.address))
