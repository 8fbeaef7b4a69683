"""A sorter PLC on Modbus TCP, byte-exact, written from the Modbus Application Protocol
specification (V1.1b3) rather than from a client library: MBAP header (6.1: transaction id,
protocol 0, length, unit id), Read Coils 0x01 (6.1), Read Discrete Inputs 0x02 (6.2), Write
Single Coil 0x05 (6.5: FF00 on, 0000 off, echoed), Write Multiple Coils 0x0F (6.11); exception
responses (function | 0x80, code 01 illegal function, 02 illegal address, 03 illegal value).
Its coils and inputs follow sorter/modbus_map.py and drive a Belt that moves in time."""

from __future__ import annotations

import asyncio
import struct
import threading

from sorter import modbus_map as m
from sorter.belt import Belt

ILLEGAL_FUNCTION, ILLEGAL_ADDRESS, ILLEGAL_VALUE = 1, 2, 3


class SorterPlc:
    """The PLC's registers over a Belt."""

    def __init__(self, belt: Belt) -> None:
        self.belt = belt

    def coil(self, address: int) -> bool | None:
        if address == m.BELT:
            return self.belt.running
        if 1 <= address <= self.belt.diverters:
            return self.belt.out[address - 1]
        if address == m.INTAKE:
            return self.belt.intake
        if address == m.REJECT and self.belt.has_reject_path:
            return self.belt.reject
        return None

    def discrete_input(self, address: int) -> bool | None:
        belt, n = self.belt, self.belt.diverters
        if address == m.SLOT_EYE:
            return belt.slot_eye()
        if 1 <= address <= n:
            return belt.diverter_eye(address)
        if m.BIN_FULL_BASE <= address <= m.BIN_FULL_BASE + n:
            return belt.bin_full(address - m.BIN_FULL_BASE)
        if address == m.EMERGENCY_STOP:
            return belt.emergency_stop
        if address == m.LIGHT_CURTAIN:
            return belt.light_curtain()
        if address < m.LIGHT_CURTAIN:
            return False  # unused inputs inside the map read 0
        return None

    def write_coil(self, address: int, on: bool) -> bool:
        if address == m.BELT:
            self.belt.set_running(on)
        elif 1 <= address <= self.belt.diverters:
            self.belt.set_out(address, on)
        elif address == m.INTAKE:
            self.belt.set_intake(on)
        elif address == m.REJECT and self.belt.has_reject_path:
            self.belt.set_reject(on)
        else:
            return False
        return True

    def pdu(self, request: bytes) -> bytes:
        """One request PDU (function code and data) -> the response PDU."""
        function = request[0]
        if function in (0x01, 0x02) and len(request) == 5:
            start, count = struct.unpack(">HH", request[1:5])
            if not 1 <= count <= 2000:
                return bytes([function | 0x80, ILLEGAL_VALUE])
            read = self.coil if function == 0x01 else self.discrete_input
            bits = [read(start + i) for i in range(count)]
            if any(b is None for b in bits):
                return bytes([function | 0x80, ILLEGAL_ADDRESS])
            packed = bytearray((count + 7) // 8)
            for i, bit in enumerate(bits):
                if bit:
                    packed[i // 8] |= 1 << (i % 8)  # LSB of the first byte is the first bit
            return bytes([function, len(packed)]) + bytes(packed)
        if function == 0x05 and len(request) == 5:
            address, value = struct.unpack(">HH", request[1:5])
            if value not in (0xFF00, 0x0000):
                return bytes([function | 0x80, ILLEGAL_VALUE])
            if not self.write_coil(address, value == 0xFF00):
                return bytes([function | 0x80, ILLEGAL_ADDRESS])
            return request  # echoed
        if function == 0x0F and len(request) >= 6:
            start, count, size = *struct.unpack(">HH", request[1:5]), request[5]
            if size != (count + 7) // 8 or len(request) != 6 + size:
                return bytes([function | 0x80, ILLEGAL_VALUE])
            for i in range(count):
                if not self.write_coil(start + i, bool(request[6 + i // 8] >> (i % 8) & 1)):
                    return bytes([function | 0x80, ILLEGAL_ADDRESS])
            return request[:5]
        return bytes([function | 0x80, ILLEGAL_FUNCTION])


class SorterEmulator:
    """The PLC on a loopback TCP port, in its own thread, ticking the belt every 10 ms so that an
    item crossing an eye meets the diverter as it was at that moment."""

    def __init__(self, belt: Belt | None = None, *, unit: int = 1, port: int = 0,
                 watchdog_s: float | None = 3.0) -> None:
        self.belt = belt or Belt()
        self.belt.watchdog_s = watchdog_s  # a PLC stops the belt when the station goes quiet
        self.plc = SorterPlc(self.belt)
        self.unit = unit
        self.port = port
        self.requests: list[bytes] = []  # every request frame, as received
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sorter-plc", daemon=True)

    def start(self) -> SorterEmulator:
        self._thread.start()
        self._ready.wait(5)
        return self

    def close(self) -> None:
        if self._loop.is_running():
            asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop).result(5)
            self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)

    async def _shutdown(self) -> None:
        self._server.close()
        for writer in list(self._writers):
            writer.close()
        self._ticker.cancel()
        await asyncio.sleep(0)  # let the closes run before the loop stops

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._writers: set[asyncio.StreamWriter] = set()
        self._server = self._loop.run_until_complete(
            asyncio.start_server(self._serve, "127.0.0.1", self.port))
        self.port = self._server.sockets[0].getsockname()[1]
        self._ticker = self._loop.create_task(self._tick())
        self._ready.set()
        self._loop.run_forever()

    async def _tick(self) -> None:
        while True:
            self.belt.advance()
            await asyncio.sleep(0.01)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        try:
            while True:
                header = await reader.readexactly(7)
                transaction, protocol, length, unit = struct.unpack(">HHHB", header)
                if protocol != 0 or not 2 <= length <= 254:
                    break  # not Modbus TCP: drop the connection, as a PLC does
                body = await reader.readexactly(length - 1)
                self.requests.append(header + body)
                del self.requests[:-1000]  # the latest only: a long run must not grow for ever
                self.belt.spoken_to()
                if unit not in (self.unit, 0xFF):
                    continue  # another unit's request: a TCP PLC answers only its own
                answer = self.plc.pdu(body)
                writer.write(struct.pack(">HHHB", transaction, 0, len(answer) + 1, unit) + answer)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            self._writers.discard(writer)
            writer.close()
