"""What the test LLRP reader does with AccessSpecs: parsing them, the Gen2 tags' memory banks they
read and write, and the OpSpec results it reports. Written from the LLRP parameter layouts (type
numbers below) and EPC Gen2 / ISO 18000-63 memory, not from the client's encoder.

LLRP parameters (LLRP 1.1 numbering; the same layouts in 1.0.1):
- AccessSpec 207 (17.2.5.1): AccessSpecID u32, AntennaID u16, ProtocolID u8, CurrentState u1 +
  7 reserved bits, ROSpecID u32; then AccessSpecStopTrigger 208 (type u8, OperationCountValue u16),
  AccessCommand 209, and optionally AccessReportSpec 239 (AccessReportTrigger u8).
- AccessCommand: one C1G2TagSpec 338 holding one or two C1G2TargetTag 339 (MB u2, Match u1,
  5 reserved bits, Pointer u16, TagMask u1v, TagData u1v), then the OpSpecs in order.
- C1G2Read 341 (16.2.1.3.2.2): OpSpecID u16, AccessPassword u32, MB u2 + 6 reserved bits,
  WordPointer u16, WordCount u16 (0: the whole bank).
- C1G2Write 342 (16.2.1.3.2.3): OpSpecID u16, AccessPassword u32, MB u2 + 6 reserved bits,
  WordPointer u16, WriteData u16v (a word count, then the words).
- C1G2Lock 344 (16.2.1.3.2.5): OpSpecID u16, AccessPassword u32, then one or more
  C1G2LockPayload 345 (16.2.1.3.2.5.1): Privilege u8 (0 Read_Write, 1 Perma_Lock, 2 Perma_Unlock,
  3 Unlock), DataField u8 (0 kill password, 1 access password, 2 EPC, 3 TID, 4 user memory).
- C1G2ReadOpSpecResult 349: Result u8, OpSpecID u16, ReadData u16v.
  C1G2WriteOpSpecResult 350: Result u8, OpSpecID u16, NumWordsWritten u16.
  C1G2LockOpSpecResult 352: Result u8 (15.2.1.5.5.4: 0 success, 1 insufficient power,
  2 tag error, 3 no response, 4 reader error), OpSpecID u16.
A u1v is a u16 bit count and the bits padded to whole bytes; a u16v a u16 word count and the words.

Gen2 memory: bank 0 reserved (kill password words 0-1, access password words 2-3), 1 EPC/UII
(word 0 StoredCRC, word 1 StoredPC, then the EPC/UII), 2 TID, 3 user. StoredPC bits 10h-14h:
UII length in words; 15h user memory indicator; 16h XPC indicator; 17h toggle (1: an ISO AFI in
bits 18h-1Fh, 0: GS1 EPC).
Gen2 Lock: each field is open, password-locked (written - or for a password read - only in the
secured state: after the right access password, or at once when the access password is zero),
or permanently locked or unlocked; a permanent state never changes again, and a Lock that asks it
to fails as a whole. An access with a wrong nonzero password is not answered.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

ACCESS_SPEC, ACCESS_SPEC_STOP_TRIGGER, ACCESS_COMMAND, ACCESS_REPORT_SPEC = 207, 208, 209, 239
C1G2_TAG_SPEC, C1G2_TARGET_TAG, C1G2_READ, C1G2_WRITE = 338, 339, 341, 342
C1G2_LOCK, C1G2_LOCK_PAYLOAD = 344, 345
C1G2_READ_RESULT, C1G2_WRITE_RESULT, C1G2_LOCK_RESULT = 349, 350, 352
# C1G2LockOpSpecResult Result values
LOCK_OK, LOCK_TAG_ERROR, LOCK_NO_RESPONSE = 0, 2, 3
# C1G2LockPayload: privileges, and the fields they apply to
READ_WRITE, PERMA_LOCK, PERMA_UNLOCK, UNLOCK = 0, 1, 2, 3
KILL_PASSWORD, ACCESS_PASSWORD, EPC_MEMORY, TID_MEMORY, USER_MEMORY = 0, 1, 2, 3, 4
OPEN, PASSWORD_LOCKED, PERMA_LOCKED, PERMA_OPEN = "open", "password", "perma-locked", "perma-open"
# C1G2WriteOpSpecResult Result values
WRITE_OK, WRITE_OVERRUN, WRITE_LOCKED, WRITE_NO_RESPONSE = 0, 1, 2, 5
# C1G2ReadOpSpecResult Result values
READ_OK, READ_TAG_ERROR, READ_NO_RESPONSE = 0, 1, 2
EPC_BANK, TID_BANK, USER_BANK = 1, 2, 3


def tlv_walk(body: bytes) -> list[tuple[int, bytes]]:
    """The TLV parameters in `body`, as (type, value)."""
    found, at = [], 0
    while at + 4 <= len(body) and not body[at] & 0x80:
        kind, length = struct.unpack_from("!HH", body, at)
        if length < 4 or at + length > len(body):
            raise ValueError(f"parameter {kind & 0x3FF} overruns its message")
        found.append((kind & 0x3FF, body[at + 4:at + length]))
        at += length
    return found


def _bits(value: bytes, at: int) -> tuple[int, bytes, int]:
    """A u1v at `at`: (bit count, the bytes, where the next field starts)."""
    count = struct.unpack_from("!H", value, at)[0]
    size = (count + 7) // 8
    return count, value[at + 2:at + 2 + size], at + 2 + size


@dataclass(frozen=True)
class TargetTag:
    bank: int
    match: bool
    pointer: int  # bit address in the bank
    mask_bits: int
    mask: bytes
    data_bits: int
    data: bytes


@dataclass(frozen=True)
class ReadOp:
    op_id: int
    password: int
    bank: int
    pointer: int  # words
    count: int


@dataclass(frozen=True)
class WriteOp:
    op_id: int
    password: int
    bank: int
    pointer: int
    words: bytes


@dataclass(frozen=True)
class LockOp:
    op_id: int
    password: int
    payload: tuple[tuple[int, int], ...]  # (privilege, data field)


@dataclass
class AccessSpec:
    spec_id: int
    antenna: int
    protocol: int
    enabled: bool
    rospec_id: int
    stop_type: int
    operations_left: int  # OperationCountValue; with stop_type 0 there is no limit
    targets: list[TargetTag]
    ops: list[ReadOp | WriteOp | LockOp]
    report_trigger: int = 0


def parse_access_spec(param: bytes) -> AccessSpec:
    """The AccessSpec parameter value (after its TLV header) of ADD_ACCESSSPEC."""
    spec_id, antenna, protocol, state, rospec_id = struct.unpack_from("!IHBBI", param)
    stop_type, count, report, targets, ops = 0, 0, 0, [], []
    for kind, value in tlv_walk(param[12:]):
        if kind == ACCESS_SPEC_STOP_TRIGGER:
            stop_type, count = struct.unpack_from("!BH", value)
        elif kind == ACCESS_REPORT_SPEC:
            report = value[0]
        elif kind == ACCESS_COMMAND:
            for inner, op in tlv_walk(value):
                if inner == C1G2_TAG_SPEC:
                    targets = [_target(t) for k, t in tlv_walk(op) if k == C1G2_TARGET_TAG]
                elif inner == C1G2_READ:
                    op_id, password, bank, pointer, words = struct.unpack_from("!HIBHH", op)
                    ops.append(ReadOp(op_id, password, bank >> 6, pointer, words))
                elif inner == C1G2_WRITE:
                    op_id, password, bank, pointer, words = struct.unpack_from("!HIBHH", op)
                    data = op[11:11 + 2 * words]
                    if len(data) != 2 * words:
                        raise ValueError("C1G2Write: WriteData shorter than its word count")
                    ops.append(WriteOp(op_id, password, bank >> 6, pointer, data))
                elif inner == C1G2_LOCK:
                    op_id, password = struct.unpack_from("!HI", op)
                    payload = tuple(struct.unpack_from("!BB", v) for k, v in tlv_walk(op[6:])
                                    if k == C1G2_LOCK_PAYLOAD)
                    if not payload:
                        raise ValueError("C1G2Lock: no C1G2LockPayload")
                    ops.append(LockOp(op_id, password, payload))
    if not 1 <= len(targets) <= 2 or not ops:
        raise ValueError("an AccessCommand needs one or two C1G2TargetTag and an OpSpec")
    return AccessSpec(spec_id, antenna, protocol, bool(state & 0x80), rospec_id, stop_type, count,
                      targets, ops, report)


def _target(value: bytes) -> TargetTag:
    flags, pointer = struct.unpack_from("!BH", value)
    mask_bits, mask, at = _bits(value, 3)
    data_bits, data, _ = _bits(value, at)
    return TargetTag(flags >> 6, bool(flags & 0x20), pointer, mask_bits, mask, data_bits, data)


def gen2_crc(data: bytes) -> int:
    """StoredCRC: CRC-16 of ISO/IEC 13239 (poly 1021, preset FFFF, ones' complement)."""
    crc = 0xFFFF
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return crc ^ 0xFFFF


@dataclass
class Gen2Tag:
    """A UHF tag's memory. `epc_words`: the EPC bank's capacity after CRC and PC (a 256-bit UII
    is common on library tags); `locked`: banks whose writes the tag refuses."""

    epc: bytes
    antenna: int = 1
    rssi: int = -50
    seen: int = 0
    pc: int = -1  # -1: the length bits for `epc`, toggle 0 (a GS1 EPC), no AFI
    user: bytearray = field(default_factory=lambda: bytearray(64))
    tid: bytes = bytes.fromhex("E2801190200000000000ABCD")
    epc_words: int = 16
    locked: set[int] = field(default_factory=set)
    leaves_during_write: bool = False  # pulled off the pad halfway through the next write
    gone: bool = False
    reserved: bytearray = field(default_factory=lambda: bytearray(8))  # kill, access password
    lock_state: dict[int, str] = field(default_factory=dict)  # Lock data field -> state

    @property
    def access_password(self) -> int:
        return int.from_bytes(self.reserved[4:8], "big")

    def _answers(self, password: int) -> bool:
        """A wrong nonzero access password: the tag goes back to arbitrating, silent."""
        return password == 0 or self.access_password in (0, password)

    def _secured(self, password: int) -> bool:
        return self.access_password == 0 or password == self.access_password

    def _may_write(self, data_field: int, password: int) -> bool:
        state = self.lock_state.get(data_field, OPEN)
        return state in (OPEN, PERMA_OPEN) or (state == PASSWORD_LOCKED
                                               and self._secured(password))

    def __post_init__(self) -> None:
        if self.pc < 0:
            self.pc = (len(self.epc) // 2) << 11

    def bank(self, number: int) -> bytes:
        if number == EPC_BANK:
            stored = struct.pack("!H", self.pc) + self.epc.ljust(2 * self.epc_words, b"\0")
            return struct.pack("!H", gen2_crc(stored[:2 + len(self.epc)])) + stored
        if number == TID_BANK:
            return self.tid
        if number == USER_BANK:
            return bytes(self.user)
        return bytes(self.reserved)

    def matches(self, target: TargetTag) -> bool:
        memory = int.from_bytes(self.bank(target.bank), "big")
        size = len(self.bank(target.bank)) * 8
        if target.pointer + target.mask_bits > size:
            return not target.match
        window = (memory >> (size - target.pointer - target.mask_bits)) & \
            ((1 << target.mask_bits) - 1)
        mask = int.from_bytes(target.mask, "big") >> (len(target.mask) * 8 - target.mask_bits)
        data = int.from_bytes(target.data.ljust(len(target.mask), b"\0")[:len(target.mask)], "big") \
            >> (len(target.mask) * 8 - target.mask_bits)
        equal = (window & mask) == (data & mask)
        return equal if target.match else not equal

    def read(self, op: ReadOp) -> bytes:
        if self.gone or not self._answers(op.password):
            return struct.pack("!BHH", READ_NO_RESPONSE, op.op_id, 0)
        memory = self.bank(op.bank)
        words = op.count or (len(memory) // 2 - op.pointer)
        chunk = memory[2 * op.pointer:2 * (op.pointer + words)]
        if words <= 0 or len(chunk) != 2 * words:
            return struct.pack("!BHH", READ_TAG_ERROR, op.op_id, 0)
        if op.bank == 0 and not all(self._may_write(f, op.password) for f in
                                    _password_fields(op.pointer, words)):
            return struct.pack("!BHH", READ_TAG_ERROR, op.op_id, 0)  # a locked password
        return struct.pack("!BHH", READ_OK, op.op_id, words) + chunk

    def write(self, op: WriteOp) -> bytes:
        words = len(op.words) // 2
        if self.gone or not self._answers(op.password):
            return struct.pack("!BHH", WRITE_NO_RESPONSE, op.op_id, 0)
        fields = _password_fields(op.pointer, words) if op.bank == 0 else \
            {EPC_BANK: [EPC_MEMORY], USER_BANK: [USER_MEMORY]}.get(op.bank, [TID_MEMORY])
        if op.bank in self.locked or op.bank == TID_BANK \
                or not all(self._may_write(f, op.password) for f in fields):
            return struct.pack("!BHH", WRITE_LOCKED, op.op_id, 0)
        capacity = {EPC_BANK: 2 + self.epc_words, 0: 4}.get(op.bank, len(self.user) // 2)
        if op.pointer + words > capacity or (op.bank == EPC_BANK and op.pointer == 0):
            return struct.pack("!BHH", WRITE_OVERRUN, op.op_id, 0)
        if op.bank == 0:
            self.reserved[2 * op.pointer:2 * (op.pointer + words)] = op.words
            return struct.pack("!BHH", WRITE_OK, op.op_id, words)
        done = words // 2 if self.leaves_during_write else words
        memory = bytearray(self.bank(op.bank))
        memory[2 * op.pointer:2 * (op.pointer + done)] = op.words[:2 * done]
        if op.bank == EPC_BANK:  # the tag backscatters as many UII words as its PC says
            self.pc = struct.unpack_from("!H", memory, 2)[0]
            self.epc = bytes(memory[4:4 + 2 * (self.pc >> 11)])
        else:
            self.user[:] = memory
        if self.leaves_during_write:
            self.gone = True
            return struct.pack("!BHH", WRITE_NO_RESPONSE, op.op_id, done)
        return struct.pack("!BHH", WRITE_OK, op.op_id, done)

    def lock(self, op: LockOp) -> bytes:
        """Gen2 Lock: only in the secured state; all of the payload or none of it."""
        if self.gone or not self._answers(op.password) or not self._secured(op.password):
            return struct.pack("!BH", LOCK_NO_RESPONSE, op.op_id)
        wanted = {READ_WRITE: PASSWORD_LOCKED, PERMA_LOCK: PERMA_LOCKED,
                  PERMA_UNLOCK: PERMA_OPEN, UNLOCK: OPEN}
        changes = {}
        for privilege, data_field in op.payload:
            now = self.lock_state.get(data_field, OPEN)
            new = wanted.get(privilege)
            if new is None or data_field > USER_MEMORY or \
                    (now in (PERMA_LOCKED, PERMA_OPEN) and new != now):
                return struct.pack("!BH", LOCK_TAG_ERROR, op.op_id)
            changes[data_field] = new
        self.lock_state.update(changes)
        return struct.pack("!BH", LOCK_OK, op.op_id)

    def run(self, op: ReadOp | WriteOp | LockOp) -> bytes:
        """One OpSpec on this tag: the result parameter to report."""
        if isinstance(op, ReadOp):
            kind, result = C1G2_READ_RESULT, self.read(op)
        elif isinstance(op, WriteOp):
            kind, result = C1G2_WRITE_RESULT, self.write(op)
        else:
            kind, result = C1G2_LOCK_RESULT, self.lock(op)
        return struct.pack("!HH", kind, 4 + len(result)) + result


def _password_fields(pointer: int, words: int) -> list[int]:
    """The Lock fields of reserved-bank words: 0-1 the kill password, 2-3 the access password."""
    return sorted({KILL_PASSWORD if word < 2 else ACCESS_PASSWORD
                   for word in range(pointer, pointer + words)})
