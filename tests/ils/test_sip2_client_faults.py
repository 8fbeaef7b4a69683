"""The async client against a misbehaving ACS: split and merged reads, drops, garbage, TLS, pool."""

from __future__ import annotations

import asyncio
import datetime
import ssl
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from ils.errors import IlsRejected, IlsUnavailable
from ils.sip2 import CheckoutRequest, ItemInformationRequest, ProtocolError
from ils.sip2.client import Sip2Connection, Sip2Pool, Sip2Settings
from ils.sip2.codec import now
from ils.sip2_adapter import Sip2Adapter
from tests.ils.scripted_acs import CODEC, ScriptedAcs, standard_reply


def settings(port: int, **overrides) -> Sip2Settings:
    values = {"port": port, "encoding": "utf-8", "login_user": "kiosk", "login_password": "pw",
              "timeout_s": 1.0, "strict": True}
    values.update(overrides)
    return Sip2Settings(**values)


def checkout(item: str = "I1") -> CheckoutRequest:
    return CheckoutRequest(transaction_date=now(), nb_due_date=now(), institution_id="SCRIPT",
                           patron_id="P1", item_id=item, terminal_password="")


def item_info(item: str = "I1") -> ItemInformationRequest:
    return ItemInformationRequest(transaction_date=now(), institution_id="SCRIPT", item_id=item)


async def test_replies_split_into_tiny_reads_are_reassembled() -> None:
    async def dribble(request, frame, write, acs):
        data = CODEC.encode(standard_reply(request), request.sequence)
        for i in range(0, len(data), 3):
            await write(data[i:i + 3])
            await asyncio.sleep(0.001)

    async with ScriptedAcs(dribble) as acs:
        connection = Sip2Connection(settings(acs.port))
        await connection.connect()
        reply = await connection.request(checkout())
        await connection.close()
    assert reply.title == "Title of I1"


async def test_crlf_terminated_replies_are_framed_on_cr() -> None:
    async def crlf(request, frame, write, acs):
        await write(CODEC.encode(standard_reply(request), request.sequence) + b"\n")

    async with ScriptedAcs(crlf) as acs:
        connection = Sip2Connection(settings(acs.port))
        status = await connection.connect()
        first = await connection.request(item_info("A"))
        second = await connection.request(item_info("B"))
        await connection.close()
    assert status.institution_id == "SCRIPT" and first.item_id == "A" and second.item_id == "B"


async def test_two_replies_in_one_read_are_two_frames() -> None:
    async def double(request, frame, write, acs):
        if request.command == "17":
            # Answer this request and, unasked, a duplicate: the duplicate must not be taken
            # as the answer to the next request (sequence numbers differ).
            data = CODEC.encode(standard_reply(request), request.sequence)
            await write(data + data)
            return None
        await acs.reply(request, write)
        return None

    async with ScriptedAcs(double) as acs:
        connection = Sip2Connection(settings(acs.port))
        await connection.connect()
        reply = await connection.request(item_info("X"))
        assert reply.item_id == "X"
        with pytest.raises(ProtocolError):  # stale duplicate: out of step, refused in strict mode
            await connection.request(checkout("Y"))
        await connection.close()


