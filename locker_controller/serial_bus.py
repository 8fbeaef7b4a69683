"""One serial port shared by every board on an RS-485 bus (two Kerong CU16 at addresses 0 and 1
sit on one adapter). Transactions are serialised; a lost port is reopened on the next one."""

from __future__ import annotations

import contextlib
import termios
import threading
from typing import Any, ClassVar

import serial

from locker_controller.board import BoardDisconnected

PORT_ERRORS = (serial.SerialException, OSError, termios.error)


class SerialBus:
    _buses: ClassVar[dict[str, SerialBus]] = {}
    _registry_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, url: str, baudrate: int, timeout_s: float) -> None:
        self.url, self.baudrate, self.timeout_s = url, baudrate, timeout_s
        self.lock = threading.Lock()
        self.users = 0
        self._port: Any = None

    @classmethod
    def attach(cls, url: str, baudrate: int, timeout_s: float) -> SerialBus:
        with cls._registry_lock:
            bus = cls._buses.get(url)
            if bus is None:
                bus = cls._buses[url] = SerialBus(url, baudrate, timeout_s)
            bus.users += 1
            return bus

    def detach(self) -> None:
        with self._registry_lock:
            self.users -= 1
            if self.users <= 0:
                self._buses.pop(self.url, None)
                with self.lock:
                    self._close()

    def _open(self) -> Any:
        if self._port is None:
            try:
                self._port = serial.serial_for_url(self.url, baudrate=self.baudrate,
                                                   timeout=self.timeout_s)
            except (*PORT_ERRORS, ValueError) as exc:
                raise BoardDisconnected(f"cannot open {self.url}: {exc}") from exc
        return self._port

    def _close(self) -> None:
        port, self._port = self._port, None
        if port is not None:
            with contextlib.suppress(PORT_ERRORS):
                port.close()

    def ensure_open(self) -> None:
        with self.lock:
            self._open()

    def transact(self, frame: bytes, reply_size: int) -> bytes:
        """Write a frame and read up to `reply_size` bytes (fewer on a timeout)."""
        with self.lock:
            port = self._open()
            try:
                port.reset_input_buffer()  # stale bytes from a glitch would shift every frame
                port.write(frame)
                return port.read(reply_size) if reply_size else b""
            except PORT_ERRORS as exc:
                self._close()
                raise BoardDisconnected(f"{self.url} lost: {exc}") from exc

    def exchange_line(self, line: bytes, until: bytes, limit: int = 256) -> bytes:
        """ASCII boards: write a command line and read until a prompt."""
        with self.lock:
            port = self._open()
            try:
                port.reset_input_buffer()
                port.write(line)
                return port.read_until(until, limit)
            except PORT_ERRORS as exc:
                self._close()
                raise BoardDisconnected(f"{self.url} lost: {exc}") from exc
