"""Device objects made from a profile's settings, through the driver registries."""

from __future__ import annotations

from typing import Any

from station_core.profile import CardReaderSettings, LockBoardSettings, RfidReaderSettings
from station_core.registry import CARD_READERS, LOCK_BOARDS, RFID_READERS, default_lock_count


def create_rfid_reader(settings: RfidReaderSettings) -> Any:
    kwargs: dict[str, Any] = {"name": settings.id, **settings.options}
    if settings.url:
        kwargs["url"] = settings.url
    if settings.host:
        kwargs["host"] = settings.host
    if settings.port:
        kwargs["port"] = settings.port
    return RFID_READERS.create(settings.driver, **kwargs)


def create_lock_board(settings: LockBoardSettings) -> Any:
    kwargs: dict[str, Any] = {"name": settings.id, **settings.options}
    if settings.url:
        kwargs["url"] = settings.url
    if settings.driver != "simulated":
        kwargs["address"] = settings.address
    kwargs["locks"] = settings.locks or default_lock_count(settings.driver)
    return LOCK_BOARDS.create(settings.driver, **kwargs)


def create_card_reader(settings: CardReaderSettings) -> Any:
    kwargs: dict[str, Any] = {"name": settings.id, **settings.options}
    if settings.driver != "simulated":
        kwargs["reader_name"] = settings.reader_name
        kwargs["apdu"] = bytes.fromhex(settings.apdu)
    return CARD_READERS.create(settings.driver, **kwargs)
