"""A Numato USB relay module on a pty: echoes each command line, answers, prints a '>' prompt.
GPIO inputs read the door switches (1 = closed)."""

from __future__ import annotations

from pathlib import Path

from bronco.pty_device import PtyDevice


def _number(text: str) -> int:
    return int(text) if text.isdigit() else ord(text.upper()) - ord("A") + 10


class NumatoEmulator(PtyDevice):
    def __init__(self, link: Path, *, channels: int = 8) -> None:
        super().__init__(link)
        self.relays = [False] * channels
        self.door_open = [False] * channels
        self.jammed = [False] * channels
        self.lines: list[str] = []

    def handle(self, buffer: bytes) -> bytes:
        while b"\r" in buffer:
            line, buffer = buffer.split(b"\r", 1)
            text = line.decode("ascii", errors="replace").strip()
            self.lines.append(text)
            self.write(line + b"\n\r" + self._answer(text).encode() + b">")
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
                return ("0" if self.door_open[_number(parts[2])] else "1") + "\n\r"
        except (IndexError, ValueError):
            pass
        return "Invalid command\n\r"
