"""Programming library tags: what a tag on the pad already holds, writing the site's data model,
reading it back, and arming its security. Only a tag whose read-back equals what was written
counts as done; a tag holding someone else's data is never overwritten without an explicit yes."""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum

from rfid.reader import ReaderError, RfidReader, TagLocked, TagNotFound
from rfid.tags.decoding import decode_tag, encode_tag
from rfid.tags.model import TagDataError, TagValue, Usage


class Finding(StrEnum):
    BLANK = "blank"  # nothing written yet: free to program
    SAME_ITEM = "same_item"  # already this item, ours: rewriting changes nothing that matters
    OTHER_ITEM = "other_item"  # ours, but another item: a mix-up on the truck
    FOREIGN = "foreign"  # another library's tag (an ILL item)
    UNREADABLE = "unreadable"  # data in no model we know
    LOCKED = "locked"  # blocks we would write are locked: it cannot be programmed


REFUSED_WITHOUT_CONSENT = {Finding.OTHER_ITEM, Finding.FOREIGN, Finding.UNREADABLE}


class Outcome(StrEnum):
    VERIFIED = "verified"  # written, read back equal, security set
    REFUSED = "refused"  # holds data that needs staff's yes, or cannot be written
    NEEDS_ATTENTION = "needs_attention"  # the write or the read-back failed: try again


class ProgrammingError(ValueError):
    """The request itself is wrong (wrong number of tags for the set, no item)."""


@dataclass(frozen=True)
class Plan:
    """What to write: the item, its owner library (ISIL), the set size, the site's data model."""

    item_id: str
    owner_library: str
    country: str = ""
    parts: int = 1
    scheme: str = "28560-3"
    usage: Usage = Usage.CIRCULATING
    secure: bool = True  # "on shelf": the security marker armed
    lock_blocks: tuple[int, ...] = ()  # HF blocks locked for good once the tag is verified

    def value(self, part: int) -> TagValue:
        return TagValue(self.item_id, self.owner_library, self.country, self.parts, part,
                        self.usage, self.scheme)


@dataclass(frozen=True)
class TagCheck:
    uid: str
    finding: Finding
    detail: str = ""
    held: TagValue | None = None


@dataclass(frozen=True)
class TagResult:
    uid: str  # the tag's UID after the write (on UHF the new EPC)
    part: int
    outcome: Outcome
    finding: Finding
    detail: str = ""
    attempts: int = 0
    written: bytes = b""


