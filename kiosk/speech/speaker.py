"""What the kiosk says, and when: the speech mode, interruption, repeat, the patron's volume and
rate, and privacy (PIN digits are tones; private details only go into headphones).

Kivy-free: synthesis, playback and threading come in as callables, so the same logic runs in the
app, in the screenshot walk and in plain tests.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from kiosk.i18n import gettext as _
from kiosk.speech.synth import SpeechCache, SpeechUnavailable

log = logging.getLogger(__name__)

DEFAULT_VOLUME, VOLUME_STEP, VOLUMES = 0.7, 0.1, (0.2, 1.0)
DEFAULT_RATE, RATE_STEP, RATES = 160, 20, (100, 260)  # espeak-ng words per minute


@dataclass
class SpeechLog:
    """Everything said or toned, in order (tests read it; it never goes to a log file)."""

    spoken: list[str] = field(default_factory=list)
    tones: int = 0
    interrupted: int = 0


class Speaker:
    def __init__(
        self, cache: SpeechCache | None, voices: dict[str, str], *,
        play: Callable[[Path, float], None] = lambda path, volume: None,
        stop: Callable[[], None] = lambda: None,
        tone: Callable[[float], None] = lambda volume: None,
        background: Callable[[Callable[[], None]], None] = lambda work: work(),
        deliver: Callable[[Callable[[], None]], None] = lambda work: work(),
        always: bool = False,
    ) -> None:
        self.cache, self.voices = cache, voices
        self._play, self._stop, self._tone = play, stop, tone
        self._background, self._deliver = background, deliver
        self.always = always
        self.headphones = False
        self.help_requested = False
        self.language = "en"
        self.volume, self.rate = DEFAULT_VOLUME, DEFAULT_RATE
        self.last = ""
        self.log = SpeechLog()
        self._generation = 0
        self.on_change: Callable[[], None] = lambda: None

    # -- the mode --------------------------------------------------------------------------------
    @property
    def active(self) -> bool:
        return self.always or self.headphones or self.help_requested

    def headphones_changed(self, plugged: bool) -> None:
        was = self.active
        self.headphones = plugged
        if not self.active:
            self.silence()
        if was != self.active:
            self.on_change()

    def request(self) -> None:
        """The help key: speech mode on until the session ends."""
        was = self.active
        self.help_requested = True
        if not was:
            self.on_change()

    def end_session(self, farewell: tuple[str, str] | None = None) -> None:
        """Volume and rate back to the defaults for the next patron (508 402.3.2); a speech mode
        the help key started ends too, after `farewell` (what the goodbye screen says)."""
        if farewell is not None:
            self.say(*farewell)
        self.volume, self.rate = DEFAULT_VOLUME, DEFAULT_RATE
        was = self.active
        self.help_requested = False
        self.last = ""
        if was and not self.active:
            self.on_change()  # the farewell plays on; the next key or prompt stops it

    # -- speaking --------------------------------------------------------------------------------
    def say(self, text: str, private: str | None = None) -> None:
        """Speak `text` (or `private`, which holds names, titles or fines, when only the patron
        can hear it), interrupting whatever was being said."""
        if not self.active:
            return
        spoken = private if private is not None and self.headphones else text
        spoken = " ".join(spoken.split())
        if not spoken:
            return
        self.last = spoken
        self._speak(spoken)

    def repeat(self) -> None:
        if self.active and self.last:
            self._speak(self.last)

    def digit(self) -> None:
        """A key of a PIN or pickup code: a tone, never the digit (508 402.2 exception 4)."""
        if self.active:
            self.silence()
            self.log.tones += 1
            self._tone(self.volume)

    def silence(self) -> None:
        self._generation += 1
        self._stop()

    def _speak(self, text: str) -> None:
        self.silence()
        self.log.spoken.append(text)
        generation = self._generation
        voice, rate, cache = self.voices.get(self.language, "en-us"), self.rate, self.cache
        if cache is None:
            return

        def synthesise() -> None:
            try:
                wav = cache.wav(text, voice, rate)
            except SpeechUnavailable as exc:
                log.warning("speech unavailable: %s", exc)
                return
            self._deliver(lambda: self._play_if_current(generation, wav))

        self._background(synthesise)

    def _play_if_current(self, generation: int, wav: Path) -> None:
        if generation == self._generation:  # a newer key press or prompt has spoken since
            self._play(wav, self.volume)
        else:
            self.log.interrupted += 1

    # -- the patron's controls -------------------------------------------------------------------
    def louder(self) -> None:
        self.volume = min(VOLUMES[1], round(self.volume + VOLUME_STEP, 2))
        self._say_volume()

    def quieter(self) -> None:
        self.volume = max(VOLUMES[0], round(self.volume - VOLUME_STEP, 2))
        self._say_volume()

    def faster(self) -> None:
        self.rate = min(RATES[1], self.rate + RATE_STEP)
        self.say(_("Speech rate {rate} words a minute").format(rate=self.rate))

    def slower(self) -> None:
        self.rate = max(RATES[0], self.rate - RATE_STEP)
        self.say(_("Speech rate {rate} words a minute").format(rate=self.rate))

    def _say_volume(self) -> None:
        self.say(_("Volume {level} of 10").format(level=round(self.volume * 10)))
