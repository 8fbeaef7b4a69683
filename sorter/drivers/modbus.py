"""A sorter PLC over Modbus, through pymodbus: Modbus TCP for `socket://host:port` (MBAP framing),
Modbus RTU for a serial port (a path or any other pyserial URL). The map is sorter/modbus_map.py;
each reading of the sensors is two Read Discrete Inputs requests (0..n and 100..201)."""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import urlparse

from pymodbus.client import AsyncModbusSerialClient, AsyncModbusTcpClient
from pymodbus.exceptions import ModbusException

from sorter import modbus_map as m
from sorter.base import Sorter, SorterError
from sorter.modbus_map import SorterInputs


class ModbusSorter(Sorter):
    def __init__(self, *, name: str = "sorter", url: str, diverters: int = 8, unit: int = 1,
                 baudrate: int = 19200, timeout_s: float = 1.0, reject_path: bool = False) -> None:
        if not 1 <= diverters <= m.MAX_DIVERTERS:
            raise ValueError(f"diverters must be 1..{m.MAX_DIVERTERS} (the map's bins)")
        self.name, self.url, self.diverters, self.unit = name, url, diverters, unit
        self.baudrate, self.timeout_s, self.reject_path = baudrate, timeout_s, reject_path
        self._client: Any = None
        self._lock = asyncio.Lock()  # one request on the wire at a time

    async def open(self) -> None:
        await self.close()
        where = urlparse(self.url)
        if where.scheme == "socket":
            client: Any = AsyncModbusTcpClient(where.hostname or "127.0.0.1", port=where.port or 502,
                                               timeout=self.timeout_s, retries=1)
        else:
            client = AsyncModbusSerialClient(self.url, baudrate=self.baudrate,
                                             timeout=self.timeout_s, retries=1)
        if not await client.connect():
            raise SorterError(f"{self.name}: cannot reach the sorter at {self.url}")
        self._client = client

    async def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            client.close()

    async def _call(self, what: str, request: Any) -> Any:
        if self._client is None:
            raise SorterError(f"{self.name}: not connected")
        async with self._lock:
            try:
                reply = await request(self._client)
            except (TimeoutError, ModbusException, OSError) as exc:
                raise SorterError(f"{self.name}: {what}: {exc}") from None
        if reply.isError():
            raise SorterError(f"{self.name}: {what}: the sorter refused ({reply})")
        return reply

    async def read_inputs(self) -> SorterInputs:
        low = await self._call("reading the photo-eyes", lambda c: c.read_discrete_inputs(
            0, count=self.diverters + 1, device_id=self.unit))
        high = await self._call("reading the bins and stops", lambda c: c.read_discrete_inputs(
            m.BIN_FULL_BASE, count=m.LIGHT_CURTAIN - m.BIN_FULL_BASE + 1, device_id=self.unit))
        return SorterInputs.from_bits(self.diverters, list(low.bits), list(high.bits))

    async def _write_belt(self, running: bool) -> None:
        await self._call("the belt", lambda c: c.write_coil(m.BELT, running, device_id=self.unit))

    async def _write_diverter(self, k: int, out: bool) -> None:
        await self._call(f"diverter {k}", lambda c: c.write_coil(
            m.diverter_coil(k), out, device_id=self.unit))

    async def _write_intake(self, on: bool) -> None:
        await self._call("the intake", lambda c: c.write_coil(m.INTAKE, on, device_id=self.unit))

    async def _write_reject(self, on: bool) -> None:
        await self._call("the reject path", lambda c: c.write_coil(
            m.REJECT, on, device_id=self.unit))
