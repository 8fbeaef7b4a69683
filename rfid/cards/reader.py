"""The card reader interface: a patron taps a campus card, we get its UID (or an APDU answer)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass


class CardReaderError(Exception):
    """Base of everything a card reader driver raises."""


class CardReaderTimeout(CardReaderError):
    pass


class CardReaderDisconnected(CardReaderError):
    pass


class CardProtocolError(CardReaderError):
    """The card or reader answered something that is not a valid response APDU."""


@dataclass(frozen=True)
class CardRead:
    uid: bytes
    reader: str = ""


class CardReader(ABC):
    name: str = "card-reader"

    @abstractmethod
    async def open(self) -> None: ...

    @abstractmethod
    async def close(self) -> None: ...

    @abstractmethod
    async def wait_for_card(self, timeout_s: float) -> CardRead | None:
        """The next card tapped within `timeout_s`, or None if none was."""
