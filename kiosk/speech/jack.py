"""Headphone detection from ALSA's jack controls (`amixer contents`): codecs that sense the jack
expose a boolean card control named like 'Headphone Jack'; boards without one report nothing and
speech then starts by the help key or the profile instead."""

from __future__ import annotations

import re
import subprocess
import threading
from collections.abc import Callable

CONTROL = re.compile(r"^numid=\d+,iface=CARD,name='([^']*)'", re.MULTILINE)


def headphones_in(amixer_contents: str) -> bool | None:
    """True/False from the first headphone jack control in `amixer contents` output; None when
    the card has no such control (its jack cannot be sensed)."""
    blocks = CONTROL.split(amixer_contents)
    # split() gives [before, name1, body1, name2, body2, ...]
    for name, body in zip(blocks[1::2], blocks[2::2], strict=True):
        if "headphone" in name.lower() and "jack" in name.lower():
            value = re.search(r"^\s*:\s*values=(\w+)", body, re.MULTILINE)
            if value:
                return value.group(1).lower() in ("on", "1", "true")
    return None


class JackWatcher:
    """Polls the card once a second and calls `changed(plugged)` when the state flips."""

    def __init__(self, changed: Callable[[bool], None], card: str = "",
                 interval_s: float = 1.0, program: str = "amixer") -> None:
        self.changed, self.card, self.interval_s, self.program = changed, card, interval_s, program
        self.state: bool | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def read(self) -> bool | None:
        command = [self.program, *(["-c", self.card] if self.card else []), "contents"]
        try:
            res = subprocess.run(command, capture_output=True, text=True, timeout=5, check=False)
        except (OSError, subprocess.TimeoutExpired):
            return None
        return headphones_in(res.stdout) if res.returncode == 0 else None

    def poll_once(self) -> None:
        state = self.read()
        if state is not None and state != self.state:
            first = self.state is None
            self.state = state
            if state or not first:  # unplugged at start-up is not news
                self.changed(state)

    def start(self) -> None:
        def loop() -> None:
            while not self._stop.is_set():
                self.poll_once()
                self._stop.wait(self.interval_s)

        self._thread = threading.Thread(target=loop, name="headphone-jack", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
