"""Text to WAV with espeak-ng, cached on disk by text, voice and rate: a prompt is synthesised
once, then every later request for it is a file lookup."""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

log = logging.getLogger(__name__)
ESPEAK = "espeak-ng"


class SpeechUnavailable(Exception):
    """espeak-ng is missing or failed: the kiosk goes on showing text (and says so in its log)."""


CACHE_LIMIT_BYTES = 32 * 1024 * 1024  # a few hundred phrases; /run is a small share of RAM


def default_cache_dir() -> Path:
    """In memory, not on the SD card: every phrase is made again in a second by espeak-ng, while
    each WAV written to the card wears it. The kiosk's unit gives it /run/bronco-kiosk (systemd's
    RUNTIME_DIRECTORY); BRONCO_SPEECH_CACHE names a folder on disk for whoever wants one."""
    if chosen := os.environ.get("BRONCO_SPEECH_CACHE"):
        return Path(chosen)
    for runtime in (os.environ.get("RUNTIME_DIRECTORY", "").split(":")[0],
                    os.environ.get("XDG_RUNTIME_DIR", "")):
        if runtime:
            return Path(runtime) / "speech"
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "bronco" / "speech"


class SpeechCache:
    def __init__(self, folder: Path | None = None, program: str = ESPEAK,
                 limit_bytes: int = CACHE_LIMIT_BYTES) -> None:
        self.folder = folder or default_cache_dir()
        self.program = program
        self.limit_bytes = limit_bytes
        self.synthesised = 0  # how many times espeak-ng ran (the cache test counts these)

    def key(self, text: str, voice: str, rate: int) -> str:
        return hashlib.sha256(f"{voice}\0{rate}\0{text}".encode()).hexdigest()[:32]

    def wav(self, text: str, voice: str, rate: int = 160) -> Path:
        """The WAV of `text` spoken by `voice` at `rate` words a minute, made if not cached."""
        target = self.folder / f"{self.key(text, voice, rate)}.wav"
        if target.is_file() and target.stat().st_size > 44:  # more than a WAV header
            # Used now (its access time; the file itself is unchanged): the last to be pruned.
            os.utime(target, ns=(time.time_ns(), target.stat().st_mtime_ns))
            return target
        if shutil.which(self.program) is None:
            raise SpeechUnavailable(f"{self.program} is not installed")
        self.folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.folder, suffix=".part")
        os.close(fd)
        try:
            # Text goes on stdin (-b 1: UTF-8) so no prompt can be read as an option.
            res = subprocess.run([self.program, "-v", voice, "-s", str(rate), "-b", "1",
                                  "-w", tmp, "--stdin"], input=text.encode(), capture_output=True,
                                 timeout=30, check=False)
            if res.returncode != 0 or Path(tmp).stat().st_size <= 44:
                raise SpeechUnavailable(f"{self.program} failed for voice {voice}: "
                                        f"{res.stderr.decode(errors='replace').strip()[:200]}")
            Path(tmp).replace(target)  # atomic: a reader never sees half a file
        finally:
            Path(tmp).unlink(missing_ok=True)
        self.synthesised += 1
        self._prune(keep=target)
        return target

    def _prune(self, keep: Path) -> None:
        """Least recently used phrases go once the cache passes its limit (it lives in RAM)."""
        files = []
        for path in self.folder.glob("*.wav"):
            try:
                info = path.stat()
            except FileNotFoundError:
                continue
            files.append((info.st_atime, info.st_size, path))
        total = sum(size for _, size, _ in files)
        for _, size, path in sorted(files):
            if total <= self.limit_bytes:
                break
            if path != keep:
                path.unlink(missing_ok=True)
                total -= size
