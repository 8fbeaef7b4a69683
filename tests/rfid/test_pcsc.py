"""The campus card reader on a real pcscd, with Debian's vsmartcard-vpcd virtual reader and our
own virtual card speaking vpcd's socket protocol."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator

import pytest

from rfid.cards.uid_rule import uid_to_barcode
from rfid.emulators.vpcd_card import VirtualCard

PCSCD = shutil.which("pcscd") or "/usr/sbin/pcscd"
UID = bytes.fromhex("04A1B2C3D4E580")

pytestmark = pytest.mark.skipif(
    not shutil.os.path.exists(PCSCD), reason="pcscd is not installed (scripts/run-tests installs it)")


def vpcd_listening() -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", 35963)) == 0


@pytest.fixture(scope="module")
def pcscd() -> Iterator[None]:
    proc = None
    if not vpcd_listening():
        proc = subprocess.Popen([PCSCD, "--foreground"], stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 15
        while not vpcd_listening():
            assert time.monotonic() < deadline, "pcscd did not open the vpcd socket"
            time.sleep(0.1)
    yield
    if proc is not None:
        proc.terminate()
        proc.wait(10)


async def test_a_tapped_card_is_read_once_and_mapped_to_a_barcode(pcscd: None) -> None:
    from rfid.cards.pcsc import PcscCardReader

    reader = PcscCardReader(reader_name="Virtual PCD")
    await reader.open()
    assert await reader.wait_for_card(0.5) is None  # nothing on the reader yet
    card = VirtualCard(UID)
    card.insert()
    try:
        read = await reader.wait_for_card(10)
        assert read is not None and read.uid == UID and "Virtual PCD" in read.reader
        assert card.apdus[0] == bytes.fromhex("FFCA000000")
        assert await reader.wait_for_card(0.6) is None  # still lying there: not a second tap
        assert uid_to_barcode(read.uid, format="decimal", byte_order="reversed") == \
            str(int.from_bytes(UID[::-1], "big"))
    finally:
        card.remove()
        await reader.close()


async def test_no_matching_reader_is_a_clean_error(pcscd: None) -> None:
    from rfid.cards.pcsc import PcscCardReader
    from rfid.cards.reader import CardReaderDisconnected

    with pytest.raises(CardReaderDisconnected, match="no PC/SC reader"):
        await PcscCardReader(reader_name="OMNIKEY 5427").open()
