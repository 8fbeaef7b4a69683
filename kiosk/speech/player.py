"""Plays speech WAVs and the digit tone through Kivy's audio (SDL2 on the Pi), one at a time."""

from __future__ import annotations

import logging
import tempfile
from collections import OrderedDict
from pathlib import Path
from typing import Any

from kiosk.sounds import write_tone

log = logging.getLogger(__name__)
KEEP = 64  # loaded sounds kept ready (the prompts of a few screens)


class KivyPlayer:
    def __init__(self) -> None:
        self._loaded: OrderedDict[Path, Any] = OrderedDict()
        self._current: Any = None
        self.played: list[Path] = []
        folder = Path(tempfile.mkdtemp(prefix="bronco-tones-"))
        self._tone = folder / "digit.wav"
        write_tone(self._tone, 1046.5, 0.08)  # a short high C: "a key was pressed"

    def _sound(self, path: Path) -> Any:
        from kivy.core.audio import SoundLoader

        sound = self._loaded.pop(path, None) or SoundLoader.load(str(path))
        if sound is not None:
            self._loaded[path] = sound
            while len(self._loaded) > KEEP:
                self._loaded.popitem(last=False)[1].unload()
        return sound

    def play(self, path: Path, volume: float) -> None:
        self.stop()
        self.played.append(path)
        sound = self._sound(path)
        if sound is None:  # no audio device: the words are still on screen
            log.warning("no audio output for speech")
            return
        sound.volume = volume
        sound.play()
        self._current = sound

    def tone(self, volume: float) -> None:
        self.play(self._tone, volume)

    def stop(self) -> None:
        if self._current is not None:
            self._current.stop()
            self._current = None
