"""The Modbus map a sorter's PLC (or our emulator) exposes: coils for what moves, discrete inputs
for what is sensed. Fixed offsets, so that a map for 3 or 15 diverters reads the same way
(docs/returns.md holds the table; the emulator is its reference).

Coils (function codes 01 read, 05 write single):
    0            the belt runs (1) or stands (0)
    1..n         diverter k is out (1: items are pushed into bin k) or back (0)
    100          the intake runs: the item waiting in the slot goes onto the belt
    101          the intake runs backwards: the item in the slot goes back to the patron (only
                 where the slot has a reject path; a PLC without one answers exception 02)
Discrete inputs (function code 02):
    0            photo-eye at the slot: an item is in the slot
    1..n         photo-eye just before diverter k
    100+k        bin k is full, k = 0..n (bin 0: the end of the belt, where undiverted items go)
    200          emergency stop pressed
    201          light curtain at the slot broken by more than one item
"""

from __future__ import annotations

from dataclasses import dataclass

BELT = 0
INTAKE = 100
REJECT = 101
SLOT_EYE = 0
BIN_FULL_BASE = 100
EMERGENCY_STOP = 200
LIGHT_CURTAIN = 201
MAX_DIVERTERS = 15  # bins 0..15 fit below EMERGENCY_STOP


def diverter_coil(k: int) -> int:
    return k


def diverter_eye(k: int) -> int:
    return k


def bin_full_input(k: int) -> int:
    return BIN_FULL_BASE + k


@dataclass(frozen=True)
class SorterInputs:
    """One reading of every sensor."""

    slot: bool
    at_diverter: tuple[bool, ...]  # index k-1 for diverter k
    bin_full: tuple[bool, ...]  # index k for bin k (0: end of belt)
    emergency_stop: bool
    light_curtain: bool

    @classmethod
    def from_bits(cls, diverters: int, low: list[bool], high: list[bool]) -> SorterInputs:
        """`low`: inputs 0..n; `high`: inputs 100..201 (as read in one request each)."""
        return cls(slot=low[SLOT_EYE], at_diverter=tuple(low[1:diverters + 1]),
                   bin_full=tuple(high[:diverters + 1]),
                   emergency_stop=high[EMERGENCY_STOP - BIN_FULL_BASE],
                   light_curtain=high[LIGHT_CURTAIN - BIN_FULL_BASE])
