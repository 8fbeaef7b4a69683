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
        company = f"{(rest >> 38) >> item_bits:0{company_digits}d}"
        item_ref = f"{(rest >> 38) & ((1 << item_bits) - 1):0{13 - company_digits}d}"
        # The owner is the product class as the EPC URI writes it (company.indicator+item);
        # "full" gives the GTIN-14 and the serial.
        return TagValue(item_id=str(serial) if item_id == "reference"
                        else f"{gtin14(company, item_ref)}.{serial}",
                        owner_library=f"{company}.{item_ref}", data_model="gs1-sgtin")
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


def gtin14(company_prefix: str, item_reference: str) -> str:
    """GTIN-14 from an SGTIN's fields (EPC Tag Data Standard): the indicator digit (the item
    reference field's first digit), the company prefix, the rest of the item reference, and the
    GS1 check digit (weights 3 and 1 from the right)."""
    body = item_reference[:1] + company_prefix + item_reference[1:]
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return body + str((10 - total % 10) % 10)


def encode_sgtin96(product_class: str, serial: int, filter_value: int = 0) -> bytes:
    """SGTIN-96 of `product_class` "company prefix.indicator and item reference" (the EPC URI's
    form, 13 digits together) and a serial of up to 38 bits."""
    company, _, item_ref = product_class.partition(".")
    partition = next((p for p, (_, digits) in _COMPANY.items() if digits == len(company)), None)
    if partition is None or not (company + item_ref).isdigit() \
            or len(company) + len(item_ref) != 13:
        raise ValueError("an SGTIN product class is 'company prefix.item reference': 6 to 12 "
                         "digits, a dot, and the indicator and item reference (13 digits in all)")
    if not 0 <= serial < (1 << 38):
        raise ValueError("an SGTIN-96 serial is a number below 274877906944 (38 bits)")
    company_bits, _ = _COMPANY[partition]
    value = (SGTIN_96 << 88) | ((filter_value & 7) << 85) | (partition << 82)
    value |= ((int(company) << (44 - company_bits)) | int(item_ref)) << 38 | serial
    return value.to_bytes(12, "big")
