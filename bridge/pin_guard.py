"""Wrong PINs, counted per card in the database (bridge/attempts.py): after `max_failures` the card
is locked for `lock_s` - its right PIN refused too - until the time passes or staff unlock it.
Only the card guessed at is locked; the key is a keyed hash of its barcode, never the barcode."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from bridge.attempts import AttemptBook, Lock
from bridge.hashing import keyed_hash

KIND = "card"


class CardLocked(Exception):
    def __init__(self, retry_after_s: float) -> None:
        super().__init__("card locked")
        self.retry_after_s = retry_after_s


class PinGuard:
    def __init__(self, attempts: AttemptBook, key: bytes, *, max_failures: int, lock_s: float,
                 audit: Callable[[str, str], None]) -> None:
        self.attempts, self._key = attempts, key
        self.policy = Lock(max_failures, lock_s)
        self.audit = audit  # (action, detail)

    def card_key(self, card: str) -> str:
        return f"{KIND}:{keyed_hash(self._key, card)[:48]}"

    async def check(self, card: str) -> None:
        """Raise CardLocked while the card is locked (before any PIN is looked at)."""
        wait = await asyncio.to_thread(self.attempts.retry_after, self.card_key(card))
        if wait:
            raise CardLocked(wait)

    async def wrong(self, card: str) -> None:
        """Count a wrong PIN; raise CardLocked if that locked the card."""
        label = f"card ...{card[-4:]}" if len(card) > 4 else "card"
        wait = await asyncio.to_thread(self.attempts.failed, self.card_key(card), KIND, self.policy,
                                       label=label)
        if wait:
            self.audit("card_locked", f"{label}: {self.policy.max_failures} wrong PINs")
            raise CardLocked(wait)

    async def right(self, card: str) -> None:
        await asyncio.to_thread(self.attempts.succeeded, self.card_key(card))
