"""Colours for the standard, high-contrast and library-branded themes, and every pair of colours
a screen draws text or controls with, so that contrast can be computed from the theme itself."""

from __future__ import annotations

from dataclasses import dataclass, replace

from station_core.contrast import NON_TEXT, TEXT_AA, TEXT_AAA, over, parse_hex, ratio
from station_core.profile import Branding

Rgba = tuple[float, float, float, float]
ROW_TINT = 0.22  # the alpha of a result row's status tint


def _hex(code: str) -> Rgba:
    return (*parse_hex(code), 1.0)


@dataclass(frozen=True)
class Theme:
    name: str
    background: Rgba
    foreground: Rgba
    muted: Rgba  # secondary buttons; drawn with `background` text
    accent: Rgba  # primary buttons
    on_accent: Rgba
    ok: Rgba
    warn: Rgba
    error: Rgba
    header: Rgba
    focus: Rgba  # the keypad focus ring
    text_minimum: float = TEXT_AA
    row_tint: float = ROW_TINT  # a result row's status tint (the row's text says the status too)
    secondary_text: Rgba | None = None  # text on secondary buttons; None: the background colour

    def text_pairs(self) -> dict[str, tuple[Rgba, Rgba]]:
        """(text colour, what it is drawn on) for every kind of text on every screen."""
        rows = {f"row text on {name} tint": (self.foreground, self.tinted(tint))
                for name, tint in (("ok", self.ok), ("warn", self.warn), ("error", self.error))}
        return {
            "text": (self.foreground, self.background),
            "error text": (self.error, self.background),
            "header title": (self.foreground, self.header),
            "countdown": (self.warn, self.header),
            "button": (self.on_accent, self.accent),
            "secondary button": (self.on_secondary, self.muted),
            "offline banner": (self.on_accent, self.warn),
            **rows,
        }

    def control_pairs(self) -> dict[str, tuple[Rgba, Rgba]]:
        """A control's edge against its surroundings, and the focus ring against both
        (WCAG 1.4.11, 3:1)."""
        return {
            "button edge": (self.accent, self.background),
            "secondary button edge": (self.muted, self.background),
            "focus ring on background": (self.focus, self.background),
            "focus ring on header": (self.focus, self.header),
        }

    @property
    def on_secondary(self) -> Rgba:
        return self.secondary_text or self.background

    def tinted(self, tint: Rgba) -> Rgba:
        return (*over(tint, self.row_tint, self.background), 1.0)

    def worst_text(self) -> float:
        return min(ratio(a[:3], b[:3]) for a, b in self.text_pairs().values())

    def worst_control(self) -> float:
        return min(ratio(a[:3], b[:3]) for a, b in self.control_pairs().values())


STANDARD = Theme(
    name="standard",
    background=_hex("#1E4D2B"), foreground=_hex("#FFFFFF"), muted=_hex("#C8D8CC"),
    accent=_hex("#FFB500"), on_accent=_hex("#1A1A1A"), ok=_hex("#5BD27A"),
    warn=_hex("#FFB500"), error=_hex("#FF9A8F"), header=_hex("#163A20"), focus=_hex("#FFFFFF"),
)
HIGH_CONTRAST = Theme(
    name="high-contrast",
    background=_hex("#000000"), foreground=_hex("#FFFFFF"), muted=_hex("#FFFFFF"),
    accent=_hex("#FFFF00"), on_accent=_hex("#000000"), ok=_hex("#00FF00"),
    warn=_hex("#FFFF00"), error=_hex("#FF6666"), header=_hex("#000000"), focus=_hex("#00FFFF"),
    text_minimum=TEXT_AAA,
)
THEMES = {t.name: t for t in (STANDARD, HIGH_CONTRAST)}
NON_TEXT_MINIMUM = NON_TEXT


def branded(branding: Branding | None) -> Theme:
    """The standard theme in the library's colours (the profile has checked their contrast)."""
    if branding is None:
        return STANDARD
    primary, secondary = _hex(branding.primary), _hex(branding.secondary)
    darker = tuple(c * 0.8 for c in primary[:3])
    theme = Theme(
        name="standard", background=primary, foreground=_hex("#FFFFFF"), muted=_hex("#E6E6E6"),
        accent=secondary, on_accent=_hex("#1A1A1A"), ok=STANDARD.ok, warn=_hex("#FFFFFF"),
        error=STANDARD.error if ratio(STANDARD.error[:3], primary[:3]) >= TEXT_AA else _hex("#FFFFFF"),
        header=(*darker, 1.0), focus=_hex("#FFFFFF"), secondary_text=_hex("#1A1A1A"),
    )
    # A primary near the 4.5:1 limit leaves no room for a tint under white text: fade it.
    for alpha in (ROW_TINT, 0.15, 0.1, 0.05, 0.0):
        theme = replace(theme, row_tint=alpha)
        if theme.worst_text() >= TEXT_AA:
            break
    return theme
