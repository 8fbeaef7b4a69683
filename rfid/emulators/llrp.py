"""A test LLRP reader on loopback: speaks LLRP 1.0.1 binary to a real client (sllurp).

It answers the configuration sequence (capabilities, config, ROSpec and AccessSpec management)
and then inventories as the standard says the ROSpec it was given asks (written from LLRP 1.0.1,
not from our driver):
- it reads the ROSpec of ADD_ROSPEC: the AISpecStopTrigger (10.2.2.1: type 3, "tag observation",
  ends the AISpec after N tags, and a ROSpec whose only AISpec ended is done) and the ROReportSpec
  (13.2.1: report upon N TagReportData, or at the end of the AISpec; N = 0 means only then);
- each `report_interval_s` is one inventory round in which every tag in the field is observed;
- CLOSE_CONNECTION (12.1.5) is answered, then the reader closes the connection; whether a client
  said it before going away is recorded (`closes`);
- AccessSpecs (llrp_access.py) run on every matching tag in the next round: reads and writes of the
  tags' memory banks, with the results reported, a locked bank, a full bank, and a tag pulled off
  the pad mid-write; the reports carry the PC word and AccessSpecID when the ROSpec's
  TagReportContentSelector (238) and its C1G2EPCMemorySelector (348) ask for them.
Tests put tags in the field and can drop the connection. Messages are packed and parsed here with
struct, independently of the client's own encoder.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
import time
from dataclasses import dataclass, replace

from rfid.emulators.llrp_access import ACCESS_SPEC, AccessSpec, Gen2Tag, parse_access_spec

VERSION = 1
# message types
GET_READER_CAPABILITIES, GET_READER_CONFIG, SET_READER_CONFIG = 1, 2, 3
CLOSE_CONNECTION_RESPONSE, CLOSE_CONNECTION = 4, 14
ADD_ROSPEC, DELETE_ROSPEC, START_ROSPEC, STOP_ROSPEC, ENABLE_ROSPEC, DISABLE_ROSPEC = range(20, 26)
ADD_ACCESSSPEC, DELETE_ACCESSSPEC, ENABLE_ACCESSSPEC, DISABLE_ACCESSSPEC = range(40, 44)
RO_ACCESS_REPORT, KEEPALIVE, READER_EVENT_NOTIFICATION = 61, 62, 63
ENABLE_EVENTS_AND_REPORTS, KEEPALIVE_ACK, ERROR_MESSAGE = 64, 72, 100
# requests whose response type is request + 10
ANSWERED = {GET_READER_CAPABILITIES, GET_READER_CONFIG, SET_READER_CONFIG, *range(20, 26),
            *range(40, 44)}
# parameter types
LLRP_STATUS, GENERAL_DEVICE_CAPABILITIES, REGULATORY_CAPABILITIES = 287, 137, 143
UHF_BAND_CAPABILITIES, TRANSMIT_POWER_ENTRY, RF_MODE_TABLE, RF_MODE_ENTRY = 144, 145, 328, 329
READER_EVENT_NOTIFICATION_DATA, UTC_TIMESTAMP, CONNECTION_ATTEMPT_EVENT = 246, 128, 256
TAG_REPORT_DATA, EPC_DATA = 240, 241
TV_ANTENNA_ID, TV_LAST_SEEN_UTC, TV_PEAK_RSSI, TV_EPC96, TV_TAG_SEEN_COUNT = 1, 4, 6, 13, 8
ROSPEC, AISPEC, AISPEC_STOP_TRIGGER, TAG_OBSERVATION_TRIGGER, RO_REPORT_SPEC = 177, 183, 184, 185, 237
TAG_REPORT_CONTENT_SELECTOR, C1G2_EPC_MEMORY_SELECTOR = 238, 348
TV_C1G2_PC, TV_ACCESS_SPEC_ID = 12, 16
ENABLE_ACCESS_SPEC_ID_FLAG = 1 << 6  # TagReportContentSelector: the tenth flag from the top bit
ENABLE_PC_BITS_FLAG = 1 << 6  # C1G2EPCMemorySelector: CRC, PC bits, XPC bits from the top bit
AI_STOP_NULL, AI_STOP_TAG_OBSERVATION = 0, 3  # AISpecStopTriggerType (10.2.2.1)
REPORT_UPON_N_OR_END_OF_AISPEC = 1  # ROReportTrigger (13.2.1)


def parameters(body: bytes) -> list[tuple[int, bytes]]:
    """The TLV parameters in `body` as (type, value); a TV parameter ends the walk (none occur
    where this reader looks)."""
    found, at = [], 0
    while at + 4 <= len(body) and not body[at] & 0x80:
        kind, length = struct.unpack_from("!HH", body, at)
        if length < 4 or at + length > len(body):
            break
        found.append((kind & 0x3FF, body[at + 4:at + length]))
        at += length
    return found


@dataclass(frozen=True)
class RoSpecRules:
    """What an ADD_ROSPEC asks of the reader, as far as inventory and reports go."""

    ai_stop: int = AI_STOP_NULL
    ai_stop_tags: int = 0  # TagObservationTrigger N (upon N tags)
    report_trigger: int = REPORT_UPON_N_OR_END_OF_AISPEC
    report_n: int = 0
    report_pc: bool = False
    report_access_spec_id: bool = False


def parse_rospec(add_rospec_body: bytes) -> RoSpecRules:
    """ROSpec (16.2.4.1): ROSpecID u32, Priority u8, CurrentState u8, then ROBoundarySpec,
    AISpec (AntennaCount u16, AntennaIDs, AISpecStopTrigger, InventoryParameterSpec...),
    ROReportSpec (ROReportTrigger u8, N u16, TagReportContentSelector)."""
    rospec = dict(parameters(add_rospec_body)).get(ROSPEC)
    if rospec is None:
        raise ValueError("ADD_ROSPEC without a ROSpec")
    rules = RoSpecRules()
    for kind, value in parameters(rospec[6:]):
        if kind == AISPEC:
            antennas = struct.unpack_from("!H", value)[0]
            for sub, stop in parameters(value[2 + 2 * antennas:]):
                if sub != AISPEC_STOP_TRIGGER:
                    continue
                trigger_type = stop[0]
                tags = 0
                for inner, observation in parameters(stop[5:]):
                    if inner == TAG_OBSERVATION_TRIGGER:
                        tags = struct.unpack_from("!H", observation, 2)[0]
                rules = replace(rules, ai_stop=trigger_type, ai_stop_tags=tags)
        elif kind == RO_REPORT_SPEC:
            trigger, n = struct.unpack_from("!BH", value)
            rules = replace(rules, report_trigger=trigger, report_n=n)
            for selector_kind, selector in parameters(value[3:]):
                if selector_kind != TAG_REPORT_CONTENT_SELECTOR:
                    continue
                flags = struct.unpack_from("!H", selector)[0]
                memory = dict(parameters(selector[2:])).get(C1G2_EPC_MEMORY_SELECTOR, b"\0")
                rules = replace(rules, report_access_spec_id=bool(flags & ENABLE_ACCESS_SPEC_ID_FLAG),
                                report_pc=bool(memory[0] & ENABLE_PC_BITS_FLAG))
    return rules


def message(msg_type: int, msg_id: int, body: bytes) -> bytes:
    return struct.pack("!HII", (VERSION << 10) | msg_type, 10 + len(body), msg_id) + body


def tlv(param_type: int, body: bytes) -> bytes:
    return struct.pack("!HH", param_type, 4 + len(body)) + body


def tv(param_type: int, fmt: str, *values: object) -> bytes:
    return bytes([0x80 | param_type]) + struct.pack("!" + fmt, *values)


def status_ok() -> bytes:
    return tlv(LLRP_STATUS, struct.pack("!HH", 0, 0))


def capabilities(antennas: int) -> bytes:
    firmware = b"bronco-test-1.0"
    general = tlv(GENERAL_DEVICE_CAPABILITIES, struct.pack(
        "!HHIIH", antennas, 0x4000, 0, 0, len(firmware)) + firmware)
    power = b"".join(tlv(TRANSMIT_POWER_ENTRY, struct.pack("!HH", i + 1, 1000 + 50 * i))
                     for i in range(81))  # 10.00 .. 30.00 dBm
    mode = tlv(RF_MODE_ENTRY, struct.pack("!IBBBBIIIII", 1000, 0x80, 2, 0, 4, 640000, 1500,
                                          6250, 25000, 0))
    band = tlv(UHF_BAND_CAPABILITIES, power + tlv(RF_MODE_TABLE, mode))
    regulatory = tlv(REGULATORY_CAPABILITIES, struct.pack("!HH", 840, 1) + band)
    return status_ok() + general + regulatory


def connection_event() -> bytes:
    now_us = int(time.time() * 1_000_000)
    return tlv(READER_EVENT_NOTIFICATION_DATA, tlv(UTC_TIMESTAMP, struct.pack("!Q", now_us))
               + tlv(CONNECTION_ATTEMPT_EVENT, struct.pack("!H", 0)))


def tag_data(tag: Gen2Tag, rules: RoSpecRules, epc: bytes | None = None,
             access: tuple[int, bytes] | None = None) -> bytes:
    """One TagReportData (13.2.3), its parameters in the standard's order; `access`: the
    AccessSpecID and the OpSpec results of an access just run."""
    epc = tag.epc if epc is None else epc
    now_us = int(time.time() * 1_000_000)
    body = tv(TV_EPC96, "12s", epc) if len(epc) == 12 else \
        tlv(EPC_DATA, struct.pack("!H", len(epc) * 8) + epc)
    body += tv(TV_ANTENNA_ID, "H", tag.antenna) + tv(TV_PEAK_RSSI, "b", tag.rssi) \
        + tv(TV_LAST_SEEN_UTC, "Q", now_us) + tv(TV_TAG_SEEN_COUNT, "H", 1)
    if rules.report_pc:
        body += tv(TV_C1G2_PC, "H", tag.pc)
    if access is not None:
        spec_id, results = access
        body += (tv(TV_ACCESS_SPEC_ID, "I", spec_id) if rules.report_access_spec_id else b"") + results
    return tlv(TAG_REPORT_DATA, body)


def tag_report(tags: list[Gen2Tag], rules: RoSpecRules | None = None) -> bytes:
    for tag in tags:
        tag.seen += 1
    return b"".join(tag_data(tag, rules or RoSpecRules()) for tag in tags)


class TestLlrpReader:
    """One client at a time, on 127.0.0.1 (port 0 picks a free one)."""

    __test__ = False  # not a pytest class

    def __init__(self, port: int = 0, *, antennas: int = 4, report_interval_s: float = 0.1) -> None:
        self.antennas = antennas
        self.report_interval_s = report_interval_s
        self.field: dict[bytes, Gen2Tag] = {}
        self.access_specs: dict[int, AccessSpec] = {}
        self.access_specs_added: list[bytes] = []  # every AccessSpec parameter, as received
        self.received: list[int] = []  # message types, in order
        self.rospecs: list[RoSpecRules] = []  # every ROSpec added, in order
        self.closes: list[bool] = []  # per ended connection: did the client send CLOSE_CONNECTION?
        self.reports_sent = 0
        self.rospec_done = threading.Event()  # the running ROSpec ended by its own triggers
        self.connections = 0
        self.inventorying = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", port))
        self.port = self._listener.getsockname()[1]
        self._client: socket.socket | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._next_id = 1000
        self._thread = threading.Thread(target=self._accept_loop, name="llrp-test-reader", daemon=True)

    # -- control ---------------------------------------------------------------------------------
    def start(self) -> TestLlrpReader:
        self._thread.start()
        return self

    def close(self) -> None:
        self._stop.set()
        self.drop()
        self._listener.close()
        self._thread.join(3)

    def put(self, epc_hex: str, antenna: int = 1, **memory: object) -> Gen2Tag:
        """A tag onto the pad; `memory`: Gen2Tag settings (pc, user, locked, ...)."""
        epc = bytes.fromhex(epc_hex)
        self.field[epc] = Gen2Tag(epc, antenna, **memory)  # type: ignore[arg-type]
        return self.field[epc]

    def tag(self, epc_hex: str) -> Gen2Tag | None:
        """The tag whose EPC is now `epc_hex` (after writes, not the key it was put under)."""
        wanted = bytes.fromhex(epc_hex)
        return next((t for t in self.field.values() if t.epc == wanted), None)

    def remove(self, epc_hex: str) -> None:
        self.field.pop(bytes.fromhex(epc_hex), None)

    def drop(self) -> None:
        """Cut the connection without a goodbye (a cable pulled, a reader rebooting)."""
        with self._lock:
            client, self._client = self._client, None
        self.inventorying.clear()
        if client is not None:
            with contextlib.suppress(OSError):
                client.shutdown(socket.SHUT_RDWR)
            client.close()

    # -- serving ---------------------------------------------------------------------------------
    def _send(self, msg_type: int, body: bytes, msg_id: int | None = None) -> None:
        if msg_id is None:
            self._next_id += 1
            msg_id = self._next_id
        with self._lock:
            if self._client is not None:
                with contextlib.suppress(OSError):
                    self._client.sendall(message(msg_type, msg_id, body))

    def _accept_loop(self) -> None:
        self._listener.settimeout(0.2)
        while not self._stop.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.drop()
            with self._lock:
                self._client = client
            self.connections += 1
            self._send(READER_EVENT_NOTIFICATION, connection_event())
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()
            threading.Thread(target=self._report, args=(client,), daemon=True).start()

    def _read_exact(self, client: socket.socket, count: int) -> bytes | None:
        data = b""
        while len(data) < count:
            try:
                chunk = client.recv(count - len(data))
            except OSError:
                return None
            if not chunk:
                return None
            data += chunk
        return data

    def _serve(self, client: socket.socket) -> None:
        said_close = False
        while True:
            header = self._read_exact(client, 10)
            if header is None:
                break
            type_field, length, msg_id = struct.unpack("!HII", header)
            body = self._read_exact(client, length - 10) if length >= 10 else None
            if body is None:
                break
            msg_type = type_field & 0x3FF
            self.received.append(msg_type)
            if msg_type == GET_READER_CAPABILITIES:
                self._send(msg_type + 10, capabilities(self.antennas), msg_id)
            elif msg_type in ANSWERED:
                self._answer(msg_type, msg_id, body)
            elif msg_type == CLOSE_CONNECTION:
                said_close = True
                self._send(CLOSE_CONNECTION_RESPONSE, status_ok(), msg_id)
                break  # 12.1.5: the reader closes the connection after its response
            elif msg_type not in (ENABLE_EVENTS_AND_REPORTS, KEEPALIVE_ACK):
                self._send(ERROR_MESSAGE, tlv(LLRP_STATUS, struct.pack("!HH", 100, 0)), msg_id)
        self.closes.append(said_close)
        if said_close:
            self.drop()

    def _answer(self, msg_type: int, msg_id: int, body: bytes) -> None:
        if msg_type in (ADD_ACCESSSPEC, ENABLE_ACCESSSPEC, DISABLE_ACCESSSPEC, DELETE_ACCESSSPEC):
            status = self._access_spec_message(msg_type, body)
            self._send(msg_type + 10, tlv(LLRP_STATUS, struct.pack("!HH", status, 0)), msg_id)
            return
        if msg_type == ADD_ROSPEC:
            try:
                self.rospecs.append(parse_rospec(body))
            except (ValueError, struct.error):
                self._send(msg_type + 10, tlv(LLRP_STATUS, struct.pack("!HH", 101, 0)), msg_id)
                return
        self._send(msg_type + 10, status_ok(), msg_id)
        if msg_type in (ENABLE_ROSPEC, START_ROSPEC) and self.rospecs:
            self._start_inventory()
        elif msg_type in (DELETE_ROSPEC, DISABLE_ROSPEC, STOP_ROSPEC):
            self.inventorying.clear()

    def _access_spec_message(self, msg_type: int, body: bytes) -> int:
        """The LLRPStatus code: 0 success, 100 a parameter error, 101 a field error (no such
        AccessSpecID)."""
        if msg_type == ADD_ACCESSSPEC:
            param = dict(parameters(body)).get(ACCESS_SPEC)
            try:
                spec = parse_access_spec(param or b"")
            except (ValueError, struct.error):
                return 100
            self.access_specs_added.append(body)
            self.access_specs[spec.spec_id] = spec
            return 0
        spec_id = struct.unpack_from("!I", body)[0] if len(body) >= 4 else -1
        if msg_type == DELETE_ACCESSSPEC and spec_id == 0:
            self.access_specs.clear()
            return 0
        spec = self.access_specs.get(spec_id)
        if spec is None:
            return 101
        if msg_type == DELETE_ACCESSSPEC:
            del self.access_specs[spec_id]
        else:
            spec.enabled = msg_type == ENABLE_ACCESSSPEC
        return 0

    def _run_access(self, rules: RoSpecRules) -> None:
        """The enabled AccessSpecs on every tag they target, each result reported at once; an
        AccessSpec with an operation count is deleted once it has run that often (parameter 208)."""
        for spec in [s for s in self.access_specs.values() if s.enabled]:
            for key, tag in list(self.field.items()):
                if tag.gone or not all(tag.matches(t) for t in spec.targets):
                    continue
                epc = tag.epc
                results = b"".join(tag.run(op) for op in spec.ops)
                self._send(RO_ACCESS_REPORT, tag_data(tag, rules, epc, (spec.spec_id, results)))
                if tag.gone:
                    del self.field[key]
                if spec.stop_type == 1:
                    spec.operations_left -= 1
                    if spec.operations_left <= 0:
                        self.access_specs.pop(spec.spec_id, None)
                        break

    def _start_inventory(self) -> None:
        self._observed = 0
        self._pending: list[Gen2Tag] = []
        self.rospec_done.clear()
        self.inventorying.set()

    def _report(self, client: socket.socket) -> None:
        while self._client is client and not self._stop.is_set():
            time.sleep(self.report_interval_s)
            if self.inventorying.is_set() and self.rospecs:
                self._inventory_round(self.rospecs[-1])

    def _inventory_round(self, rules: RoSpecRules) -> None:
        """One round: every tag in the field is observed once; reports go out as the ROSpec's
        ROReportSpec says, and a tag-count AISpec stop trigger ends the ROSpec."""
        ended = False
        self._run_access(rules)
        for tag in list(self.field.values()):
            self._pending.append(tag)
            self._observed += 1
            if rules.report_n and len(self._pending) >= rules.report_n:
                self._flush()
            if rules.ai_stop == AI_STOP_TAG_OBSERVATION and self._observed >= rules.ai_stop_tags:
                ended = True
                break
        if ended:
            if rules.report_trigger == REPORT_UPON_N_OR_END_OF_AISPEC:
                self._flush()  # the report due at the end of the AISpec
            self.inventorying.clear()
            self.rospec_done.set()

    def _flush(self) -> None:
        if self._pending:
            self._send(RO_ACCESS_REPORT, tag_report(self._pending, self.rospecs[-1]))
            self.reports_sent += 1
            self._pending = []
