"""The kiosk's own widget classes (styled in kv/screens.kv): each control carries what speech says
of it (`speech`, `role`) and which theme colour pair it is drawn with (`pair`), so speech, the
keypad focus and the accessibility audit read the same widget tree the patron sees."""

from __future__ import annotations

from kivy.metrics import dp
from kivy.properties import BooleanProperty, StringProperty
from kivy.uix.button import Button
from kivy.uix.label import Label
from kivy.uix.togglebutton import ToggleButton


class KLabel(Label):
    pair = StringProperty("text")
    private = BooleanProperty(False)  # a name, title or fine: spoken only into headphones
    spoken = BooleanProperty(True)  # False: a picture's caption whose facts speech says elsewhere


class KTitle(KLabel):
    pass


class KError(KLabel):
    pair = StringProperty("error text")


class KIcon(Label):
    """A pictogram (icon font glyph); decorative, its meaning is always in words beside it."""

    pair = StringProperty("text")


class KButton(Button):
    speech = StringProperty("")  # what a screen reader would call it; default: its text
    role = StringProperty("button")
    pair = StringProperty("button")
    wrap = BooleanProperty(True)  # wrap words to the width (header buttons size to their text)

    def on_width(self, _widget: object, width: float) -> None:
        if self.wrap:
            self.text_size = (max(width - dp(16), 1), None)


class KSecondary(KButton):
    pair = StringProperty("secondary button")


class KToggle(ToggleButton):
    speech = StringProperty("")
    role = StringProperty("toggle")
    pair = StringProperty("button")
