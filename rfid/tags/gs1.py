"""GS1 EPC identifiers some sites write on UHF library tags: GIAI-96 (an individual asset) and
SGTIN-96 (a trade item with a serial). Bit layout: header 8, filter 3, partition 3, then the
company prefix and the reference, whose split the partition value sets."""

from __future__ import annotations

from rfid.tags.model import TagDataError, TagValue

GIAI_96, SGTIN_96 = 0x34, 0x30
# partition -> (company prefix bits, company prefix digits)
_COMPANY = {0: (40, 12), 1: (37, 11), 2: (34, 10), 3: (30, 9), 4: (27, 8), 5: (24, 7), 6: (20, 6)}


def _fields(data: bytes) -> tuple[int, int, int, int]:
    """header, filter, partition, and the remaining 82 bits as an int."""
    if len(data) < 12:
        raise TagDataError(f"{len(data)} bytes: an EPC-96 needs 12")
    value = int.from_bytes(data[:12], "big")
    header = value >> 88
    filter_value = (value >> 85) & 0x7
    partition = (value >> 82) & 0x7
    if partition not in _COMPANY:
        raise TagDataError(f"EPC partition {partition} is not valid")
    return header, filter_value, partition, value & ((1 << 82) - 1)


def decode(data: bytes, *, item_id: str = "reference") -> TagValue:
    """item_id: "reference" (asset reference or serial) or "full" (GIAI / GTIN+serial)."""
    header, _filter, partition, rest = _fields(data)
    company_bits, company_digits = _COMPANY[partition]
    if header == GIAI_96:
        ref_bits = 82 - company_bits
        company = rest >> ref_bits
        reference = str(rest & ((1 << ref_bits) - 1))
        full = f"{company:0{company_digits}d}{reference}"
        return TagValue(item_id=reference if item_id == "reference" else full,
                        owner_library=f"{company:0{company_digits}d}", data_model="gs1-giai")
    if header == SGTIN_96:
        serial = rest & ((1 << 38) - 1)
        item_bits = 44 - company_bits
        company = (rest >> 38) >> item_bits
        item_ref = (rest >> 38) & ((1 << item_bits) - 1)
        gtin = f"{company:0{company_digits}d}{item_ref:0{13 - company_digits}d}"
        return TagValue(item_id=str(serial) if item_id == "reference" else f"{gtin}.{serial}",
                        owner_library=f"{company:0{company_digits}d}", data_model="gs1-sgtin")
    raise TagDataError(f"EPC header 0x{header:02X} is not GIAI-96 or SGTIN-96")


def encode_giai96(company_prefix: str, asset_reference: int, filter_value: int = 0) -> bytes:
    partition = next((p for p, (_, digits) in _COMPANY.items() if digits == len(company_prefix)), None)
    if partition is None or not company_prefix.isdigit():
        raise ValueError("the company prefix is 6 to 12 digits")
    company_bits, _ = _COMPANY[partition]
    ref_bits = 82 - company_bits
    if not 0 <= asset_reference < (1 << ref_bits):
        raise ValueError(f"the asset reference does not fit in {ref_bits} bits")
    value = (GIAI_96 << 88) | ((filter_value & 7) << 85) | (partition << 82)
    value |= (int(company_prefix) << ref_bits) | asset_reference
    return value.to_bytes(12, "big")
