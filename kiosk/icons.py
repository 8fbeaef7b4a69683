"""Pictograms from Material Design Icons, the icon font Debian packages as
fonts-materialdesignicons-webfont: the glyphs are looked up by name in the package's own CSS, so
no code point is copied here. Without the package the kiosk shows words only."""

from __future__ import annotations

import functools
import logging
import re
from pathlib import Path

log = logging.getLogger(__name__)
FONT_NAME = "BroncoIcons"
PACKAGE = Path("/usr/share/fonts-materialdesignicons-webfont")
FONT = Path("/usr/share/fonts/truetype/materialdesignicons-webfont/materialdesignicons-webfont.ttf")
CSS = PACKAGE / "css" / "materialdesignicons.css"
RULE = re.compile(r'\.mdi-([a-z0-9-]+):before\s*\{\s*content:\s*"\\([0-9A-Fa-f]+)"')

# What each pictogram means on the kiosk -> the icon's name in the font.
MEANINGS = {
    "pad": "book-multiple", "place": "arrow-down-bold", "card": "nfc-tap", "barcode": "barcode-scan",
    "account": "account-circle", "return": "keyboard-return", "locker": "dialpad",
    "device": "laptop", "ok": "check-circle", "problem": "alert-circle", "help": "help-circle",
    "language": "translate", "contrast": "contrast-circle", "text_size": "format-size",
    "speech": "headphones", "accessible": "wheelchair-accessibility", "back": "arrow-left-bold",
    "delete": "backspace", "blank": "close-circle", "finish": "logout", "volume": "volume-high",
    "settings": "settings",
}


@functools.cache
def codepoints() -> dict[str, str]:
    if not (CSS.is_file() and FONT.is_file()):
        log.warning("icon font not installed (Debian: fonts-materialdesignicons-webfont)")
        return {}
    return {name: chr(int(code, 16)) for name, code in RULE.findall(CSS.read_text())}


def available() -> bool:
    return bool(codepoints())


def glyph(meaning: str) -> str:
    """The character for a pictogram ("" when the font is missing)."""
    return codepoints().get(MEANINGS[meaning], "")


def register() -> bool:
    """Make the font known to Kivy as FONT_NAME; False when it is not installed."""
    if not available():
        return False
    from kivy.core.text import LabelBase

    LabelBase.register(name=FONT_NAME, fn_regular=str(FONT))
    return True
