"""A Numato Lab USB relay module on a pty, written from Numato's documentation: it echoes each
command line, answers, and prints a '>' prompt; it has the GPIOs its model has (8 relays: none,
16 relays: 10, 32 relays: 8) and no relay timer (a relay stays on until `relay off`).
Door switches sit on the GPIOs (1 = closed); door input n is GPIO n-1.

Faults to test a driver with: `late_prompt` (the prompt of the next matching command comes after
a delay, as from a busy module) and `drop_reply` (the command takes effect, nothing comes back).
"""

from __future__ import annotations

import threading
from pathlib import Path

from station_core.pty_device import PtyDevice

GPIOS_BY_RELAYS = {8: 0, 16: 10, 32: 8}


def _number(text: str) -> int:
    if len(text) != 1 or not text.isalnum():
        raise ValueError(text)
    return int(text) if text.isdigit() else ord(text.upper()) - ord("A") + 10


class NumatoEmulator(PtyDevice):
    def __init__(self, link: Path, *, channels: int = 8) -> None:
        super().__init__(link)
        if channels not in GPIOS_BY_RELAYS:
            raise ValueError(f"Numato USB relay modules have 8, 16 or 32 relays, not {channels}")
        self.relays = [False] * channels
        self.gpio_count = GPIOS_BY_RELAYS[channels]
        self.door_open = [False] * channels  # per lock; only locks with a GPIO can be read
        self.jammed = [False] * channels
        self.lines: list[str] = []
        self.late_prompt: tuple[str, float] | None = None  # (command prefix, delay in s), once
        self.drop_reply: str | None = None  # command prefix whose replies are lost, until cleared

    def handle(self, buffer: bytes) -> bytes:
        while b"\r" in buffer:
            line, buffer = buffer.split(b"\r", 1)
            text = line.decode("ascii", errors="replace").strip()
            self.lines.append(text)
            reply = line + b"\n\r" + self._answer(text).encode() + b">"
            if self.drop_reply is not None and text.startswith(self.drop_reply):
                continue
            if self.late_prompt is not None and text.startswith(self.late_prompt[0]):
                delay = self.late_prompt[1]
                self.late_prompt = None
                threading.Timer(delay, self.write, (reply,)).start()
                continue
            self.write(reply)
        return buffer

    def _answer(self, text: str) -> str:
        parts = text.split()
        try:
            if parts[:2] == ["relay", "on"]:
                channel = _number(parts[2])
                self.relays[channel] = True
                if not self.jammed[channel]:
                    self.door_open[channel] = True  # the released door springs open
                return ""
            if parts[:2] == ["relay", "off"]:
                self.relays[_number(parts[2])] = False
                return ""
            if parts[:2] == ["relay", "read"]:
                return ("on" if self.relays[_number(parts[2])] else "off") + "\n\r"
            if parts[:2] == ["gpio", "read"]:
                gpio = _number(parts[2])
                if gpio >= self.gpio_count:
                    raise ValueError(gpio)  # the module has no such GPIO
                return ("0" if self.door_open[gpio] else "1") + "\n\r"
        except (IndexError, ValueError):
            pass
        return "Invalid command\n\r"
