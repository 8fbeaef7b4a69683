"""WCAG 2 contrast ratios from sRGB colours (WCAG 2.2 'relative luminance' and 'contrast ratio').

Used by the profile (library branding is refused when it fails) and by the kiosk's themes.
"""

from __future__ import annotations

import re

Rgb = tuple[float, float, float]  # each channel 0..1
HEX = re.compile(r"^#?([0-9A-Fa-f]{6})$")

# WCAG 1.4.3 (AA) for text; 1.4.6 (AAA) is what the high-contrast theme must meet; 1.4.11 for
# the boundary of a control against what surrounds it.
TEXT_AA = 4.5
TEXT_AAA = 7.0
NON_TEXT = 3.0


def parse_hex(code: str) -> Rgb:
    match = HEX.match(code.strip())
    if match is None:
        raise ValueError(f"not a colour: {code!r} (want #RRGGBB)")
    digits = match.group(1)
    return (int(digits[0:2], 16) / 255, int(digits[2:4], 16) / 255, int(digits[4:6], 16) / 255)


def _linear(channel: float) -> float:
    # sRGB transfer function; 0.04045 is the threshold of the IEC 61966-2-1 definition.
    return channel / 12.92 if channel <= 0.04045 else ((channel + 0.055) / 1.055) ** 2.4


def luminance(rgb: Rgb) -> float:
    r, g, b = (_linear(c) for c in rgb[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def ratio(first: Rgb, second: Rgb) -> float:
    """The contrast ratio, 1 (none) to 21 (black on white)."""
    light, dark = sorted((luminance(first), luminance(second)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def over(top: Rgb, alpha: float, below: Rgb) -> Rgb:
    """The colour seen where `top` at `alpha` is painted over `below`."""
    return tuple(alpha * t + (1 - alpha) * b for t, b in zip(top[:3], below[:3], strict=True))  # type: ignore[return-value]
