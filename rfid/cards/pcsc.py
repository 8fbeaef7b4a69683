"""Campus cards through PC/SC (pcscd) with pyscard: the UID (FF CA 00 00 00) or a configured APDU.

pyscard is imported only when a profile chooses this driver. Its calls block, so they run in a
worker thread; a card that stays on the reader is reported once, not once per poll.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any

from smartcard.CardRequest import CardRequest
from smartcard.Exceptions import CardConnectionException, CardRequestTimeoutException, NoCardException
from smartcard.System import readers as list_readers

from rfid.cards.reader import (
    CardProtocolError,
    CardRead,
    CardReader,
    CardReaderDisconnected,
)

GET_UID = bytes.fromhex("FFCA000000")


class PcscCardReader(CardReader):
    def __init__(self, *, name: str = "pcsc", reader_name: str = "", apdu: bytes = GET_UID,
                 poll_s: float = 0.2) -> None:
        self.name, self.reader_name, self.apdu, self.poll_s = name, reader_name, apdu, poll_s
        self._reader: Any = None
        self._last_uid: bytes | None = None

    def _find(self) -> Any:
        found = [r for r in list_readers() if self.reader_name.lower() in str(r).lower()]
        if not found:
            raise CardReaderDisconnected(f"{self.name}: no PC/SC reader matching "
                                         f"{self.reader_name!r} (is pcscd running?)")
        return found[0]

    async def open(self) -> None:
        try:
            self._reader = await asyncio.to_thread(self._find)
        except CardReaderDisconnected:
            raise
        except Exception as exc:  # pyscard raises its own types when pcscd is absent
            raise CardReaderDisconnected(f"{self.name}: PC/SC unavailable: {exc}") from exc

    async def close(self) -> None:
        self._reader = None

    def _read_once(self, timeout_s: float) -> bytes | None:
        request = CardRequest(timeout=timeout_s, readers=[self._reader])
        try:
            service = request.waitforcard()
        except CardRequestTimeoutException:
            self._last_uid = None  # the card was taken away
            return None
        connection = service.connection
        try:
            connection.connect()
            data, sw1, sw2 = connection.transmit(list(self.apdu))
        except (NoCardException, CardConnectionException):
            return None
        finally:
            with contextlib.suppress(Exception):  # already gone with the card
                connection.disconnect()
        if (sw1, sw2) != (0x90, 0x00) or not data:
            raise CardProtocolError(f"{self.name}: card answered {sw1:02X}{sw2:02X}")
        return bytes(data)

    async def wait_for_card(self, timeout_s: float) -> CardRead | None:
        if self._reader is None:
            raise CardReaderDisconnected(f"{self.name}: not open")
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                uid = await asyncio.to_thread(self._read_once, min(self.poll_s, timeout_s))
            except CardProtocolError:
                raise
            except Exception as exc:
                raise CardReaderDisconnected(f"{self.name}: {exc}") from exc
            if uid is not None and uid != self._last_uid:
                self._last_uid = uid
                return CardRead(uid, str(self._reader))
            await asyncio.sleep(self.poll_s)
        return None
