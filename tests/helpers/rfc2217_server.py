"""An RFC 2217 terminal server on loopback in front of a serial device (a pty emulator), the way
serial RFID readers are put on a network (ser2net, Moxa NPort). The client's line settings reach
the server's port object through pyserial's own RFC 2217 PortManager, so an emulator can check
what the driver negotiated: baud rate, data bits and parity."""

from __future__ import annotations

import contextlib
import socket
import threading
from pathlib import Path

import serial
import serial.rfc2217


class _Link:
    """The network side PortManager writes Telnet answers to (thread safe)."""

    def __init__(self, client: socket.socket) -> None:
        self.client, self.lock = client, threading.Lock()

    def write(self, data: bytes) -> None:
        with self.lock, contextlib.suppress(OSError):
            self.client.sendall(data)


class NegotiatedLine:
    """The server's view of the serial line: what the client asked for over RFC 2217 (as a
    terminal server would set its UART), with the bytes carried to the device at 8N1 (a pty
    cannot take parity or modem-line ioctls)."""

    def __init__(self, device: Path) -> None:
        self.baudrate, self.bytesize, self.parity, self.stopbits = 9600, 8, "N", 1
        self.rtscts = self.xonxoff = False
        self.rts = self.dtr = True
        self.break_condition = False
        self.cts = self.dsr = self.cd = True
        self.ri = False
        self.device = serial.Serial()
        self.device.port, self.device.timeout = str(device), 0.05

    @property
    def is_open(self) -> bool:
        return self.device.is_open

    def open(self) -> None:
        self.device.open()

    def close(self) -> None:
        self.device.close()

    def read(self, size: int) -> bytes:
        return self.device.read(size)

    def write(self, data: bytes) -> None:
        self.device.write(data)

    def reset_input_buffer(self) -> None:
        self.device.reset_input_buffer()

    def reset_output_buffer(self) -> None:
        self.device.reset_output_buffer()


class Rfc2217Server:
    def __init__(self, device: Path) -> None:
        self.port_object = NegotiatedLine(device)  # opened once a client connects
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"rfc2217://127.0.0.1:{self._listener.getsockname()[1]}"
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def line_settings(self) -> tuple[int, int, str | None]:
        return self.port_object.baudrate, self.port_object.bytesize, self.port_object.parity

    def start(self) -> Rfc2217Server:
        thread = threading.Thread(target=self._accept, name="rfc2217-server", daemon=True)
        thread.start()
        self._threads.append(thread)
        return self

    def stop(self) -> None:
        self._stop.set()
        self._listener.close()
        for thread in self._threads:
            thread.join(2)
        with contextlib.suppress(serial.SerialException, OSError):
            self.port_object.close()

    def _accept(self) -> None:
        self._listener.settimeout(0.1)
        while not self._stop.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            if not self.port_object.is_open:
                self.port_object.open()
            manager = serial.rfc2217.PortManager(self.port_object, _Link(client))
            ended = threading.Event()
            back = threading.Thread(target=self._device_to_net, args=(manager, ended), daemon=True)
            back.start()
            self._net_to_device(client, manager)
            ended.set()  # one client at a time: the next one gets every byte the device sends
            back.join(2)

    def _net_to_device(self, client: socket.socket, manager: serial.rfc2217.PortManager) -> None:
        client.settimeout(0.1)
        while not self._stop.is_set():
            try:
                data = client.recv(1024)
            except TimeoutError:
                continue
            except OSError:
                break
            if not data:
                break
            payload = b"".join(manager.filter(data))
            if payload:
                self.port_object.write(payload)
        client.close()

    def _device_to_net(self, manager: serial.rfc2217.PortManager, ended: threading.Event) -> None:
        while not self._stop.is_set() and not ended.is_set():
            try:
                data = self.port_object.read(256)
            except (serial.SerialException, OSError, TypeError):
                return
            if data:
                manager.connection.write(b"".join(manager.escape(data)))
