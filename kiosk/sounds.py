"""Optional sound cues: short tones made at start-up (no audio files to ship or license)."""

from __future__ import annotations

import math
import struct
import tempfile
import wave
from pathlib import Path
from typing import Any

TONES = {"ok": (880.0, 0.12), "attention": (660.0, 0.25), "error": (220.0, 0.35)}


def write_tone(path: Path, hertz: float, seconds: float, rate: int = 22050) -> None:
    frames = b"".join(
        struct.pack("<h", int(12000 * math.sin(2 * math.pi * hertz * n / rate)))
        for n in range(int(rate * seconds))
    )
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(frames)


class SoundCues:
    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.played: list[str] = []
        self._sounds: dict[str, Any] = {}
        if enabled:
            folder = Path(tempfile.mkdtemp(prefix="bronco-sounds-"))
            from kivy.core.audio import SoundLoader

            for name, (hertz, seconds) in TONES.items():
                path = folder / f"{name}.wav"
                write_tone(path, hertz, seconds)
                self._sounds[name] = SoundLoader.load(str(path))  # None without an audio device

    def play(self, name: str) -> None:
        if not self.enabled:
            return
        self.played.append(name)
        sound = self._sounds.get(name)
        if sound is not None:
            sound.play()