def count(n: int, noun: str) -> str:
    """"1 part", "3 parts": staff messages in English, with a real plural."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _is_blank(data: bytes) -> bool:
    return not data or not any(data) or all(b == 0xFF for b in data)


class TagProgrammer:
    def __init__(self, reader: RfidReader, *, retries: int = 2) -> None:
        self.reader = reader
        self.retries = retries

    async def check(self, uid: str, plan: Plan) -> TagCheck:
        """What the tag holds, judged against the plan (nothing is written)."""
        encoded_length = len(encode_tag(plan.value(1), plan.scheme))
        locked = await self.reader.locked_blocks(uid)
        block = self.reader.block_size
        if any(b * block < encoded_length for b in locked):
            return TagCheck(uid, Finding.LOCKED, f"blocks {sorted(locked)} are locked")
        data = await self.reader.read_data(uid)
        if _is_blank(data) or await self.reader.factory_fresh(uid):
            return TagCheck(uid, Finding.BLANK)
        try:
            held = decode_tag(data, plan.scheme if plan.scheme != "28560-3" else "hf-auto")
        except TagDataError as exc:
            return TagCheck(uid, Finding.UNREADABLE, str(exc))
        if held.owner_library and plan.owner_library and \
                isil(held.country, held.owner_library) != isil(plan.country, plan.owner_library):
            return TagCheck(uid, Finding.FOREIGN, f"owned by {held.owner_library}", held)
        if held.item_id != plan.item_id:
            return TagCheck(uid, Finding.OTHER_ITEM, f"holds item {held.item_id}", held)
        return TagCheck(uid, Finding.SAME_ITEM, "", held)

    async def program(self, plan: Plan, uids: list[str], *, overwrite: bool = False) \
            -> list[TagResult]:
        """Write one part per tag, in the order given. `overwrite` is staff's explicit yes to
        replace another item's or an unreadable or foreign tag's data (the caller audits it)."""
        if not plan.item_id:
            raise ProgrammingError("no item barcode")
        if len(uids) != plan.parts:
            on_pad = "1 tag is" if len(uids) == 1 else f"{len(uids)} tags are"
            raise ProgrammingError(f"the item has {count(plan.parts, 'part')} but {on_pad} on "
                                   "the pad")
        if len(set(uids)) != len(uids):
            raise ProgrammingError("the same tag is listed twice")
        if plan.scheme.startswith("gs1") and plan.parts > 1:
            raise ProgrammingError("a GS1 GIAI carries no set information: use 28560-4 for sets")
        return [await self.program_part(plan, uid, part, overwrite=overwrite)
                for part, uid in enumerate(uids, start=1)]

    async def program_part(self, plan: Plan, uid: str, part: int, *, overwrite: bool = False) \
            -> TagResult:
        try:
            found = await self.check(uid, plan)
        except TagNotFound:
            return TagResult(uid, part, Outcome.NEEDS_ATTENTION, Finding.BLANK,
                             "the tag left the pad before it could be read")
        except ReaderError as exc:
            return TagResult(uid, part, Outcome.NEEDS_ATTENTION, Finding.BLANK, str(exc))
        if found.finding is Finding.LOCKED or \
                (found.finding in REFUSED_WITHOUT_CONSENT and not overwrite):
            return TagResult(uid, part, Outcome.REFUSED, found.finding, found.detail)
        try:
            data = encode_tag(plan.value(part), plan.scheme)
        except (ValueError, TagDataError) as exc:
            raise ProgrammingError(str(exc)) from None
        detail = ""
        target = uid  # a UHF tag's identity is its EPC: once a write took, it is the new one
        for attempt in range(1, self.retries + 2):
            now = target
            try:
                await self.reader.write_data(target, data)
                now = target = self.reader.identity_after_write(target, data)
                back = await self.reader.read_data(now)
                if not _equal(back, data):
                    detail = "the read-back differs from what was written"
                    continue
                if not _same_value(decode_tag(back, plan.scheme), plan.value(part)):
                    detail = "the read-back decodes to something else"
                    continue
                await self.reader.set_secured(now, plan.secure)
                if await self.reader.is_secured(now) != plan.secure:
                    detail = "the security marker did not take"
                    continue
                if plan.lock_blocks:  # last: a locked block cannot be rewritten by a retry
                    await self.reader.lock_blocks(now, plan.lock_blocks)
                    if not await self.reader.lock_verified(now, plan.lock_blocks):
                        return TagResult(now, part, Outcome.NEEDS_ATTENTION, found.finding,
                                         "the tag did not lock its blocks", attempt, data)
                return TagResult(now, part, Outcome.VERIFIED, found.finding, "", attempt, data)
            except TagLocked as exc:
                return TagResult(now, part, Outcome.REFUSED, Finding.LOCKED, str(exc), attempt)
            except TagNotFound:
                detail = "the tag left the pad during the write: put it back and try again"
                if await self._took_without_answer(target, data):
                    target = self.reader.identity_after_write(target, data)
                elif not await self._present(target):
                    return TagResult(target, part, Outcome.NEEDS_ATTENTION, found.finding,
                                     detail, attempt)
            except (ReaderError, TagDataError) as exc:
                detail = str(exc)
                if await self._took_without_answer(target, data):
                    target = self.reader.identity_after_write(target, data)
        return TagResult(uid, part, Outcome.NEEDS_ATTENTION, found.finding, detail,
                         self.retries + 1)

    async def _took_without_answer(self, target: str, data: bytes) -> bool:
        """A write whose answer was lost may still have taken: the tag then answers to its new
        identity only (a UHF tag's EPC), and the retry must go to that one."""
        after = self.reader.identity_after_write(target, data)
        return after != target and await self._present(after) and not await self._present(target)

    async def _present(self, uid: str) -> bool:
        try:
            return any(t.uid == uid.upper() for t in await self.reader.inventory())
        except ReaderError:
            return False


def _equal(back: bytes, written: bytes) -> bool:
    """A tag's memory is longer than the data: what follows must be the padding we wrote."""
    return back[:len(written)] == written


def _same_value(back: TagValue, planned: TagValue) -> bool:
    """What a data model carries: GS1 has no country, set or usage; the rest carry all."""
    if back.data_model.startswith("gs1"):
        return back.item_id == planned.item_id and back.owner_library == planned.owner_library
    if isil(back.country, back.owner_library) != isil(planned.country, planned.owner_library):
        return False
    return replace(back, data_model=planned.data_model, owner_library=planned.owner_library,
                   country=planned.country) == planned


def isil(country: str, library: str) -> str:
    """The whole ISIL a tag or a profile names, to compare exactly: 28560-3 keeps the country
    prefix in its own field ("DE" + "705" is DE-705); a library that already starts with its
    country's prefix (our own older tags, profiles) is taken as it is. Case is not significant."""
    library, country = library.strip().upper(), country.strip().upper()
    if not country or library.startswith(country + "-"):
        return library
    return f"{country}-{library}"
