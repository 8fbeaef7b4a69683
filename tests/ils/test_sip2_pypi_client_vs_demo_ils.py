"""The `sip2` PyPI client (an implementation we did not write) against our demo ILS."""

from __future__ import annotations

import asyncio
import logging
import socket

from Sip2.sip2 import Sip2

from ils.sip2.codec import checksum
from tests.conftest import DemoIls

MARIA, MARIA_PIN = "2900001000", "1234"


def client(port: int) -> Sip2:
    sip = Sip2()
    sip.hostName, sip.hostPort = "127.0.0.1", port
    sip.tlsEnable = False
    sip.socketTimeout = 5
    sip.institutionId = "DEMO"
    sip.scLocation = "KIOSK1"
    sip.log = logging.getLogger("sip2-peer")
    sip.connect()
    return sip


def test_peer_client_session_against_demo_ils(demo_ils: DemoIls) -> None:
    sip = client(demo_ils.port)
    login = sip.sip_login_response(sip.get_response(sip.sip_login_request("kiosk", "demo")))
    assert login["fixed"]["Ok"] == "1"
    status = sip.sip_sc_status_response(sip.get_response(sip.sip_sc_status_request()))
    assert status["fixed"]["OnlineStatus"] == "Y"
    assert status["fixed"]["OfflineOk"] == "Y"
    assert status["variable"]["AO"] == ["DEMO"]
    assert status["variable"]["BX"][0][1] == "Y"  # checkout supported

    sip.patron, sip.patronpwd = MARIA, MARIA_PIN
    info = sip.sip_patron_information_response(
        sip.get_response(sip.sip_patron_information_request("charged")))
    assert info["variable"]["AE"] == ["María José Núñez"]
    assert info["variable"]["BL"] == ["Y"] and info["variable"]["CQ"] == ["Y"]

    out = sip.sip_checkout_response(sip.get_response(sip.sip_checkout_request("3100002000")))
    assert out["fixed"]["Ok"] == "1"
    assert out["variable"]["AJ"] == ["The Left Hand of Darkness"]

    item = sip.sip_item_information_response(
        sip.get_response(sip.sip_item_information_request("3100002000")))
    assert item["fixed"]["CirculationStatus"] == "04"

    renewed = sip.sip_renew_response(sip.get_response(sip.sip_renew_request("3100002000")))
    assert renewed["fixed"]["Ok"] == "1" and renewed["fixed"]["RenewalOk"] == "Y"

    back = sip.sip_checkin_response(sip.get_response(sip.sip_checkin_request("3100007001")))
    assert back["fixed"]["Ok"] == "1" and back["fixed"]["Alert"] == "Y"
    assert back["variable"]["CY"] == [MARIA]  # the hold trap names whose hold it is
    assert back["variable"]["CL"] == ["HOLDS"]
    sip.disconnect()
    ops = [(r["op"], r["item"], r["ok"]) for r in demo_ils.records()]
    assert ops == [("checkout", "3100002000", True), ("renew", "3100002000", True),
                   ("checkin", "3100007001", True)]


def _exchange(port: int, frames: list[bytes]) -> list[bytes]:
    async def go() -> list[bytes]:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        replies = []
        for frame in frames:
            writer.write(frame)
            await writer.drain()
            replies.append(await asyncio.wait_for(reader.readuntil(b"\r"), 5))
        writer.close()
        return replies

    return asyncio.run(go())


def test_demo_ils_is_lenient_with_an_unpadded_checksum(demo_ils: DemoIls) -> None:
    # The sip2 client writes checksums below 0x1000 with three digits: make such a login (a byte
    # sum just under 0x10000 needs long fields; unknown fields are kept, not refused).
    filler = "ZZ" + "z" * 250 + "|ZY" + "z" * 250
    body = next(
        candidate for n in range(100_000)
        if checksum(candidate := f"9300CNkiosk|COdemo|{filler}|XX{n}|AY0AZ".encode()).startswith("0")
    )
    frame = body + checksum(body)[1:].encode() + b"\r"
    assert _exchange(demo_ils.port, [frame])[0].startswith(b"941")


def test_demo_ils_answers_a_bad_checksum_with_96_and_garbage_too(demo_ils: DemoIls) -> None:
    good = b"9300CNkiosk|COdemo|AY0AZ"
    good += checksum(good).encode() + b"\r"
    bad = good[:-2] + (b"0" if good[-2:-1] != b"0" else b"1") + b"\r"
    replies = _exchange(demo_ils.port, [bad, b"\x00garbage\xff\r", good])
    assert replies[0].startswith(b"96") and replies[1].startswith(b"96")
    assert replies[2].startswith(b"941")


def test_demo_ils_closes_a_session_that_skips_login(demo_ils: DemoIls) -> None:
    with socket.create_connection(("127.0.0.1", demo_ils.port), timeout=5) as sock:
        sock.sendall(b"1720261124    100000AODEMO|AB3100002000|\r")
        assert sock.recv(100) == b""  # closed, nothing served
