"""Big memory blocks go back to the system when freed. glibc raises its mmap threshold each time
a big block is freed, after which blocks of that size (argon2's 19 MiB for a PIN, 64 MiB for a
staff password) are carved from per-thread heaps that keep them for good: on a Pi the station
sat at 150 MB after a few sign-ins instead of 93 (bench/pi.py). A fixed threshold stops that."""

from __future__ import annotations

import ctypes
import ctypes.util

M_MMAP_THRESHOLD = -3  # glibc's malloc.h
ONE_MIB = 1 << 20


def return_big_blocks(threshold: int = ONE_MIB) -> bool:
    """Blocks of `threshold` bytes and more are mapped on their own and unmapped when freed.
    False where the C library is not glibc (nothing to tune there)."""
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    try:
        libc = ctypes.CDLL(name)
        return bool(libc.mallopt(M_MMAP_THRESHOLD, threshold))
    except (OSError, AttributeError):
        return False
