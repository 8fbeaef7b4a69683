"""Measure a drawn screen as an accessibility checker would: the smallest touch target, the lowest
text contrast actually drawn, labels whose text does not fit or that overlap, and the keypad order.
Used by `bronco kiosk --screenshots` (a11y.json) and by the tests."""

from __future__ import annotations

from dataclasses import dataclass, field

from kivy.uix.button import Button
from kivy.uix.label import Label
from kivy.uix.scrollview import ScrollView
from kivy.uix.widget import Widget

from kiosk.focus import controls, label_of, plain, shown, walk
from kiosk.theme import Theme
from station_core.contrast import ratio

Box = tuple[float, float, float, float]  # x, y, right, top in window coordinates
TOLERANCE = 1.0  # px: texture sizes are rounded


@dataclass
class ScreenAudit:
    min_target_px: float
    min_contrast: float
    clipped_labels: list[str] = field(default_factory=list)
    focus_order: list[str] = field(default_factory=list)
    contrast_pairs: dict[str, float] = field(default_factory=dict)


def window_box(widget: Widget) -> Box:
    x, y = widget.to_window(widget.x, widget.y)
    return (x, y, x + widget.width, y + widget.height)


def _viewport(widget: Widget) -> Box | None:
    """The visible part of the nearest ScrollView around `widget` (None: not scrolled)."""
    node = widget.parent
    while node is not None and node.parent is not node:
        if isinstance(node, ScrollView):
            return window_box(node)
        node = node.parent
    return None


def _inside(inner: Box, outer: Box) -> bool:
    return (inner[0] >= outer[0] - TOLERANCE and inner[1] >= outer[1] - TOLERANCE
            and inner[2] <= outer[2] + TOLERANCE and inner[3] <= outer[3] + TOLERANCE)


def _overlap(a: Box, b: Box) -> bool:
    return min(a[2], b[2]) - max(a[0], b[0]) > TOLERANCE and \
        min(a[3], b[3]) - max(a[1], b[1]) > TOLERANCE


def _texts(root: Widget) -> list[Label]:
    return [w for w in walk(root) if isinstance(w, Label) and shown(w) and plain(w.text)]


def clipped(root: Widget, window: tuple[float, float]) -> list[str]:
    """Labels whose text is cut: a texture larger than its box, a box off the window (or out of
    its scroll view's width), or two texts drawn over each other."""
    out: list[str] = []
    labels = _texts(root)
    screen: Box = (0, 0, window[0], window[1])
    boxes = {}
    for label in labels:
        label.texture_update()
        tw, th = label.texture_size
        box = window_box(label)
        boxes[label] = box
        viewport = _viewport(label)
        too_big = tw > label.width + TOLERANCE or th > label.height + TOLERANCE
        off_screen = not _inside(box, screen) if viewport is None else \
            (box[0] < viewport[0] - TOLERANCE or box[2] > viewport[2] + TOLERANCE)
        if too_big or off_screen:
            out.append(plain(label.text))
    for i, first in enumerate(labels):
        for second in labels[i + 1:]:
            if _overlap(boxes[first], boxes[second]) and _visible_together(first, second):
                out.append(plain(first.text))
    return sorted(set(out))


def _visible_together(first: Widget, second: Widget) -> bool:
    """Two labels in one scroll view may both be scrolled out of sight: only count overlaps
    where at least part of both shows."""
    for label in (first, second):
        viewport = _viewport(label)
        if viewport is not None and not _overlap(window_box(label), viewport):
            return False
    return True


def audit(screen: Widget, theme: Theme, window: tuple[float, float], focus_roots: list[Widget]) \
        -> ScreenAudit:
    targets = [w for w in walk(screen) if isinstance(w, Button) and shown(w)]
    smallest = min((min(w.width, w.height) for w in targets), default=0.0)
    backgrounds = {name: bg for name, (_fg, bg) in theme.text_pairs().items()}
    pairs: dict[str, float] = {}
    for label in _texts(screen):
        name = getattr(label, "pair", "")
        if name in backgrounds:
            measured = ratio(tuple(label.color[:3]), backgrounds[name][:3])  # type: ignore[arg-type]
            pairs[name] = min(pairs.get(name, 99.0), round(measured, 2))
    return ScreenAudit(
        min_target_px=round(smallest, 1),
        min_contrast=min(pairs.values(), default=0.0),
        clipped_labels=clipped(screen, window),
        focus_order=[label_of(w) for w in controls(*focus_roots)],
        contrast_pairs=pairs,
    )
