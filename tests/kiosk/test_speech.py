"""Speech: espeak-ng into the WAV cache (measured with sox), the speaker's interruption, privacy,
tones for secret digits and per-session controls, and headphone detection from ALSA's controls."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

from kiosk.i18n import set_language
from kiosk.speech.jack import JackWatcher, headphones_in
from kiosk.speech.speaker import DEFAULT_RATE, DEFAULT_VOLUME, Speaker
from kiosk.speech.synth import SpeechCache

VOICES = {"en": "en-us", "es": "es-419"}
needs_espeak = pytest.mark.skipif(shutil.which("espeak-ng") is None or shutil.which("sox") is None,
                                  reason="espeak-ng and sox (Debian packages) are not installed")


def sox_stat(wav: Path) -> dict[str, float]:
    """sox's own measurement of a WAV: length in seconds and RMS amplitude."""
    res = subprocess.run(["sox", str(wav), "-n", "stat"], capture_output=True, text=True, check=True)
    values = {}
    for line in res.stderr.splitlines():
        name, _, value = line.partition(":")
        try:
            values[name.strip()] = float(value)
        except ValueError:
            continue
    return {"seconds": values["Length (seconds)"], "rms": values["RMS     amplitude"]}


@needs_espeak
def test_second_request_for_a_prompt_synthesises_nothing(tmp_path: Path) -> None:
    cache = SpeechCache(tmp_path)
    first = cache.wav("Place your items on the pad", "en-us")
    mtime = first.stat().st_mtime_ns
    again = cache.wav("Place your items on the pad", "en-us")
    assert again == first and again.stat().st_mtime_ns == mtime
    assert cache.synthesised == 1
    # Another language, voice or rate is another recording.
    cache.wav("Place your items on the pad", "es-419")
    cache.wav("Place your items on the pad", "en-us", rate=200)
    assert cache.synthesised == 3
    assert len(list(tmp_path.glob("*.wav"))) == 3


@needs_espeak
@pytest.mark.parametrize(("voice", "text"), [
    ("en-us", "Door B05 is open, second column, third row from the top"),
    ("es-419", "La puerta B05 está abierta, segunda columna, tercera fila desde arriba"),
])
def test_each_language_is_heard_not_silence(tmp_path: Path, voice: str, text: str) -> None:
    wav = SpeechCache(tmp_path).wav(text, voice)
    measured = sox_stat(wav)
    assert measured["seconds"] > 2.0  # a sentence, not a click
    assert measured["rms"] > 0.02  # speech level, not silence


def test_a_broken_synthesiser_is_reported_and_nothing_is_cached(tmp_path: Path) -> None:
    fake = tmp_path / "bin" / "espeak-ng"
    fake.parent.mkdir()
    fake.write_text("#!/bin/sh\necho 'voice not found' >&2\nexit 1\n")
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    cache = SpeechCache(tmp_path / "cache", program=str(fake))
    from kiosk.speech.synth import SpeechUnavailable

    with pytest.raises(SpeechUnavailable, match="voice not found"):
        cache.wav("Hello", "xx")
    assert not list((tmp_path / "cache").glob("*"))


def speaker(**kw: object) -> tuple[Speaker, list[tuple[str, float]], list[str]]:
    played: list[tuple[str, float]] = []
    events: list[str] = []

    class Cache:
        def wav(self, text: str, voice: str, rate: int) -> Path:
            return Path(f"{voice}-{rate}-{text}.wav")

    s = Speaker(Cache(), VOICES, play=lambda p, v: played.append((p.name, v)),  # type: ignore[arg-type]
                stop=lambda: events.append("stop"), tone=lambda v: events.append("tone"), **kw)  # type: ignore[arg-type]
    return s, played, events


def test_nothing_is_said_until_speech_mode_starts() -> None:
    s, played, _ = speaker()
    s.say("Welcome")
    assert played == [] and s.log.spoken == []
    s.request()  # the help key
    s.say("Welcome")
    assert played == [("en-us-160-Welcome.wav", DEFAULT_VOLUME)]


def test_private_details_only_go_into_headphones() -> None:
    s, _, _ = speaker(always=True)
    s.say("Your account has 2 loans.", private="Maria, your account has 2 loans: Beloved.")
    assert s.log.spoken[-1] == "Your account has 2 loans."
    s.headphones_changed(True)
    s.say("Your account has 2 loans.", private="Maria, your account has 2 loans: Beloved.")
    assert s.log.spoken[-1] == "Maria, your account has 2 loans: Beloved."


def test_a_digit_is_a_tone_and_never_a_word() -> None:
    s, _, events = speaker(always=True)
    for _digit in "1234":
        s.digit()
    assert s.log.tones == 4 and s.log.spoken == []
    assert events.count("tone") == 4


