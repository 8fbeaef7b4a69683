"""Text to WAV with espeak-ng, cached on disk by text, voice and rate: a prompt is synthesised
once, then every later request for it is a file lookup."""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

log = logging.getLogger(__name__)
ESPEAK = "espeak-ng"


class SpeechUnavailable(Exception):
    """espeak-ng is missing or failed: the kiosk goes on showing text (and says so in its log)."""


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "bronco" / "speech"


class SpeechCache:
    def __init__(self, folder: Path | None = None, program: str = ESPEAK) -> None:
        self.folder = folder or default_cache_dir()
        self.program = program
        self.synthesised = 0  # how many times espeak-ng ran (the cache test counts these)

    def key(self, text: str, voice: str, rate: int) -> str:
        return hashlib.sha256(f"{voice}\0{rate}\0{text}".encode()).hexdigest()[:32]

    def wav(self, text: str, voice: str, rate: int = 160) -> Path:
        """The WAV of `text` spoken by `voice` at `rate` words a minute, made if not cached."""
        target = self.folder / f"{self.key(text, voice, rate)}.wav"
        if target.is_file() and target.stat().st_size > 44:  # more than a WAV header
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
        return target
