"""A virtual contactless card for Debian's vsmartcard-vpcd (a virtual reader inside pcscd).

vpcd's socket protocol: each frame is a 16-bit big-endian length and a payload. A one-byte payload
is a control message (0 power off, 1 power on, 2 reset, 4 ATR request, which we answer with the
ATR); anything else is a command APDU, answered with a response APDU. Closing the socket removes
the card. The card answers GET UID (FF CA 00 00 00) and a SELECT of any application.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading

# MIFARE Classic 1K as PC/SC part 3 describes it
ATR = bytes.fromhex("3B8F8001804F0CA000000306030001000000006A")
OK, NOT_SUPPORTED = b"\x90\x00", b"\x6A\x81"


class VirtualCard:
    def __init__(self, uid: bytes, host: str = "127.0.0.1", port: int = 35963) -> None:
        self.uid, self.host, self.port = uid, host, port
        self.apdus: list[bytes] = []
        self._socket: socket.socket | None = None
        self._thread: threading.Thread | None = None

    def insert(self) -> None:
        """Put the card on the reader (connect to vpcd)."""
        self._socket = socket.create_connection((self.host, self.port), timeout=5)
        self._socket.settimeout(None)
        self._thread = threading.Thread(target=self._serve, name="virtual-card", daemon=True)
        self._thread.start()

    def remove(self) -> None:
        sock, self._socket = self._socket, None
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()
        if self._thread is not None:
            self._thread.join(2)

    def answer(self, apdu: bytes) -> bytes:
        if apdu[:4] == bytes.fromhex("FFCA0000"):
            return self.uid + OK
        return NOT_SUPPORTED

    def _serve(self) -> None:
        sock = self._socket
        while sock is not None:
            try:
                header = sock.recv(2, socket.MSG_WAITALL)
                if len(header) < 2:
                    return
                (length,) = struct.unpack(">H", header)
                payload = sock.recv(length, socket.MSG_WAITALL) if length else b""
            except OSError:
                return
            if len(payload) == 1:
                if payload[0] == 4:
                    sock.sendall(struct.pack(">H", len(ATR)) + ATR)
                continue  # power on/off and reset need no answer
            self.apdus.append(payload)
            reply = self.answer(payload)
            sock.sendall(struct.pack(">H", len(reply)) + reply)
