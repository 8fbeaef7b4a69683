"""A map of the locker bank: doors in their rows and columns (from the profile), the opened ones
highlighted and labelled, accessible doors marked. It is a picture for the eye; speech says the
same in words ("second column, third row from the top")."""

from __future__ import annotations

from kivy.app import App
from kivy.graphics import Color, Line, Rectangle
from kivy.metrics import dp
from kivy.uix.gridlayout import GridLayout
from kivy.uix.widget import Widget

from kiosk import icons
from kiosk.i18n import gettext as _
from kiosk.viewmodels.bank import BankDoor
from kiosk.widgets import KLabel


class DoorCell(KLabel):
    def __init__(self, door: BankDoor | None, opened: bool, **kw: object) -> None:
        app = App.get_running_app()
        theme = app.theme
        text = ""
        if door is not None:
            mark = f" [font={icons.FONT_NAME}]{icons.glyph('accessible')}[/font]" \
                if door.accessible and icons.glyph("accessible") else (" (A)" if door.accessible else "")
            open_word = _("OPEN")
            text = f"[b]{door.door_id}[/b]{mark}" + (f"\n{open_word}" if opened else "")
        super().__init__(text=text, markup=True, halign="center", valign="middle", **kw)
        self.spoken = False  # the map is for the eye; the door's place is said in words
        self.pair = "button" if opened else "text"
        self.color = theme.on_accent if opened else theme.foreground
        self.font_size = dp(18) * app.text_scale
        self.size_hint_y = None
        self.height = max(dp(48), dp(28) * app.text_scale * (2 if opened else 1) + dp(12))
        fill = theme.accent if opened else theme.background
        edge = theme.foreground if door is not None else theme.background
        with self.canvas.before:
            Color(*fill)
            self._fill = Rectangle(pos=self.pos, size=self.size)
            Color(*edge)
            self._edge = Line(rectangle=(*self.pos, *self.size), width=dp(2 if opened else 1))
        self.bind(pos=self._place, size=self._place)

    def _place(self, *_args: object) -> None:
        self.text_size = (self.width - dp(4), None)
        self._fill.pos, self._fill.size = self.pos, self.size
        self._edge.rectangle = (*self.pos, *self.size)


class BankMap(GridLayout):
    def __init__(self, doors: list[BankDoor], opened: set[str], **kw: object) -> None:
        rows = max(d.row for d in doors)
        cols = max(d.column for d in doors)
        super().__init__(cols=cols, spacing=dp(4), size_hint_y=None, **kw)
        self.bind(minimum_height=self.setter("height"))
        at = {(d.row, d.column): d for d in doors}
        for row in range(1, rows + 1):
            for col in range(1, cols + 1):
                door = at.get((row, col))
                self.add_widget(DoorCell(door, door is not None and door.door_id in opened)
                                if door else Widget(size_hint_y=None, height=dp(48)))
