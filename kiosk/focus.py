"""Keypad focus: every control of a screen in reading order, a visible ring on the focused one,
and the words speech says of it ("Renew all, button, 3 of 5")."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

from kivy.graphics import Color, InstructionGroup, Line
from kivy.metrics import dp
from kivy.uix.button import Button
from kivy.uix.scrollview import ScrollView
from kivy.uix.togglebutton import ToggleButton
from kivy.uix.widget import Widget

from kiosk.i18n import gettext as _

MARKUP = re.compile(r"\[/?[a-z]+(=[^\]]*)?\]")


def walk(widget: Widget) -> Iterator[Widget]:
    """The widget and its descendants in the order they were added (top to bottom, left to
    right in the kiosk's layouts): Kivy keeps children newest first."""
    yield widget
    for child in reversed(widget.children):
        yield from walk(child)


def shown(widget: Widget) -> bool:
    node: Widget | None = widget
    while node is not None:
        if getattr(node, "opacity", 1) == 0 or getattr(node, "disabled", False):
            return False
        node = node.parent if node.parent is not node else None
    return widget.width > 0 and widget.height > 0


def plain(text: str) -> str:
    """A control's text without markup and icon glyphs (private-use characters)."""
    text = MARKUP.sub("", text)
    return " ".join("".join(c for c in text if not 0xE000 <= ord(c) <= 0xF8FF
                            and not ord(c) >= 0xF0000).split())


def label_of(widget: Widget) -> str:
    return getattr(widget, "speech", "") or plain(getattr(widget, "text", ""))


def describe(widget: Widget, position: int, count: int) -> str:
    label = label_of(widget)
    if isinstance(widget, ToggleButton):
        state = _("on") if widget.state == "down" else _("off")
        return _("{label}, toggle, {state}, {position} of {count}").format(
            label=label, state=state, position=position, count=count)
    return _("{label}, button, {position} of {count}").format(
        label=label, position=position, count=count)


def controls(*roots: Widget) -> list[Widget]:
    return [w for root in roots for w in walk(root) if isinstance(w, Button) and shown(w)]


class FocusRing:
    """Which control has the keypad focus on the current screen."""

    def __init__(self, colour: Callable[[], tuple[float, ...]]) -> None:
        self.colour = colour
        self.items: list[Widget] = []
        self.index = -1
        self._drawn: tuple[Widget, InstructionGroup] | None = None

    @property
    def current(self) -> Widget | None:
        return self.items[self.index] if 0 <= self.index < len(self.items) else None

    def collect(self, *roots: Widget, keep: bool = True) -> None:
        """Re-read the controls (after a screen redraws); the focus stays on the control with
        the same label when there is one."""
        key = label_of(self.current) if keep and self.current is not None else None
        self.items = controls(*roots)
        labels = [label_of(w) for w in self.items]
        if key is not None and key in labels:
            self.index = labels.index(key)
        elif keep and self.index >= 0 and self.items:
            self.index = min(self.index, len(self.items) - 1)
        else:
            self.index = -1
        self.draw()

    def move(self, step: int) -> Widget | None:
        """Up/Down: wraps round, so no screen traps the focus at either end."""
        if not self.items:
            return None
        if self.index < 0:
            self.index = 0 if step > 0 else len(self.items) - 1
        else:
            self.index = (self.index + step) % len(self.items)
        self.draw()
        return self.current

    def description(self) -> str:
        current = self.current
        return describe(current, self.index + 1, len(self.items)) if current is not None else ""

    def activate(self) -> bool:
        current = self.current
        if current is None:
            return False
        current.trigger_action(duration=0)
        return True

    def clear(self) -> None:
        self.index = -1
        self.items = []
        self.draw()

    # -- the ring --------------------------------------------------------------------------------
    def draw(self) -> None:
        if self._drawn is not None:
            widget, group = self._drawn
            widget.canvas.after.remove(group)
            widget.unbind(pos=self._redraw, size=self._redraw)
            self._drawn = None
        current = self.current
        if current is None:
            return
        group = InstructionGroup()
        current.canvas.after.add(group)
        self._drawn = (current, group)
        current.bind(pos=self._redraw, size=self._redraw)
        self._redraw()
        scroller = current.parent
        while scroller is not None and not isinstance(scroller, ScrollView):
            scroller = scroller.parent if scroller.parent is not scroller else None
        if scroller is not None:
            scroller.scroll_to(current, padding=dp(12), animate=False)

    def _redraw(self, *_args: object) -> None:
        if self._drawn is None:
            return
        widget, group = self._drawn
        group.clear()
        width = dp(3)
        group.add(Color(*self.colour()))
        group.add(Line(rectangle=(widget.x - width, widget.y - width, widget.width + 2 * width,
                                  widget.height + 2 * width), width=width))
