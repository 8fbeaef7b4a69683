"""Which guesser an address stands for. Counting per exact address let a guesser rotate: every
IPv6 address of one /64 (one home or office network hands out 2^64 of them) and every loopback
alias (127.0.0.2, ::1) counted as someone new. So limits per address count per group."""

from __future__ import annotations

import ipaddress


def peer_group(host: str | None, *, loopback_as_one: bool = True) -> str:
    """The guesser behind an address. Connection caps pass `loopback_as_one=False`: there each
    loopback address is its own (the one-box kiosk on 127.0.0.1 must not share a cap)."""
    if not host:
        return "unknown"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host[:64]
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if address.is_loopback and loopback_as_one:
        return "loopback"
    if isinstance(address, ipaddress.IPv6Address):
        return str(ipaddress.IPv6Network(f"{address}/64", strict=False))
    return str(address)
