"""EPC Gen2 (ISO/IEC 18000-63) facts the LLRP driver writes by: the StoredPC word, and the
AccessSpecs it asks the reader to run, as sllurp's message dictionaries.

StoredPC (EPC bank word 1), from its top bit (10h) down: 5 bits UII length in words, 1 user memory
indicator, 1 XPC indicator, 1 toggle, 8 bits that are the ISO AFI when the toggle is 1 (ISO 28560-4
puts the library's security there) and EPC attribute bits when it is 0 (a GS1 EPC).
"""

from __future__ import annotations

from typing import Any

RESERVED_BANK, EPC_BANK, TID_BANK, USER_BANK = 0, 1, 2, 3
ACCESS_PASSWORD_WORD = 2  # reserved bank: kill password words 0-1, access password words 2-3
PC_WORD = 1  # word address of StoredPC in the EPC bank; the UII starts at word 2
EPC_START_BIT = 0x20
TOGGLE = 0x0100
UMI = 0x0400
# EPC Tag Data Standard headers 0x30-0x3F (SGTIN-96 0x30, GIAI-96 0x34, ...): a GS1 EPC. An ISO
# 15962 UII never starts so (its first precursor names relative OID 1, the primary item id).
GS1_HEADERS = range(0x30, 0x40)
EPCGLOBAL_C1G2 = 1  # AccessSpec ProtocolID
# Result codes of C1G2WriteOpSpecResult and C1G2ReadOpSpecResult
WRITE_RESULTS = {0: "success", 1: "the tag's memory is too small for the data",
                 2: "the tag's memory is locked", 3: "insufficient power to write",
                 4: "the tag reported an error", 5: "no response from the tag",
                 6: "the reader reported an error"}
READ_RESULTS = {0: "success", 1: "the tag reported an error", 2: "no response from the tag",
                3: "the reader reported an error"}
# C1G2LockOpSpecResult (LLRP 1.0.1 15.2.1.5.5.4)
LOCK_RESULTS = {0: "success", 1: "insufficient power to lock", 2: "the tag reported an error",
                3: "no response from the tag", 4: "the reader reported an error"}
# C1G2LockPayload (16.2.1.3.2.5.1): Privilege and DataField values
READ_WRITE, PERMA_LOCK, PERMA_UNLOCK, UNLOCK = 0, 1, 2, 3
KILL_PASSWORD, ACCESS_PASSWORD, EPC_MEMORY, TID_MEMORY, USER_MEMORY = 0, 1, 2, 3, 4


def is_gs1_epc(uii: bytes) -> bool:
    return bool(uii) and uii[0] in GS1_HEADERS


def words(data: bytes) -> bytes:
    """Data padded to whole 16-bit words, as Gen2 memory holds it."""
    return data + b"\0" * (len(data) % 2)


def pc_for(uii: bytes, old_pc: int | None, afi: int) -> int:
    """The PC word for writing `uii`: its length, the user memory indicator kept, the toggle set
    for an ISO UII (with `afi`, or the AFI it already had) and clear for a GS1 EPC."""
    pc = (len(words(uii)) // 2) << 11 | ((old_pc or 0) & UMI)
    if is_gs1_epc(uii):
        return pc
    keep = old_pc is not None and old_pc & TOGGLE
    return pc | TOGGLE | ((old_pc & 0xFF) if keep else afi)  # type: ignore[operator]


def with_afi(pc: int, afi: int) -> int:
    if not pc & TOGGLE:
        raise ValueError("the tag carries a GS1 EPC (PC toggle 0): it has no AFI to set")
    return (pc & 0xFF00) | afi


def afi_of(pc: int) -> int | None:
    return pc & 0xFF if pc & TOGGLE else None


def target(epc_hex: str) -> dict[str, Any]:
    """C1G2TargetTag: the tag whose whole EPC equals `epc_hex` (EPC bank from bit 20h)."""
    return {"MB": EPC_BANK, "M": True, "Pointer": EPC_START_BIT,
            "TagMask": "F" * len(epc_hex), "TagData": epc_hex}


def read_op(op_id: int, bank: int, pointer: int, count: int, password: int = 0) -> dict[str, Any]:
    return {"C1G2Read": {"OpSpecID": op_id, "AccessPassword": password, "MB": bank,
                         "WordPtr": pointer, "WordCount": count}}


def write_op(op_id: int, bank: int, pointer: int, data: bytes, password: int = 0) \
        -> dict[str, Any]:
    data = words(data)
    return {"C1G2Write": {"OpSpecID": op_id, "AccessPassword": password, "MB": bank,
                          "WordPtr": pointer, "WriteDataWordCount": len(data) // 2,
                          "WriteData": data}}


def lock_op(op_id: int, password: int, payload: list[tuple[int, int]]) -> dict[str, Any]:
    """C1G2Lock (344) with its C1G2LockPayloads (345), as (privilege, data field)."""
    return {"C1G2Lock": {"OpSpecID": op_id, "AccessPassword": password,
                         "C1G2LockPayload": [{"Privilege": privilege, "DataField": data_field}
                                             for privilege, data_field in payload]}}


def access_spec(spec_id: int, epc_hex: str, op: dict[str, Any]) -> dict[str, Any]:
    """One operation on one tag, run once (stop trigger: operation count 1), reported at the
    end of the AccessSpec, on any antenna (0) during any ROSpec (0)."""
    return {
        "AccessSpecID": spec_id, "AntennaID": 0, "ProtocolID": EPCGLOBAL_C1G2,
        "CurrentState": False, "ROSpecID": 0,
        "AccessSpecStopTrigger": {"AccessSpecStopTriggerType": 1, "OperationCountValue": 1},
        "AccessCommand": {"TagSpecParameter": {"C1G2TagSpec": {"C1G2TargetTag": [target(epc_hex)]}},
                          "OpSpecParameter": [op]},
        "AccessReportSpec": {"AccessReportTrigger": 1},
    }
