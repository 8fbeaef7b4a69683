"""Wrong PINs, counted in the database (bridge/access/attempts.py), against two targets at once:

- the card: after `max_failures` it is locked for `lock_s`, its right PIN refused too, until the
  time passes or staff unlock it. The key is a keyed hash of the barcode, never the barcode.
- the kiosk the PIN was typed at: wrong PINs and unknown cards across every card (PIN spraying:
  1234 tried on twenty cards) make that kiosk wait, doubling, after `kiosk_free` in an hour. Other
  kiosks are untouched, and a right PIN does not reset it (a sprayer holding their own card must
  not be able to wipe the count).

A kiosk made to wait, or `alert_per_hour` wrong PINs across the station, raise one staff alert an
hour (the hub alerts on it too). Each guess is counted before the ILS checks it, so simultaneous
guesses cannot pass the limit together."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bridge.access.attempts import AttemptBook, Backoff, Lock, Target
from bridge.access.hashing import keyed_hash

KIND = "card"
KIOSK_KIND = "pin-kiosk"
ALERT_KIND = "pin-alert"


class CardLocked(Exception):
    def __init__(self, retry_after_s: float) -> None:
        super().__init__("card locked")
        self.retry_after_s = retry_after_s


class KioskWait(Exception):
    """Too many wrong PINs at this kiosk, across cards: wait before the next sign-in."""

    def __init__(self, retry_after_s: float) -> None:
        super().__init__("wrong PINs at this kiosk")
        self.retry_after_s = retry_after_s


@dataclass(frozen=True)
class Guess:
    card: Target
    kiosk: Target
    locks_card: bool  # this guess, if wrong, is the one that locks the card
    slows_kiosk: bool  # this guess, if wrong, makes the kiosk wait


class PinGuard:
    def __init__(self, attempts: AttemptBook, key: bytes, *, max_failures: int, lock_s: float,
                 audit: Callable[[str, str], None], kiosk_free: int = 10,
                 kiosk_max_wait_s: float = 60.0, alert_per_hour: int = 20,
                 alert: Callable[[int], None] | None = None) -> None:
        self.attempts, self._key = attempts, key
        self.policy = Lock(max_failures, lock_s)
        self.kiosk_policy = Backoff(free=kiosk_free, first_wait_s=2.0, max_wait_s=kiosk_max_wait_s)
        self.alert_per_hour = alert_per_hour
        self.audit = audit  # (action, detail)
        self.alert = alert  # (wrong PINs in the last hour)

    def card_key(self, card: str) -> str:
        return f"{KIND}:{keyed_hash(self._key, card)[:48]}"

    async def begin(self, card: str, kiosk: str) -> Guess:
        """Count a guess before it is checked. Raises CardLocked for a locked card, KioskWait for
        a kiosk that must wait; nothing is counted then."""
        label = f"card ...{card[-4:]}" if len(card) > 4 else "card"
        guess_card = Target(self.card_key(card), KIND, self.policy, label)
        guess_kiosk = Target(f"{KIOSK_KIND}:{kiosk}"[:96], KIOSK_KIND, self.kiosk_policy,
                             kiosk[:64], window_s=3600)
        wait = await asyncio.to_thread(self.attempts.retry_after, guess_card.key)
        if wait:
            raise CardLocked(wait)  # the card's own lock is told before any kiosk wait
        reserved = await asyncio.to_thread(self.attempts.reserve, guess_card, guess_kiosk)
        if reserved.wait:
            locked = await asyncio.to_thread(self.attempts.retry_after, guess_card.key)
            raise CardLocked(locked) if locked else KioskWait(reserved.wait)
        counted = await asyncio.to_thread(self.attempts.retry_after, guess_card.key)
        slowed = await asyncio.to_thread(self.attempts.retry_after, guess_kiosk.key)
        return Guess(guess_card, guess_kiosk, locks_card=counted > 0, slows_kiosk=slowed > 0)

    async def wrong(self, guess: Guess) -> None:
        """The guess was wrong (it is already counted); raise CardLocked if it locked the card."""
        await asyncio.to_thread(self._station_budget, guess.slows_kiosk)
        if guess.locks_card:
            self.audit("card_locked", f"{guess.card.label}: {self.policy.max_failures} wrong PINs")
            raise CardLocked(await asyncio.to_thread(self.attempts.retry_after, guess.card.key))

    async def unknown_card(self, guess: Guess) -> None:
        """No such card: it counts at the kiosk (card numbers are not free to try), not as a
        lock on a card nobody holds."""
        await asyncio.to_thread(self.attempts.refund, guess.card)
        await asyncio.to_thread(self._station_budget, guess.slows_kiosk)

    async def right(self, guess: Guess) -> None:
        await asyncio.to_thread(self.attempts.succeeded, guess.card.key)
        await asyncio.to_thread(self.attempts.refund, guess.kiosk)

    async def not_checked(self, guess: Guess) -> None:
        """The PIN was never checked (the ILS did not answer): nothing counted."""
        await asyncio.to_thread(self.attempts.refund, guess.card, guess.kiosk)

    def _station_budget(self, kiosk_slowed: bool) -> None:
        """Staff hear of spraying when a kiosk starts waiting, or when the station as a whole
        sees `alert_per_hour` wrong PINs (spread over kiosks); once an hour."""
        hour_ago = datetime.now(UTC) - timedelta(hours=1)
        failures = self.attempts.failures_since(KIOSK_KIND, hour_ago)
        if not kiosk_slowed and failures < self.alert_per_hour:
            return
        if self.attempts.retry_after(ALERT_KIND) > 0:
            return
        self.attempts.failed(ALERT_KIND, ALERT_KIND, Lock(1, 3600))  # once an hour
        self.audit("pin_alert", f"{failures} wrong PINs across cards in the last hour")
        if self.alert is not None:
            self.alert(failures)
