"""CSV files that staff open in a spreadsheet. A cell that begins with = + - @ or a tab or carriage
return is read by Excel and LibreOffice as a formula (=HYPERLINK(...) can send data away), so every
such cell is written with a leading apostrophe, which spreadsheets show as plain text. Numbers are
left alone: a negative number stays a number."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping
from typing import IO, Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    if isinstance(value, int | float) or value is None:
        return value
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


class SafeWriter:
    """csv.writer with every text cell made safe."""

    def __init__(self, out: IO[str], **options: Any) -> None:
        self._writer = csv.writer(out, **options)

    def writerow(self, row: Iterable[Any]) -> None:
        self._writer.writerow([safe_cell(value) for value in row])


class SafeDictWriter:
    """csv.DictWriter with every text cell made safe."""

    def __init__(self, out: IO[str], fieldnames: list[str], **options: Any) -> None:
        self._writer = csv.DictWriter(out, fieldnames=fieldnames, **options)

    def writeheader(self) -> None:
        self._writer.writeheader()

    def writerow(self, row: Mapping[str, Any]) -> None:
        self._writer.writerow({key: safe_cell(value) for key, value in row.items()})
