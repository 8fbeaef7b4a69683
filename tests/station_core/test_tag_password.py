"""The UHF tag access password is a secret: it comes from the environment (the station's
station.env), never from the profile or the database, and a bad one is a clear error that does
not show it."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from station_core.devices import create_rfid_reader
from station_core.profile import RfidReaderSettings

pytest.importorskip("sllurp")


def uhf(**options: object) -> RfidReaderSettings:
    return RfidReaderSettings(id="pad", driver="llrp", host="127.0.0.1", tag_scheme="28560-4",
                              role="programming", options=options)


def test_the_password_is_read_from_the_named_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BRONCO_TAG_ACCESS_PASSWORD", "5a17c0de")
    reader = create_rfid_reader(uhf(access_password_env="BRONCO_TAG_ACCESS_PASSWORD"))
    assert reader.access_password == 0x5A17C0DE


@pytest.mark.parametrize("value", ["", "1234", "0000000", "00000000", "zzzzzzzz"])
def test_a_missing_or_useless_password_is_refused_without_showing_it(
        monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("BRONCO_TAG_ACCESS_PASSWORD", value)
    with pytest.raises(ValueError, match="BRONCO_TAG_ACCESS_PASSWORD") as caught:
        create_rfid_reader(uhf(access_password_env="BRONCO_TAG_ACCESS_PASSWORD"))
    assert not value or value not in str(caught.value)


def test_a_password_written_into_the_profile_is_refused() -> None:
    with pytest.raises(ValidationError, match="access_password_env"):
        uhf(access_password=0x5A17C0DE)
