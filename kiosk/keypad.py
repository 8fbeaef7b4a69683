"""The EZ Access style keypad: which key does what (from the profile), and no key repeat
(508 407.4: a held key must not act again)."""

from __future__ import annotations

from station_core.profile import KeypadKeys

FUNCTIONS = ("up", "down", "select", "back", "help", "volume_down", "volume_up", "repeat")


class KeyMap:
    def __init__(self, keys: KeypadKeys, codes: dict[str, int]) -> None:
        """`codes`: key name -> code, as Kivy's Keyboard.keycodes."""
        wanted = keys.model_dump()
        unknown = sorted(f"{f}={name!r}" for f, name in wanted.items() if name not in codes)
        if unknown:
            raise ValueError("kiosk.keypad names keys this keyboard does not have: "
                             + ", ".join(unknown))
        self.by_code = {codes[name]: function for function, name in wanted.items()}
        self._down: set[int] = set()

    def function(self, code: int) -> str | None:
        return self.by_code.get(code)

    def pressed(self, code: int) -> bool:
        """True for a new press; False while the key is held (the repeats)."""
        if code in self._down:
            return False
        self._down.add(code)
        return True

    def released(self, code: int) -> None:
        self._down.discard(code)
