"""The locker bank as the patron sees it: each door's row and column (from the profile), and
where a door is in words."""

from __future__ import annotations

from dataclasses import dataclass

from kiosk.i18n import gettext as _


@dataclass(frozen=True)
class BankDoor:
    door_id: str
    row: int
    column: int
    accessible: bool = False


def ordinal(n: int) -> str:
    words = [_("first"), _("second"), _("third"), _("fourth"), _("fifth"), _("sixth"),
             _("seventh"), _("eighth"), _("ninth"), _("tenth")]
    return words[n - 1] if 1 <= n <= len(words) else _("number {n}").format(n=n)


def where(door: BankDoor) -> str:
    """"second column, third row from the top" (rows counted from the top, as people look)."""
    return _("{column} column, {row} row from the top").format(
        column=ordinal(door.column), row=ordinal(door.row))
