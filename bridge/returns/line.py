"""The return line, one item at a time at the slot: what is there (the slot's tags, and the light
curtain for two items at once), its check-in (through the journal, like any return: queued while
the ILS is away), its security marker, the bin its rules choose, and the belt taking it - or, for
an item that is unreadable or another library's where the slot has a reject path, handing it back.
Several items at once move nothing: the screen asks for one at a time.

Each step is written down before it happens (bridge/returns/log.py), so a restarted station
neither checks in again an item still in the slot nor loses one that was on the belt."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from bridge.circulation.service import ItemResult
from bridge.returns.log import ReturnLog
from bridge.returns.rules import PROBLEM_CODES, Decision, Returned, choose_bin
from bridge.returns.slot import InSlot, SeveralAtOnce, identify
from bridge.returns.sorting import Carried, Conveyor
from rfid.tags.model import TagValue
from station_core.returns_profile import BinRule

CheckIn = Callable[[str], Awaitable[ItemResult]]
SlotTag = tuple[str, TagValue | None]  # a tag's UID and its data (None: it made no sense)
ReadSlot = Callable[[], Awaitable[list[SlotTag]]]
SetSecured = Callable[[list[str]], Awaitable[bool]]
VISIT_GAP_S = 180.0  # items returned closer together than this are one patron's visit


async def _always_secured(_uids: list[str]) -> bool:
    return True


@dataclass(frozen=True)
class Taken:
    item_id: str
    title: str = ""
    decision: Decision | None = None  # None: nothing was taken (several at once)
    checkin: ItemResult | None = None
    one_at_a_time: bool = False
    handed_back: bool = False  # the slot gave it back to the patron
    patron_id: str = ""  # whose loan it was, as the ILS said (receipts only; never logged)


@dataclass
class Visit:
    """What one patron (or one run of returns) put through the slot, for a receipt."""

    items: list[Taken] = field(default_factory=list)
    last: float = 0.0


class ReturnLine:
    def __init__(self, *, read_slot: ReadSlot, check_in: CheckIn, conveyor: Conveyor,
                 rules: list[BinRule], country: str, library: str, log: ReturnLog,
                 location: str = "", set_secured: SetSecured = _always_secured) -> None:
        self.read_slot, self.check_in, self.conveyor = read_slot, check_in, conveyor
        self.rules, self.country, self.library = rules, country, library
        self.location = location  # where this line stands (the ILS's code): holds for here
        self.log, self.set_secured = log, set_secured
        self.visit = Visit()

    async def take(self) -> Taken:
        tags = await self.read_slot()
        seen = identify([value for _uid, value in tags], country=self.country,
                        library=self.library)
        curtain = self.conveyor.last_seen is not None and self.conveyor.last_seen.light_curtain
        if isinstance(seen, SeveralAtOnce) or curtain:
            items = seen.items if isinstance(seen, SeveralAtOnce) else (seen.item_id,)
            return Taken(",".join(items), one_at_a_time=True)
        ref, decision, title, result = await self._decide(seen, [uid for uid, _value in tags])
        self.log.decided(ref, title=title, bin_k=decision.bin, why=decision.why,
                         kind=decision.code or decision.kind)
        if decision.code in ("unreadable", "foreign") and await self.conveyor.hand_back():
            self.log.rejected(ref)
            return self._visited(Taken(seen.item_id, title, decision, result, handed_back=True))
        await self.conveyor.admit(Carried(ref, seen.item_id or "?", decision.bin))
        patron = str(result.extra.get("patron_id") or "") if result else ""
        return self._visited(Taken(seen.item_id, title, decision, result, patron_id=patron))

    async def _decide(self, seen: InSlot, uids: list[str]
                      ) -> tuple[int, Decision, str, ItemResult | None]:
        earlier = self.log.waiting_in_slot(seen.item_id) if seen.item_id else None
        if earlier is not None and earlier.id is not None:
            if earlier.state == "taken":  # decided before a restart: not checked in again
                code = earlier.kind if earlier.kind in PROBLEM_CODES else ""
                return earlier.id, Decision(earlier.bin, "", earlier.why, earlier.kind, code), \
                    earlier.title, None
            # Its check-in was under way at a restart: the journal settles it; local rules sort.
            returned = Returned(item_id=seen.item_id, checked_in=None)
            return earlier.id, choose_bin(self.rules, returned), "", None
        ref = self.log.begin(seen.item_id)
        returned, result = await self._check_in(seen, uids)
        return ref, choose_bin(self.rules, returned), result.title if result else "", result

    async def _check_in(self, seen: InSlot, uids: list[str]
                        ) -> tuple[Returned, ItemResult | None]:
        base = Returned(item_id=seen.item_id, ours=seen.ours, readable=seen.readable,
                        parts_missing=seen.parts_missing)
        if not seen.readable or not seen.ours or seen.parts_missing:
            return base, None  # not ours to check in, or not whole: staff decide at the desk
        result = await self.check_in(seen.item_id)
        secured = True
        if result.ok:  # back in the library's hands: its security is on again
            secured = await self.set_secured(uids)
        # A hold to be picked up elsewhere travels first: transit, not this hold shelf.
        here = bool(result.hold_pickup) and result.hold_pickup in (self.location, "")
        elsewhere = result.hold_pickup if result.hold_pickup and not here else ""
        return Returned(
            item_id=seen.item_id, checked_in=None if result.offline else result.ok,
            refusal=result.message if not result.ok else "", hold=here,
            transit_to=result.in_transit_to or elsewhere, alert=bool(result.extra.get("alert")),
            sort_bin=result.sort_bin, media_type=str(result.extra.get("media_type") or ""),
            collection=str(result.extra.get("collection") or ""), unsecured=not secured), result

    def _visited(self, taken: Taken) -> Taken:
        now = time.monotonic()
        if now - self.visit.last > VISIT_GAP_S:
            self.visit = Visit()
        self.visit.items.append(taken)
        self.visit.last = now
        return taken

    def end_visit(self) -> list[Taken]:
        """The items of the visit now ending (a receipt was asked for, or none wanted)."""
        items = self.visit.items if time.monotonic() - self.visit.last <= VISIT_GAP_S else []
        self.visit = Visit()
        return items