async def test_drop_in_the_middle_of_a_reply_read_is_retried_write_is_uncertain() -> None:
    dropped: list[str] = []

    async def drop_once(request, frame, write, acs):
        data = CODEC.encode(standard_reply(request), request.sequence)
        if request.command in ("17", "11") and request.command not in dropped:
            dropped.append(request.command)
            await write(data[: len(data) // 2])
            return True  # hang up mid-reply
        await write(data)
        return None

    async with ScriptedAcs(drop_once) as acs:
        connection = Sip2Connection(settings(acs.port))
        await connection.connect()
        info = await connection.request(item_info("R"))  # a read: reconnect, log in, resend
        assert info.item_id == "R"
        with pytest.raises(IlsUnavailable) as lost:
            await connection.request(checkout("W"))  # a write: never resent blindly
        assert lost.value.uncertain is True
        after = await connection.request(checkout("W2"))  # next request reconnects by itself
        await connection.close()
    assert after.item_id == "W2"
    assert acs.connections == 3
    assert acs.commands().count("93") == 3  # logged in again after each drop
    assert [r.item_id for r in acs.requests if r.command == "11"] == ["W", "W2"]


@pytest.mark.parametrize("garbage", [b"\x00\xff\xfe garbage\r", b"12\r", b"XX123|\r",
                                     b"121NNY2026", b"94\xff\r"])
async def test_garbage_reply_is_a_protocol_error_and_the_link_is_reset(garbage: bytes) -> None:
    async def garbled(request, frame, write, acs):
        if request.command == "11":
            await write(garbage)
            return True if not garbage.endswith(b"\r") else None
        await acs.reply(request, write)
        return None

    async with ScriptedAcs(garbled) as acs:
        connection = Sip2Connection(settings(acs.port, timeout_s=0.5))
        await connection.connect()
        with pytest.raises((ProtocolError, IlsUnavailable)) as failed:
            await connection.request(checkout())
        if isinstance(failed.value, IlsUnavailable):
            assert failed.value.uncertain
        assert not connection.connected
        assert (await connection.request(item_info())).title == "Some title"
        await connection.close()


async def test_endless_96_is_bounded() -> None:
    async def always_resend(request, frame, write, acs):
        if request.command == "11":
            await write(b"96AZFEF6\r")
            return None
        await acs.reply(request, write)
        return None

    async with ScriptedAcs(always_resend) as acs:
        connection = Sip2Connection(settings(acs.port, retries=2))
        await connection.connect()
        with pytest.raises(ProtocolError, match="resends"):
            await connection.request(checkout())
        await connection.close()
    assert acs.commands().count("11") == 3  # the original and two resends


async def test_silent_ils_times_out() -> None:
    async def silent(request, frame, write, acs):
        if request.command == "17":
            await asyncio.sleep(5)
            return None
        await acs.reply(request, write)
        return None

    async with ScriptedAcs(silent) as acs:
        connection = Sip2Connection(settings(acs.port, timeout_s=0.3))
        await connection.connect()
        with pytest.raises(IlsUnavailable, match="no answer"):
            await connection.request(item_info())
        await connection.close()


async def test_nothing_listening_is_unavailable() -> None:
    from tests.conftest import free_port

    with pytest.raises(IlsUnavailable, match="cannot connect"):
        await Sip2Connection(settings(free_port())).connect()


async def test_wrong_password_is_rejected() -> None:
    async with ScriptedAcs() as acs:
        with pytest.raises(IlsRejected, match="login"):
            await Sip2Connection(settings(acs.port, login_password="nope")).connect()


def make_certificate(folder: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    today = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(today - datetime.timedelta(days=1))
        .not_valid_after(today + datetime.timedelta(days=2))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "ils.pem", folder / "ils.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


async def test_tls_with_a_certificate_made_here(tmp_path: Path) -> None:
    cert, key = make_certificate(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    async with ScriptedAcs(ssl_context=context) as acs:
        verified = Sip2Connection(settings(acs.port, host="localhost", tls=True, ca_file=cert))
        assert (await verified.connect()).institution_id == "SCRIPT"
        assert (await verified.request(checkout())).ok
        await verified.close()
        # Without our CA the certificate is refused, unless verification is switched off.
        with pytest.raises(IlsUnavailable):
            await Sip2Connection(settings(acs.port, host="localhost", tls=True)).connect()
        unverified = Sip2Connection(settings(acs.port, host="localhost", tls=True, tls_verify=False))
        assert (await unverified.connect()).online
        await unverified.close()


async def test_pool_of_four_runs_a_stack_in_parallel() -> None:
    async with ScriptedAcs(latency_s=0.05) as acs:
        adapter = Sip2Adapter(settings(acs.port, pool_size=4))
        await adapter.start()
        results = await asyncio.gather(*(adapter.checkout("P1", f"I{n}") for n in range(10)))
        await adapter.close()
    assert sorted(r.item_id for r in results) == sorted(f"I{n}" for n in range(10))
    assert acs.connections == 4
    assert acs.max_in_flight == 4  # four requests were at the ILS at once, never more


async def test_pool_of_one_serialises() -> None:
    async with ScriptedAcs(latency_s=0.01) as acs:
        pool = Sip2Pool(settings(acs.port, pool_size=1))
        await pool.start()
        await asyncio.gather(*(pool.request(checkout(f"I{n}")) for n in range(5)))
        await pool.close()
    assert acs.max_in_flight == 1


async def test_a_request_cancelled_by_a_deadline_does_not_poison_the_link() -> None:
    async def slow_first(request, frame, write, acs):
        if request.command == "17" and request.item_id == "SLOW":
            await asyncio.sleep(0.3)
        await acs.reply(request, write)

    async with ScriptedAcs(slow_first) as acs:
        connection = Sip2Connection(settings(acs.port))
        await connection.connect()
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(connection.request(item_info("SLOW")), 0.05)
        await asyncio.sleep(0.4)  # the late reply to SLOW arrives on the old link
        reply = await connection.request(item_info("NEXT"))
        await connection.close()
    assert reply.item_id == "NEXT"
