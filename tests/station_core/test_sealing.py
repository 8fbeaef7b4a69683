"""Sealed state copies: the station's key and the library's recovery key open one; nothing else
does, and a copy changed on the way (or relabelled as another station's) does not open."""

from __future__ import annotations

import pytest

from station_core.sealing import (
    SealError,
    open_with_recovery_key,
    open_with_station_key,
    recovery_key_pair,
    seal,
)

KEY = bytes(range(32))


def sealed(public: bytes, plain: bytes = b"the database") -> bytes:
    return seal(plain, station_id="lockers-1", taken_at="2026-12-07T10:00:00+00:00", station_key=KEY,
                recovery_public=public.decode())


def test_the_station_and_the_recovery_key_open_it() -> None:
    private, public = recovery_key_pair()
    blob = sealed(public)
    assert b"the database" not in blob  # the hub stores ciphertext
    assert open_with_station_key(blob, KEY).body == b"the database"
    by_library = open_with_recovery_key(blob, private)
    assert by_library.body == b"the database" and by_library.station_id == "lockers-1"


def test_other_keys_open_nothing() -> None:
    _, public = recovery_key_pair()
    other_private, _ = recovery_key_pair()
    blob = sealed(public)
    with pytest.raises(SealError):
        open_with_station_key(blob, bytes(32))
    with pytest.raises(SealError):
        open_with_recovery_key(blob, other_private)


def test_a_changed_or_relabelled_copy_does_not_open() -> None:
    private, public = recovery_key_pair()
    blob = bytearray(sealed(public))
    blob[-5] ^= 1  # a bit flipped in the body
    with pytest.raises(SealError):
        open_with_recovery_key(bytes(blob), private)
    relabelled = sealed(public).replace(b'"station": "lockers-1"', b'"station": "lockers-2"', 1)
    with pytest.raises(SealError):
        open_with_recovery_key(relabelled, private)
