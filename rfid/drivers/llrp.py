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

UHF library sites usually keep the security state in the ILS or a gate database rather than on the
tag: with security = "none" (the default here) marker calls succeed without touching the tag.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from typing import Any

from sllurp.llrp import LLRP_DEFAULT_PORT, LLRPReaderClient, LLRPReaderConfig, LLRPReaderState

from rfid.reader import (
    ReaderDisconnected,
    ReaderError,
    RfidReader,
    TagNotFound,
    TagRead,
)

log = logging.getLogger(__name__)


class LlrpReader(RfidReader):
    def __init__(
        self, *, name: str = "llrp", host: str, port: int = LLRP_DEFAULT_PORT,
        antennas: list[int] | None = None, tx_power_dbm: float | None = None,
        window_s: float = 0.6, connect_timeout_s: float = 5.0, security: str = "none",
        report_every_n_tags: int = 1,
    ) -> None:
        if not 1 <= report_every_n_tags <= 0xFFFF:
            raise ValueError("report_every_n_tags must be 1..65535 (ROReportSpec N)")
        if security != "none":
            raise ValueError("LLRP readers support security = 'none' (marker kept off the tag)")
        self.name, self.host, self.port = name, host, port
        self.antennas = antennas or [1]
        self.tx_power_dbm = tx_power_dbm
        self.window_s = window_s
        self.connect_timeout_s = connect_timeout_s
        self.report_every_n_tags = report_every_n_tags
        self._client: LLRPReaderClient | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._seen: dict[str, tuple[float, int, float | None]] = {}  # epc -> (when, antenna, rssi)
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
            "tag_content_selector": {"EnableAntennaID": True, "EnablePeakRSSI": True,
                                     "EnableLastSeenTimestamp": True, "EnableTagSeenCount": True},
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
        """On UHF the library data is the EPC/UII itself."""
        self._check()
        if uid not in self._seen:
            raise TagNotFound(uid)
        return bytes.fromhex(uid)

    async def write_data(self, uid: str, data: bytes) -> None:
        raise ReaderError(f"{self.name}: writing tags over LLRP is not supported in this version")

    async def set_secured(self, uid: str, secured: bool) -> None:
        self._check()  # security = "none": the gates consult the ILS, nothing to write

    async def is_secured(self, uid: str) -> bool:
        self._check()
        return True
