"""Translations: gettext catalogues under kiosk/locale, switchable at run time."""

from __future__ import annotations

import gettext as _gettext
from pathlib import Path

LOCALE_DIR = Path(__file__).parent / "locale"
_current: _gettext.NullTranslations = _gettext.NullTranslations()
_language = "en"


def set_language(language: str) -> None:
    global _current, _language
    _current = _gettext.translation("kiosk", LOCALE_DIR, languages=[language], fallback=True)
    _language = language


def language() -> str:
    return _language


def gettext(message: str) -> str:
    return _current.gettext(message)
