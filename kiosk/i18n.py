"""Translations and formatting in the patron's language: gettext catalogues under kiosk/locale
(switchable at run time, with real plural rules), dates, times and money through babel."""

from __future__ import annotations

import gettext as _gettext
from datetime import datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path

from babel import Locale
from babel.dates import format_date, format_time
from babel.numbers import format_currency

LOCALE_DIR = Path(__file__).parent / "locale"
_current: _gettext.NullTranslations = _gettext.NullTranslations()
_language = "en"
BABEL_LOCALES = {"en": "en_US", "es": "es"}


def set_language(language: str) -> None:
    global _current, _language
    _current = _gettext.translation("kiosk", LOCALE_DIR, languages=[language], fallback=True)
    _language = language


def language() -> str:
    return _language


def gettext(message: str) -> str:
    return _current.gettext(message)


def ngettext(singular: str, plural: str, count: int) -> str:
    """The form for `count` by the language's plural rule (never "item(s)")."""
    return _current.ngettext(singular, plural, count)


def _locale() -> Locale:
    return Locale.parse(BABEL_LOCALES.get(_language, _language))


def when(value: str | datetime) -> str:
    """A due date as people write it: "Dec 22, 2026, 7:30 AM", "22 dic 2026, 7:30". Text that is
    not ISO 8601 (an ILS's own words) is shown as it came."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return value
    locale = _locale()
    pattern = str(locale.datetime_formats["medium"])  # e.g. "{1}, {0}": date, then time
    return pattern.format(format_time(value, "short", locale=locale),
                          format_date(value, "medium", locale=locale))


def money(amount: str | float | Decimal, currency: str = "USD") -> str:
    """An amount in the language's way ("$2.75", "2,75 US$"); unparseable text as it came."""
    try:
        value = Decimal(str(amount))
    except InvalidOperation:
        return str(amount)
    return format_currency(value, currency, locale=_locale())
