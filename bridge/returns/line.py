"""The return line, one item at a time: what is in the slot, its check-in (through the journal,
like any return: queued while the ILS is away), the bin its rules choose, and the belt carrying
it there. Several items at once move nothing: the screen asks for one at a time."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bridge.circulation.service import ItemResult
from bridge.returns.log import ReturnLog
from bridge.returns.rules import Decision, Returned, choose_bin
from bridge.returns.slot import InSlot, SeveralAtOnce, identify
from bridge.returns.sorting import SortController, Sorted, SortOutcome
from rfid.tags.model import TagValue
from station_core.returns_profile import BinRule

CheckIn = Callable[[str], Awaitable[ItemResult]]
ReadSlot = Callable[[], Awaitable[list[TagValue | None]]]


@dataclass(frozen=True)
class Taken:
    item_id: str
    title: str = ""
    decision: Decision | None = None  # None: nothing was taken (several at once)
    sorted: SortOutcome | None = None
    checkin: ItemResult | None = None
    one_at_a_time: bool = False


class ReturnLine:
    def __init__(self, *, read_slot: ReadSlot, check_in: CheckIn, controller: SortController,
                 rules: list[BinRule], country: str, library: str, location: str = "",
                 log: ReturnLog | None = None) -> None:
        self.read_slot, self.check_in, self.controller = read_slot, check_in, controller
        self.rules, self.country, self.library = rules, country, library
        self.location = location  # where this line stands (the ILS's code): holds for here
        self.log = log

    async def take(self) -> Taken:
        seen = identify(await self.read_slot(), country=self.country, library=self.library)
        if isinstance(seen, SeveralAtOnce):
            return Taken(",".join(seen.items), one_at_a_time=True)
        returned, result = await self._check_in(seen)
        decision = choose_bin(self.rules, returned)
        moved = await self.controller.sort(decision.bin)
        title = result.title if result else ""
        if self.log is not None and moved.result is Sorted.SORTED:
            self.log.sorted_into(decision.bin, seen.item_id, title, decision.why)
        return Taken(seen.item_id, result.title if result else "", decision, moved, result)

    async def _check_in(self, seen: InSlot) -> tuple[Returned, ItemResult | None]:
        base = Returned(item_id=seen.item_id, ours=seen.ours, readable=seen.readable,
                        parts_missing=seen.parts_missing)
        if not seen.readable or not seen.ours or seen.parts_missing:
            return base, None  # not ours to check in, or not whole: staff decide at the desk
        result = await self.check_in(seen.item_id)
        # A hold to be picked up elsewhere travels first: transit, not this hold shelf.
        here = bool(result.hold_pickup) and result.hold_pickup in (self.location, "")
        elsewhere = result.hold_pickup if result.hold_pickup and not here else ""
        return Returned(
            item_id=seen.item_id, checked_in=None if result.offline else result.ok,
            refusal=result.message if not result.ok else "", hold=here,
            transit_to=result.in_transit_to or elsewhere, alert=bool(result.extra.get("alert")),
            sort_bin=result.sort_bin, media_type=str(result.extra.get("media_type") or ""),
            collection=str(result.extra.get("collection") or "")), result
