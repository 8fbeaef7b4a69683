"""Colours for the normal and the high-contrast theme (university green and gold)."""

from __future__ import annotations

from dataclasses import dataclass

Rgba = tuple[float, float, float, float]


def _hex(code: str) -> Rgba:
    code = code.lstrip("#")
    return (int(code[0:2], 16) / 255, int(code[2:4], 16) / 255, int(code[4:6], 16) / 255, 1.0)


@dataclass(frozen=True)
class Theme:
    background: Rgba
    foreground: Rgba
    muted: Rgba
    accent: Rgba
    on_accent: Rgba
    ok: Rgba
    warn: Rgba
    error: Rgba
    header: Rgba


STANDARD = Theme(
    background=_hex("#1E4D2B"), foreground=_hex("#FFFFFF"), muted=_hex("#C8D8CC"),
    accent=_hex("#FFB500"), on_accent=_hex("#1A1A1A"), ok=_hex("#5BD27A"),
    warn=_hex("#FFB500"), error=_hex("#FF6B5E"), header=_hex("#163A20"),
)
HIGH_CONTRAST = Theme(
    background=_hex("#000000"), foreground=_hex("#FFFFFF"), muted=_hex("#FFFFFF"),
    accent=_hex("#FFFF00"), on_accent=_hex("#000000"), ok=_hex("#00FF00"),
    warn=_hex("#FFFF00"), error=_hex("#FF3030"), header=_hex("#000000"),
)
