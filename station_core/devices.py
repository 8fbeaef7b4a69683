"""Device objects made from a profile's settings, through the driver registries."""

from __future__ import annotations

import os
from typing import Any

from station_core.profile import CardReaderSettings, LockBoardSettings, RfidReaderSettings
from station_core.registry import (
    CARD_READERS,
    LOCK_BOARDS,
    RFID_READERS,
    SORTERS,
    default_lock_count,
)
from station_core.returns_profile import SorterSettings


def create_rfid_reader(settings: RfidReaderSettings) -> Any:
    kwargs: dict[str, Any] = {"name": settings.id, **settings.options}
    variable = kwargs.pop("access_password_env", None)
    if variable:  # the UHF access password: a secret, from the environment (station.env)
        kwargs["access_password"] = tag_access_password(str(variable))
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


def create_sorter(settings: SorterSettings) -> Any:
    """The book drop's sorter from `[returns.sorter]`: the simulator moves its own belt (it takes
    the segment time), a PLC driver takes where to reach it."""
    options: dict[str, Any] = {"name": "sorter", "diverters": settings.diverters,
                               "reject_path": settings.reject_path, **settings.options}
    if settings.driver == "simulated":
        options["segment_s"] = settings.segment_s
    else:
        options.update(url=settings.url, unit=settings.unit)
    return SORTERS.create(settings.driver, **options)


def tag_access_password(variable: str) -> int:
    """The 32-bit Gen2 access password in `variable`, as 8 hexadecimal digits; a clear error
    (never the value) when it is missing or malformed."""
    text = os.environ.get(variable, "").strip().removeprefix("0x")
    if len(text) != 8 or any(c not in "0123456789abcdefABCDEF" for c in text):
        raise ValueError(f"{variable} must hold the tag access password as 8 hexadecimal digits")
    value = int(text, 16)
    if value == 0:
        raise ValueError(f"{variable}: a zero access password protects nothing")
    return value
