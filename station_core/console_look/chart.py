"""One statistics chart as both consoles and the monthly report draw it: Chart.js in the browser
(look.js), ReportLab on paper; every chart also exists as a table, its text alternative."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Chart:
    id: str
    title: str
    labels: list[str]
    axis: str  # what the labels are (the table's first column)
    series: list[tuple[str, list[float]]]
    kind: str = "bar"  # bar | line | hbar
    unit: str = ""  # "%": fractions shown as percentages
    empty_text: str = "Nothing to show in this period."
    notes: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not any(v for _, values in self.series for v in values if v)

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "title": self.title, "labels": self.labels, "kind": self.kind,
                "unit": self.unit, "series": [{"name": n, "values": v} for n, v in self.series]}
