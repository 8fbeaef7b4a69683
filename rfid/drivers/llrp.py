"""UHF readers over LLRP, through sllurp (GPL-3.0; imported only when a profile chooses this
driver). sllurp runs its own thread and calls back there; reports are handed to asyncio with
call_soon_threadsafe. `inventory()` returns the tags reported within the last `window_s`.

What the driver asks of the reader, by LLRP 1.0.1 section (docs/rfid.md):
- one ROSpec that inventories until stopped: start trigger Immediate, ROSpecStopTrigger Null
  (10.2.1.1.2) and AISpecStopTrigger Null (10.2.2.1). A tag-count AISpec stop trigger would end the
  AISpec, and with it the ROSpec, after N tags (sllurp's report_every_n_tags builds exactly that,
  and some readers refuse that trigger type outright), so it is never used;
- the report rate in ROReportSpec (13.2.1): ROReportTrigger "upon N tags or end of AISpec" with
  N = `report_every_n_tags` (N = 0 would mean "only at the end", i.e. never);
- CLOSE_CONNECTION before the socket is closed (12.1.5), after the ROSpecs are deleted.

Writing tags (rfid/drivers/gen2.py has the Gen2 layouts): each read or write is one AccessSpec
(parameter 207) targeting the tag by its whole EPC, stopped after one operation, its result taken from
the C1G2ReadOpSpecResult / C1G2WriteOpSpecResult the reader reports with the AccessSpecID. Library
data goes into the EPC bank from the PC word on (ISO 28560-4 UII, or a GS1 EPC), so the tag answers
to a new EPC afterwards; the read-back is the reader's own inventory reporting it.

The security marker, by `security`:
- "none": the gates consult the ILS or a gate database; marker calls succeed without a write;
- "pc-afi": ISO 28560-4: the AFI in the PC word (toggle 1), `afi_secured` / `afi_on_loan`;
- "user-word": a flag word in user memory (`security_word`), 1 secured, 0 on loan.

Locking (`lock_blocks`; Gen2 locks whole banks, so any block asked for locks the EPC bank): the
station's access password is written to the reserved bank (words 2-3), then one C1G2Lock
(16.2.1.3.2.5) password-locks the access password (unreadable without it) and, by `lock`,
password-locks the EPC bank ("password": rewritable by a station that has the password, which
the driver then gives with every access, so a PC-word AFI still changes at the kiosk) or
perma-locks it ("permanent"). The password comes from the station's secrets, never from the
database (station_core/devices.py: `access_password_env`). Whether the lock took is tested the
way any other reader would meet it: a write without the password must be refused.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from typing import Any

from sllurp.llrp import LLRP_DEFAULT_PORT, LLRPReaderClient, LLRPReaderConfig, LLRPReaderState

from rfid.drivers import gen2
from rfid.reader import (
    ReaderDisconnected,
    ReaderError,
    ReaderTimeout,
    RfidReader,
    TagLocked,
    TagNotFound,
    TagRead,
)

SECURITY_MODES = ("none", "pc-afi", "user-word")
LOCK_MODES = ("password", "permanent")

log = logging.getLogger(__name__)


class LlrpReader(RfidReader):
    block_size = 2  # Gen2 memory is addressed in 16-bit words

    def __init__(
        self, *, name: str = "llrp", host: str, port: int = LLRP_DEFAULT_PORT,
        antennas: list[int] | None = None, tx_power_dbm: float | None = None,
        window_s: float = 0.6, connect_timeout_s: float = 5.0, security: str = "none",
        report_every_n_tags: int = 1, afi_secured: int = 0x07, afi_on_loan: int = 0xC2,
        security_word: int = 0, access_password: int = 0, access_timeout_s: float = 2.0,
        lock: str = "password",
    ) -> None:
        if lock not in LOCK_MODES:
            raise ValueError(f"lock must be one of {', '.join(LOCK_MODES)}")
        if lock == "permanent" and security == "pc-afi":
            raise ValueError("a permanently locked EPC bank keeps its PC word too: the AFI could "
                             "never change at checkout (security 'pc-afi' needs lock 'password')")
        self.lock = lock
        if not 1 <= report_every_n_tags <= 0xFFFF:
            raise ValueError("report_every_n_tags must be 1..65535 (ROReportSpec N)")
        if security not in SECURITY_MODES:
            raise ValueError(f"security must be one of {', '.join(SECURITY_MODES)}")
        if not (0 <= afi_secured <= 0xFF and 0 <= afi_on_loan <= 0xFF) or afi_secured == afi_on_loan:
            raise ValueError("afi_secured and afi_on_loan are two different bytes")
        if not 0 <= security_word <= 0xFFFF or not 0 <= access_password <= 0xFFFFFFFF:
            raise ValueError("security_word is a word address, access_password 32 bits")
        self.security, self.afi_secured, self.afi_on_loan = security, afi_secured, afi_on_loan
        self.security_word, self.access_password = security_word, access_password
        self.access_timeout_s = access_timeout_s
        self.name, self.host, self.port = name, host, port
        self.antennas = antennas or [1]
        self.tx_power_dbm = tx_power_dbm
        self.window_s = window_s
        self.connect_timeout_s = connect_timeout_s
        self.report_every_n_tags = report_every_n_tags
        self._client: LLRPReaderClient | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._seen: dict[str, tuple[float, int, float | None]] = {}  # epc -> (when, antenna, rssi)
        self._pc: dict[str, int] = {}  # epc -> the PC word last reported
        self._access: dict[int, asyncio.Future[dict[str, Any]]] = {}  # AccessSpecID -> its result
        self._next_spec = 0
        self._inventorying = asyncio.Event()
        self._lost = False
        self.reports = 0

    # -- sllurp's thread -> asyncio ----------------------------------------------------------------
    def _on_tags(self, _reader: Any, tags: list[dict[str, Any]]) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._record, tags)

    def _record(self, tags: list[dict[str, Any]]) -> None:
        now = time.monotonic()
        for tag in tags:
            epc = tag.get("EPC") or tag.get("EPC-96") or b""
            uid = (epc.decode("ascii") if isinstance(epc, bytes) else str(epc)).upper()
            if uid:
                self._seen[uid] = (now, int(tag.get("AntennaID", 1)), tag.get("PeakRSSI"))
                if tag.get("C1G2PC") is not None:
                    self._pc[uid] = int(tag["C1G2PC"])
            waiting = self._access.get(int(tag.get("AccessSpecID", -1)))
            if waiting is not None and not waiting.done():
                waiting.set_result(tag)
        self.reports += len(tags)

    def _on_state(self, _reader: Any, state: int) -> None:
        if self._loop is not None and state == LLRPReaderState.STATE_INVENTORYING:
            self._loop.call_soon_threadsafe(self._inventorying.set)

    def _on_disconnected(self, *_args: Any) -> None:
        self._lost = True
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._inventorying.clear)

    # -- the reader API --------------------------------------------------------------------------
    async def open(self) -> None:
        await self.close()
        self._loop = asyncio.get_running_loop()
        self._lost = False
        self._inventorying.clear()
        settings: dict[str, Any] = {
            "antennas": self.antennas, "start_inventory": True,
            "reset_on_connect": True, "reconnect": False,
            "tag_content_selector": {
                "EnableAntennaID": True, "EnablePeakRSSI": True, "EnableLastSeenTimestamp": True,
                "EnableTagSeenCount": True, "EnableAccessSpecID": True,
                "C1G2EPCMemorySelector": {"EnableCRC": False, "EnablePCBits": True}},
        }
        if self.tx_power_dbm is not None:
            settings["tx_power_dbm"] = self.tx_power_dbm
        client = LLRPReaderClient(self.host, self.port, LLRPReaderConfig(settings),
                                  timeout=self.connect_timeout_s)
        self._report_through_roreportspec(client)
        client.add_tag_report_callback(self._on_tags)
        client.add_state_callback(LLRPReaderState.STATE_INVENTORYING, self._on_state)
        client.add_disconnected_callback(self._on_disconnected)
        try:
            await asyncio.to_thread(client.connect)
        except (OSError, ReaderError, Exception) as exc:  # sllurp raises its own types too
            raise ReaderDisconnected(f"{self.name}: cannot connect to {self.host}:{self.port}: {exc}") \
                from exc
        self._client = client
        try:
            await asyncio.wait_for(self._inventorying.wait(), self.connect_timeout_s)
        except TimeoutError:
            await self.close()
            raise ReaderDisconnected(f"{self.name}: the reader did not start inventory") from None

    def _report_through_roreportspec(self, client: LLRPReaderClient) -> None:
        """sllurp builds the ROSpec; set the report rate where LLRP puts it (13.2.1), and make sure
        nothing stops the AISpec (10.2.2.1)."""
        llrp = client.llrp
        build = llrp.getROSpec

        def rospec(force_new: bool = False) -> Any:
            spec = build(force_new=force_new)
            spec["ROReportSpec"]["ROReportTrigger"] = "Upon_N_Tags_Or_End_Of_AISpec"
            spec["ROReportSpec"]["N"] = self.report_every_n_tags
            for ai_spec in spec["AISpec"]:
                ai_spec["AISpecStopTrigger"] = {"AISpecStopTriggerType": "Null",
                                                "DurationTriggerValue": 0}
            return spec

        llrp.getROSpec = rospec

    async def close(self) -> None:
        client, self._client = self._client, None
        if client is None:
            return
        await asyncio.to_thread(self._shut, client)

    def _shut(self, client: LLRPReaderClient) -> None:
        """Delete the AccessSpecs and ROSpecs, send CLOSE_CONNECTION (12.1.5), let the reader
        close the socket; every step bounded, then cut the socket if the reader did not."""
        stopped = threading.Event()
        client.disconnect_requested.set()
        try:
            client.llrp.stopPolitely(onCompletion=lambda *_args: stopped.set(), disconnect=True)
            stopped.wait(5)  # a loaded machine can take a while; bounded all the same
            client.llrp.sendMessage({"CLOSE_CONNECTION": {}})
            client.join(2)  # the reader closes the connection after its response
        except Exception as exc:  # a socket already gone: nothing polite left to do
            log.debug("%s: polite close failed: %s", self.name, exc)
        client.hard_disconnect()  # closes the socket if the reader has not (and ends the thread)
        client.join(2)

    def _check(self) -> None:
        if self._client is None or self._lost:
            raise ReaderDisconnected(f"{self.name}: connection lost")

    async def inventory(self) -> list[TagRead]:
        self._check()
        cutoff = time.monotonic() - self.window_s
        for uid in [u for u, (when, _, _) in self._seen.items() if when < cutoff]:
            del self._seen[uid]
        return [TagRead(uid, antenna, rssi) for uid, (_, antenna, rssi) in self._seen.items()]

    async def read_data(self, uid: str) -> bytes:
        """On UHF the library data is the EPC/UII itself, as the reader's inventory reports it;
        a tag just written is waited for until it answers to its new EPC (one window)."""
        self._check()
        deadline = time.monotonic() + self.window_s
        while uid not in self._seen:
            if time.monotonic() >= deadline:
                raise TagNotFound(uid)
            await asyncio.sleep(0.02)
        return bytes.fromhex(uid)

    def identity_after_write(self, uid: str, data: bytes) -> str:
        return gen2.words(data).hex().upper()

    async def factory_fresh(self, uid: str) -> bool:
        """A tag whose PC says "not ISO" (toggle 0) and whose EPC is no GS1 EPC carries its maker's
        serial only; a reader that does not report the PC word leaves the judgement to decoding."""
        pc = self._pc.get(uid)
        return pc is not None and not pc & gen2.TOGGLE and not gen2.is_gs1_epc(bytes.fromhex(uid))

    async def write_data(self, uid: str, data: bytes) -> None:
        """The PC word and the UII in one C1G2Write from word 1 of the EPC bank."""
        uii = gen2.words(data)
        pc = gen2.pc_for(uii, await self._read_pc(uid), self.afi_secured)
        await self._write(uid, gen2.EPC_BANK, gen2.PC_WORD, pc.to_bytes(2, "big") + uii)
        new = self.identity_after_write(uid, data)
        if new != uid:  # the old EPC is gone from the air: do not show it on the pad any longer
            self._seen.pop(uid, None)
            self._pc.pop(uid, None)
        self._pc[new] = pc

    async def set_secured(self, uid: str, secured: bool) -> None:
        self._check()
        if self.security == "pc-afi":
            pc = await self._read_pc(uid)
            afi = self.afi_secured if secured else self.afi_on_loan
            try:
                new = gen2.with_afi(pc, afi)
            except ValueError as exc:
                raise ReaderError(f"{self.name}: {exc}") from None
            await self._write(uid, gen2.EPC_BANK, gen2.PC_WORD, new.to_bytes(2, "big"))
            self._pc[uid] = new
        elif self.security == "user-word":
            await self._write(uid, gen2.USER_BANK, self.security_word,
                              (1 if secured else 0).to_bytes(2, "big"))

    async def is_secured(self, uid: str) -> bool:
        self._check()
        if self.security == "pc-afi":
            return gen2.afi_of(await self._read_pc(uid, fresh=True)) == self.afi_secured
        if self.security == "user-word":
            return await self._read(uid, gen2.USER_BANK, self.security_word, 1) != b"\0\0"
        return True

    async def lock_blocks(self, uid: str, blocks: tuple[int, ...]) -> None:
        """The EPC bank locked (whole: Gen2 has no word locks), its access password set first."""
        self._check()
        if not blocks:
            return
        if not self.access_password:
            raise ReaderError(f"{self.name}: a UHF lock needs an access password (the station's "
                              "secrets: BRONCO_TAG_ACCESS_PASSWORD); without one anybody can undo it")
        await self._write(uid, gen2.RESERVED_BANK, gen2.ACCESS_PASSWORD_WORD,
                          self.access_password.to_bytes(4, "big"))
        epc = gen2.PERMA_LOCK if self.lock == "permanent" else gen2.READ_WRITE
        spec_id = self._spec_id()
        report = await self._run(uid, spec_id, gen2.lock_op(
            spec_id & 0xFFFF, self.access_password,
            [(gen2.READ_WRITE, gen2.ACCESS_PASSWORD), (epc, gen2.EPC_MEMORY)]))
        code = int((report.get("C1G2LockOpSpecResult") or {}).get("Result", 4))
        if code == 3:
            self._seen.pop(uid, None)
            raise TagNotFound(uid)
        if code != 0:
            raise ReaderError(f"{self.name}: locking {uid}: {gen2.LOCK_RESULTS.get(code, code)}")

    async def lock_verified(self, uid: str, blocks: tuple[int, ...]) -> bool:
        """Locked for anyone without the password: the PC word written back unchanged with no
        password must be refused as locked (a tag that takes it was not locked: nothing moved)."""
        pc = await self._read_pc(uid, fresh=True)
        spec_id = self._spec_id()
        report = await self._run(uid, spec_id, gen2.write_op(spec_id & 0xFFFF, gen2.EPC_BANK,
                                                             gen2.PC_WORD, pc.to_bytes(2, "big")))
        return int((report.get("C1G2WriteOpSpecResult") or {}).get("Result", 6)) == 2

    # -- AccessSpecs -------------------------------------------------------------------------------
    async def _read_pc(self, uid: str, *, fresh: bool = False) -> int:
        if not fresh and uid in self._pc:
            return self._pc[uid]
        pc = int.from_bytes(await self._read(uid, gen2.EPC_BANK, gen2.PC_WORD, 1), "big")
        self._pc[uid] = pc
        return pc

    async def _read(self, uid: str, bank: int, pointer: int, count: int) -> bytes:
        spec_id = self._spec_id()
        report = await self._run(uid, spec_id, gen2.read_op(spec_id & 0xFFFF, bank, pointer, count,
                                                            self.access_password))
        result = report.get("C1G2ReadOpSpecResult") or {}
        code = int(result.get("Result", 3))
        if code == 2:
            self._seen.pop(uid, None)
            raise TagNotFound(uid)
        if code != 0:
            raise ReaderError(f"{self.name}: reading {uid}: {gen2.READ_RESULTS.get(code, code)}")
        data = bytes(result.get("ReadData", b""))
        if len(data) != 2 * count:
            raise ReaderError(f"{self.name}: reading {uid}: {len(data)} bytes for {count} words")
        return data

    async def _write(self, uid: str, bank: int, pointer: int, data: bytes) -> None:
        spec_id = self._spec_id()
        report = await self._run(uid, spec_id, gen2.write_op(spec_id & 0xFFFF, bank, pointer, data,
                                                             self.access_password))
        result = report.get("C1G2WriteOpSpecResult") or {}
        code, written = int(result.get("Result", 6)), int(result.get("NumWordsWritten", 0))
        if code == 2:
            raise TagLocked(f"{self.name}: {uid}: {gen2.WRITE_RESULTS[2]}")
        if code == 5:  # it left the field (or stopped answering) part-way: nothing is assumed
            self._seen.pop(uid, None)
            raise TagNotFound(uid)
        if code != 0 or written != len(gen2.words(data)) // 2:
            raise ReaderError(f"{self.name}: writing {uid}: {gen2.WRITE_RESULTS.get(code, code)} "
                              f"({written} of {len(gen2.words(data)) // 2} words written)")

    def _spec_id(self) -> int:
        self._next_spec = self._next_spec % 0xFFFF + 1
        return self._next_spec

    async def _run(self, uid: str, spec_id: int, op: dict[str, Any]) -> dict[str, Any]:
        """Add and enable one AccessSpec and wait for the tag's report of it. A tag that does not
        take part in time has left the field (TagNotFound) or the reader is stuck (timeout)."""
        self._check()
        client = self._client
        assert client is not None
        loop = asyncio.get_running_loop()
        added: asyncio.Future[bool] = loop.create_future()
        done: asyncio.Future[dict[str, Any]] = loop.create_future()
        self._access[spec_id] = done

        def on_added(_state: Any, ok: bool, *_args: Any) -> None:
            loop.call_soon_threadsafe(lambda: added.done() or added.set_result(bool(ok)))

        try:
            # Register for the answer before asking: sllurp's send_ADD_ACCESSSPEC sends first and
            # appends its callback after, so a quick reader's answer, handled on sllurp's own
            # thread, often found no callback and the write timed out (4 in 10 under load).
            client.llrp._deferreds["ADD_ACCESSSPEC_RESPONSE"].append(on_added)
            client.llrp.sendMessage({"ADD_ACCESSSPEC": {
                "AccessSpec": gen2.access_spec(spec_id, uid, op)}})
            if not await asyncio.wait_for(added, self.access_timeout_s):
                raise ReaderError(f"{self.name}: the reader refused the AccessSpec")
            client.llrp.send_ENABLE_ACCESSSPEC(None, spec_id)
            return await asyncio.wait_for(done, self.access_timeout_s)
        except TimeoutError:
            client.llrp.send_DELETE_ACCESSSPEC(spec_id)  # a tag coming back must not run it later
            if added.done() and uid not in (t.uid for t in await self.inventory()):
                raise TagNotFound(uid) from None
            raise ReaderTimeout(f"{self.name}: no result for the access to {uid}") from None
        except OSError as exc:
            raise ReaderDisconnected(f"{self.name}: {exc}") from exc
        finally:
            self._access.pop(spec_id, None)