def test_a_new_prompt_interrupts_the_one_still_being_made() -> None:
    pending: list = []
    s, played, events = speaker(always=True, deliver=pending.append)
    s.say("A long list of instructions")
    s.say("Renew all, button, 3 of 5")  # the patron pressed Down before the first was ready
    for work in pending:
        work()
    assert [p for p, _v in played] == ["en-us-160-Renew all, button, 3 of 5.wav"]
    assert s.log.interrupted == 1 and events.count("stop") >= 2


def test_repeat_volume_rate_and_their_reset_at_the_end_of_a_session() -> None:
    s, played, _ = speaker()
    s.request()
    s.say("Place your items on the pad")
    s.repeat()
    assert played[-1][0] == played[-2][0]
    s.louder()
    s.louder()
    s.faster()
    assert s.volume == pytest.approx(DEFAULT_VOLUME + 0.2) and s.rate == DEFAULT_RATE + 20
    assert played[-1] == ("en-us-180-Speech rate 180 words a minute.wav", pytest.approx(0.9))
    s.end_session()
    assert (s.volume, s.rate, s.active) == (DEFAULT_VOLUME, DEFAULT_RATE, False)


def test_speech_follows_the_screen_language() -> None:
    s, played, _ = speaker(always=True)
    set_language("es")
    try:
        s.language = "es"
        s.louder()
    finally:
        set_language("en")
    assert played[-1][0].startswith("es-419-160-Volumen 8 de 10")


AMIXER = """numid=3,iface=CARD,name='Headphone Jack'
  ; type=BOOLEAN,access=r-------,values=1
  : values={state}
numid=4,iface=MIXER,name='Headphone Playback Switch'
  ; type=BOOLEAN,access=rw------,values=2
  : values=on,on
numid=1,iface=CARD,name='Line Out Jack'
  ; type=BOOLEAN,access=r-------,values=1
  : values=on
"""


def test_the_jack_state_is_read_from_the_card_control() -> None:
    assert headphones_in(AMIXER.format(state="on")) is True
    assert headphones_in(AMIXER.format(state="off")) is False
    # A card that cannot sense its jack (the Pi's own 3.5 mm output): unknown, not "unplugged".
    assert headphones_in("numid=1,iface=MIXER,name='PCM Playback Volume'\n  : values=-2000\n") \
        is None


def test_plugging_headphones_in_is_noticed_by_polling_amixer(tmp_path: Path) -> None:
    state = tmp_path / "state"
    fake = tmp_path / "amixer"
    # An amixer with the card's controls; `state` holds the switch position.
    fake.write_text(f"#!/bin/sh\nprintf '%s' \"$(sed \"s/{{state}}/$(cat {state})/\" "
                    f"{tmp_path / 'contents'})\"\n")
    (tmp_path / "contents").write_text(AMIXER)
    fake.chmod(0o755)
    seen: list[bool] = []
    watcher = JackWatcher(seen.append, card="0", program=str(fake))
    state.write_text("off")
    watcher.poll_once()
    assert seen == []  # unplugged at start-up: nothing to announce
    state.write_text("on")
    watcher.poll_once()
    watcher.poll_once()
    state.write_text("off")
    watcher.poll_once()
    assert seen == [True, False]
    assert os.access(fake, os.X_OK)


def test_the_cache_lives_in_memory_and_keeps_to_its_limit(tmp_path: Path, monkeypatch) -> None:
    """On a Pi the WAVs go to the kiosk's runtime folder (RAM), not the SD card, and the least
    recently used are pruned so /run never fills."""
    from kiosk.speech.synth import default_cache_dir

    monkeypatch.delenv("BRONCO_SPEECH_CACHE", raising=False)
    monkeypatch.setenv("RUNTIME_DIRECTORY", "/run/bronco-kiosk")
    assert default_cache_dir() == Path("/run/bronco-kiosk/speech")
    fake = tmp_path / "espeak-ng"  # writes a 10 KB "WAV" to the file after -w
    fake.write_text('#!/bin/sh\nwhile [ "$1" != "-w" ]; do shift; done\n'
                    'head -c 10240 /dev/zero > "$2"\n')
    fake.chmod(0o755)
    cache = SpeechCache(tmp_path / "cache", program=str(fake), limit_bytes=35 * 1024)
    first = cache.wav("one", "en-us")
    cache.wav("two", "en-us")
    cache.wav("three", "en-us")
    os.utime(first, ns=(0, first.stat().st_mtime_ns))  # long unused...
    cache.wav("one", "en-us")  # ...until now: it stays, "two" is the oldest
    cache.wav("four", "en-us")
    left = {p.name for p in (tmp_path / "cache").glob("*.wav")}
    assert sum(p.stat().st_size for p in (tmp_path / "cache").glob("*.wav")) <= 35 * 1024
    assert cache.key("two", "en-us", 160) + ".wav" not in left
    assert {cache.key(t, "en-us", 160) + ".wav" for t in ("one", "four")} <= left
