"""Async SIP2 client: one logged-in TCP/TLS session, and a pool of them.

Frames on CR whatever the TCP reads look like. Bad checksums are answered with 97 and a 96 from
the ACS makes us resend, both a bounded number of times. A dropped link is reopened and logged in
again on the next request; a state-changing request lost in a drop is reported as uncertain, never
silently resent (resending a checkin or a fee payment can double it).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from ils.errors import IlsRejected, IlsUnavailable
from ils.sip2.codec import Sip2Codec, now
from ils.sip2.errors import ChecksumError, ProtocolError
from ils.sip2.messages import (
    AcsStatusResponse,
    LoginRequest,
    LoginResponse,
    Message,
    RequestAcsResend,
    RequestScResend,
    ScStatusRequest,
)

log = logging.getLogger(__name__)

MAX_FRAME = 64 * 1024
# Requests that only read: safe to send again after a reconnect.
IDEMPOTENT = frozenset({"93", "99", "63", "23", "17", "35"})


@dataclass(frozen=True)
class Sip2Settings:
    host: str = "127.0.0.1"
    port: int = 6001
    tls: bool = False
    tls_verify: bool = True
    ca_file: Path | None = None
    client_cert: Path | None = None
    client_key: Path | None = None
    encoding: str = "cp850"
    error_detection: bool = True
    terminator: str = "\r"  # "\r\n" for servers that want CR LF after each message
    dialect: str = "generic"  # ils.dialects: which messages exist and how replies read
    strict: bool = False
    login_user: str = ""
    login_password: str = ""
    location_code: str = ""
    institution_id: str = ""
    terminal_password: str = ""
    timeout_s: float = 5.0
    connect_timeout_s: float = 5.0
    retries: int = 2  # resends after a bad checksum or a 96
    pool_size: int = 1

    def ssl_context(self) -> ssl.SSLContext | None:
        if not self.tls:
            return None
        context = ssl.create_default_context(cafile=str(self.ca_file) if self.ca_file else None)
        if not self.tls_verify:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        if self.client_cert:
            context.load_cert_chain(str(self.client_cert), str(self.client_key) if self.client_key else None)
        return context


class Sip2Connection:
    """One session: at most one request in flight (SIP2 has no request ids)."""

    def __init__(self, settings: Sip2Settings, name: str = "sip2") -> None:
        self.settings = settings
        self.name = name
        self.codec = Sip2Codec(
            settings.encoding, error_detection=settings.error_detection, strict=settings.strict
        )
        self.acs_status: AcsStatusResponse | None = None
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._sequence = 0
        self._lock = asyncio.Lock()

    @property
    def connected(self) -> bool:
        return self._writer is not None and not self._writer.is_closing()

    # -- connection ---------------------------------------------------------------------------
    async def _open(self) -> None:
        s = self.settings
        try:
            self._reader, self._writer = await asyncio.wait_for(
                asyncio.open_connection(
                    s.host, s.port, ssl=s.ssl_context(), limit=MAX_FRAME,
                    server_hostname=s.host if s.tls else None,
                ),
                s.connect_timeout_s,
            )
        except (OSError, TimeoutError, ssl.SSLError) as exc:
            raise IlsUnavailable(f"cannot connect to {s.host}:{s.port}: {exc or type(exc).__name__}") from exc
        self._sequence = 0

    async def connect(self) -> AcsStatusResponse:
        """Open the link, log in (if a login user is set) and read the ACS status."""
        async with self._lock:
            await self._ensure_connected()
            assert self.acs_status is not None
            return self.acs_status

    async def _ensure_connected(self) -> None:
        if self.connected:
            return
        await self._open()
        s = self.settings
        try:
            if s.login_user:
                reply = await self._exchange(LoginRequest(
                    login_user=s.login_user, login_password=s.login_password,
                    location_code=s.location_code or None,
                ))
                if not isinstance(reply, LoginResponse) or not reply.ok:
                    await self._drop()
                    raise IlsRejected("the ILS refused the SIP2 login (check user and password)")
            status = await self._exchange(ScStatusRequest())
            if not isinstance(status, AcsStatusResponse):
                raise ProtocolError(f"expected 98 to a 99, got {status.command}")
            self.acs_status = status
        except BaseException:
            await self._drop()
            raise

    async def _drop(self) -> None:
        writer, self._reader, self._writer = self._writer, None, None
        if writer is not None:
            writer.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(writer.wait_closed(), 1)

    async def close(self) -> None:
        async with self._lock:
            await self._drop()

    # -- requests -----------------------------------------------------------------------------
    async def request(self, message: Message) -> Message:
        """Send one request and return its response; reconnects (and logs in) first if needed."""
        async with self._lock:
            for attempt in (1, 2):
                await self._ensure_connected()
                try:
                    return await self._exchange(message)
                except IlsUnavailable as exc:
                    # The link broke under us. Reads are resent once on a fresh link; writes are not.
                    if message.command in IDEMPOTENT and attempt == 1:
                        log.info("%s: link lost, reconnecting for %s", self.name, message.command)
                        continue
                    raise IlsUnavailable(str(exc), uncertain=message.command not in IDEMPOTENT) from exc
            raise AssertionError("unreachable")

    async def _read_frame(self) -> bytes:
        assert self._reader is not None
        try:
            while True:
                frame = await asyncio.wait_for(self._reader.readuntil(b"\r"), self.settings.timeout_s)
                frame = frame.lstrip(b"\n\x00")  # the LF of a CRLF-terminated previous reply
                if frame != b"\r":
                    return frame
        except TimeoutError as exc:
            raise IlsUnavailable(f"no answer within {self.settings.timeout_s}s") from exc
        except asyncio.IncompleteReadError as exc:
            raise IlsUnavailable("the ILS closed the connection") from exc
        except asyncio.LimitOverrunError as exc:
            raise ProtocolError(f"reply longer than {MAX_FRAME} bytes without CR") from exc
        except (ConnectionError, OSError) as exc:
            raise IlsUnavailable(f"connection lost: {exc}") from exc

    async def _write(self, frame: bytes) -> None:
        assert self._writer is not None
        if self.settings.terminator == "\r\n" and frame.endswith(b"\r"):
            frame += b"\n"
        try:
            self._writer.write(frame)
            await asyncio.wait_for(self._writer.drain(), self.settings.timeout_s)
        except (ConnectionError, OSError, TimeoutError) as exc:
            raise IlsUnavailable(f"connection lost while sending: {exc}") from exc

    async def _exchange(self, message: Message) -> Message:
        try:
            return await self._exchange_once(message)
        except (IlsUnavailable, ProtocolError):
            await self._drop()  # the stream is out of step; start clean next time
            raise
        except asyncio.CancelledError:
            # A caller's deadline cut the exchange short: a late reply would be read as the answer
            # to the next request, so this link cannot be reused.
            self._abandon()
            raise

    def _abandon(self) -> None:
        writer, self._reader, self._writer = self._writer, None, None
        if writer is not None:
            writer.close()

    async def _exchange_once(self, message: Message) -> Message:
        sequence = self._sequence
        self._sequence = (self._sequence + 1) % 10
        frame = self.codec.encode(message, sequence)
        await self._write(frame)
        resends = 0
        while True:
            raw = await self._read_frame()
            try:
                reply = self.codec.decode(raw)
            except ChecksumError:
                if not self.settings.error_detection:
                    raise
                resends += 1
                if resends > self.settings.retries:
                    raise ProtocolError(f"bad checksum on {resends} replies in a row") from None
                log.info("%s: bad checksum on a reply, asking for a resend (97)", self.name)
                await self._write(self.codec.encode(RequestAcsResend()))
                continue
            if isinstance(reply, RequestScResend):
                resends += 1
                if resends > self.settings.retries:
                    raise ProtocolError(f"the ILS asked for {resends} resends of one request")
                log.info("%s: the ILS asked for a resend (96)", self.name)
                await self._write(frame)
                continue
            expected = type(message).command
            if reply.response_to != expected and not (expected == "01"):
                raise ProtocolError(f"expected a reply to {expected}, got {reply.command}")
            if (self.settings.error_detection and reply.sequence is not None
                    and reply.sequence != sequence):
                if self.settings.strict:
                    raise ProtocolError(f"reply sequence {reply.sequence}, expected {sequence}")
                log.warning("%s: reply sequence %s, expected %s (tolerated)", self.name,
                            reply.sequence, sequence)
            return reply

    async def send_only(self, message: Message) -> None:
        """For 01 block patron, which has no response."""
        async with self._lock:
            await self._ensure_connected()
            sequence = self._sequence
            self._sequence = (self._sequence + 1) % 10
            await self._write(self.codec.encode(message, sequence))


class Sip2Pool:
    """N logged-in sessions; each request borrows one, so a stack of items runs in parallel."""

    def __init__(self, settings: Sip2Settings) -> None:
        self.settings = settings
        self.connections = [Sip2Connection(settings, f"sip2-{i}") for i in range(settings.pool_size)]
        self._idle: asyncio.Queue[Sip2Connection] = asyncio.Queue()
        for connection in self.connections:
            self._idle.put_nowait(connection)
        self.last_answer = -1e9  # time.monotonic() of the last reply any session got

    async def start(self) -> AcsStatusResponse:
        """Connect every session; raises if none can log in."""
        results = await asyncio.gather(*(c.connect() for c in self.connections), return_exceptions=True)
        for result in results:
            if isinstance(result, AcsStatusResponse):
                return result
        error = next(r for r in results if isinstance(r, BaseException))
        raise error

    @contextlib.asynccontextmanager
    async def session(self) -> AsyncIterator[Sip2Connection]:
        connection = await self._idle.get()
        try:
            yield connection
        finally:
            self._idle.put_nowait(connection)

    async def request(self, message: Message) -> Message:
        async with self.session() as connection:
            reply = await connection.request(message)
        self.last_answer = time.monotonic()
        return reply

    async def status(self) -> AcsStatusResponse:
        reply = await self.request(ScStatusRequest())
        if not isinstance(reply, AcsStatusResponse):
            raise ProtocolError(f"expected 98, got {reply.command}")
        return reply

    @property
    def acs_status(self) -> AcsStatusResponse | None:
        return next((c.acs_status for c in self.connections if c.acs_status), None)

    async def close(self) -> None:
        await asyncio.gather(*(c.close() for c in self.connections), return_exceptions=True)


__all__ = ["IDEMPOTENT", "Sip2Connection", "Sip2Pool", "Sip2Settings", "now"]
