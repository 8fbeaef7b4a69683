"""Technical services' tag programming at the station: the item looked up over SIP2 (its title to
confirm), the tags on a programming pad written part by part with the site's data model and
verified by read-back, each verified tag recorded, an overwrite of someone else's data audited."""

from __future__ import annotations

import io
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from bridge.db.models import ProgrammedTag
from ils.adapter import IlsAdapter
from ils.errors import IlsError, IlsRejected, ProtocolError
from rfid.programming import (
    Finding,
    Outcome,
    Plan,
    ProgrammingError,
    TagProgrammer,
    TagResult,
    count,
)
from rfid.reader import ReaderError, RfidReader
from rfid.tags.decoding import encode_tag
from rfid.tags.model import TagDataError
from station_core.profile import RfidReaderSettings, TaggingSettings
from station_core.spreadsheet import SafeWriter

WRITE_SCHEME = {"hf-auto": "28560-3"}  # auto-detection reads either; new tags get the -3 model
UHF_SCHEMES = ("28560-4", "gs1", "gs1-sgtin")


class TaggingError(Exception):
    """Staff are told plainly why nothing was written (no pad, wrong tag count, ILS away)."""


class TaggingInputError(TaggingError):
    """What staff asked for cannot be written at all (a barcode the data model cannot hold)."""

PROBE_ITEM = "1"  # what the pad is checked against when staff named no item: fits every model


@dataclass(frozen=True)
class PadTag:
    uid: str
    finding: str
    detail: str
    item_id: str = ""


class TagStation:
    def __init__(self, engine: Engine, settings: TaggingSettings, adapter: IlsAdapter,
                 readers: dict[str, tuple[RfidReaderSettings, RfidReader]],
                 audit: Callable[[str, str, str, str], None]) -> None:
        self.engine = engine
        self.settings = settings
        self.adapter = adapter
        self.readers = readers  # programming pads only
        self.audit = audit

    def _pad(self, reader_id: str | None) -> tuple[RfidReaderSettings, RfidReader]:
        if not self.readers:
            raise TaggingError("this station has no programming pad (an RFID reader with "
                               "role = \"programming\")")
        if reader_id is None:
            return next(iter(self.readers.values()))
        if reader_id not in self.readers:
            raise TaggingError(f"no programming pad called {reader_id!r}")
        return self.readers[reader_id]

    def plan_scheme(self, reader_id: str) -> str:
        settings = self.readers[reader_id][0]
        scheme = WRITE_SCHEME.get(settings.tag_scheme, settings.tag_scheme)
        return "gs1-sgtin" if scheme == "gs1" and self.settings.gs1_item_reference else scheme

    def plan(self, settings: RfidReaderSettings, item_id: str, parts: int) -> Plan:
        scheme = self.plan_scheme(settings.id)
        owner = {"gs1": self.settings.gs1_company_prefix,
                 "gs1-sgtin": f"{self.settings.gs1_company_prefix}."
                              f"{self.settings.gs1_item_reference}"}.get(
            scheme, self.settings.owner_library)
        if not owner.strip("."):
            raise TaggingError("set [tagging] gs1_company_prefix in the profile before writing "
                               "GS1 tags" if scheme.startswith("gs1") else
                               "set [tagging] owner_library (the library's ISIL) in the profile "
                               "before programming tags")
        plan = Plan(item_id, owner, self.settings.country, parts=parts, scheme=scheme,
                    secure=self.settings.secure, lock_blocks=tuple(self.settings.lock_blocks))
        try:
            encode_tag(plan.value(1), plan.scheme)
        except (ValueError, TagDataError) as exc:
            raise TaggingInputError(f"item {item_id} cannot be written in the {scheme} data "
                                    f"model: {exc}") from None
        return plan

    async def look_up(self, item_id: str) -> str:
        """The item's title from the ILS, for staff to confirm."""
        return (await self.item(item_id))[0]

    async def item(self, item_id: str) -> tuple[str, int | None]:
        """The item's title, and its number of pieces where this ILS sends one."""
        try:
            info = await self.adapter.item_info(item_id)
        except IlsRejected as exc:
            raise TaggingError(f"the ILS does not know item {item_id}: {exc}") from None
        except (IlsError, ProtocolError) as exc:
            raise TaggingError(f"the ILS could not be asked about {item_id}: {exc}") from None
        pieces = dict(info.extra).get(self.settings.parts_field) if self.settings.parts_field \
            else None
        parts = int(pieces) if pieces and pieces.isdigit() and 1 <= int(pieces) <= 255 else None
        return info.title, parts

    async def on_pad(self, reader_id: str | None, item_id: str = "") -> list[PadTag]:
        """The tags on the pad and what each holds (nothing is written)."""
        settings, reader = self._pad(reader_id)
        try:
            uids = sorted(t.uid for t in await reader.inventory())
            plan = self.plan(settings, item_id or PROBE_ITEM, 1)
            programmer = TagProgrammer(reader)
            out = []
            for uid in uids:
                found = await programmer.check(uid, plan)
                out.append(PadTag(uid, found.finding.value, found.detail,
                                  found.held.item_id if found.held else ""))
            return out
        except ReaderError as exc:
            raise TaggingError(f"the pad {settings.id} did not answer: {exc}") from None

    async def program(self, item_id: str, parts: int | None, *, staff: str,
                      reader_id: str | None = None, overwrite: bool = False,
                      next_blank: bool = False) -> dict[str, Any]:
        """Program the tags on the pad for one item; with `next_blank` (conversion of a stack),
        only the first blank tag on the pad, paired with this barcode. `parts`: as staff entered
        it, or None for what the ILS says (else 1); staff and ILS disagreeing is refused."""
        settings, reader = self._pad(reader_id)
        title, ils_parts = await self.item(item_id)
        if parts is not None and ils_parts is not None and parts != ils_parts:
            raise TaggingError(f"the ILS says item {item_id} has {count(ils_parts, 'piece')}, "
                               f"not {parts}: check the set")
        parts = parts or ils_parts or 1
        plan = self.plan(settings, item_id, parts)
        try:
            uids = sorted(t.uid for t in await reader.inventory())
            if next_blank:
                uids = await self._first_blank(reader, plan, uids)
            results = await TagProgrammer(reader).program(plan, uids, overwrite=overwrite)
        except ProgrammingError as exc:
            raise TaggingError(str(exc)) from None
        except ReaderError as exc:
            raise TaggingError(f"the pad {settings.id} did not answer: {exc}") from None
        self._record(plan, results, staff)
        return {"item_id": item_id, "title": title, "parts": parts,
                "done": all(r.outcome is Outcome.VERIFIED for r in results),
                "tags": [_shown(r) for r in results]}

    @staticmethod
    async def _first_blank(reader: RfidReader, plan: Plan, uids: list[str]) -> list[str]:
        if plan.parts != 1:
            raise TaggingError("a conversion stack pairs one tag with each barcode: program sets "
                               "one at a time")
        programmer = TagProgrammer(reader)
        for uid in uids:
            if (await programmer.check(uid, plan)).finding is Finding.BLANK:
                return [uid]
        raise TaggingError("no blank tag is left on the pad")

    def _record(self, plan: Plan, results: list[TagResult], staff: str) -> None:
        now = datetime.now(UTC)
        with Session(self.engine) as db:
            for result in results:
                if result.outcome is not Outcome.VERIFIED:
                    continue
                overwrote = "" if result.finding in (Finding.BLANK, Finding.SAME_ITEM) \
                    else result.finding.value
                db.add(ProgrammedTag(item_id=plan.item_id, tag_uid=result.uid,
                                     data_model=plan.scheme, part=result.part, parts=plan.parts,
                                     staff=staff, programmed_at=now, overwrote=overwrote))
                if overwrote:
                    self.audit(staff, "tag_overwritten", plan.item_id,
                               f"tag {result.uid} held {overwrote.replace('_', ' ')} data")
            db.commit()

    # -- conversion statistics ---------------------------------------------------------------------

    def converted(self, first: date, last: date) -> dict[str, Any]:
        """Items (sets count once) and tags programmed per day and per staff member."""
        start = datetime.combine(first, datetime.min.time()).astimezone(UTC)
        end = datetime.combine(last + timedelta(days=1), datetime.min.time()).astimezone(UTC)
        with Session(self.engine) as db:
            rows = db.exec(select(ProgrammedTag).where(
                col(ProgrammedTag.programmed_at) >= start,
                col(ProgrammedTag.programmed_at) < end)).all()
        by_day: Counter[str] = Counter()
        by_staff: Counter[str] = Counter()
        tags = Counter[str]()
        for row in rows:
            moment = row.programmed_at if row.programmed_at.tzinfo else \
                row.programmed_at.replace(tzinfo=UTC)
            day = moment.astimezone().date().isoformat()
            tags[day] += 1
            if row.part == 1:  # an item once, however many parts
                by_day[day] += 1
                by_staff[row.staff] += 1
        days = [(first + timedelta(days=n)).isoformat() for n in range((last - first).days + 1)]
        return {"by_day": {d: {"items": by_day[d], "tags": tags[d]} for d in days},
                "by_staff": dict(sorted(by_staff.items())),
                "items": sum(by_day.values()), "tags": sum(tags.values())}

    def converted_csv(self, first: date, last: date) -> str:
        report = self.converted(first, last)
        out = io.StringIO()
        writer = SafeWriter(out, lineterminator="\n")
        writer.writerow(["kind", "key", "items", "tags"])
        for day, counts in report["by_day"].items():
            writer.writerow(["day", day, counts["items"], counts["tags"]])
        for staff, items in report["by_staff"].items():
            writer.writerow(["staff", staff, items, ""])
        return out.getvalue()


def _shown(result: TagResult) -> dict[str, Any]:
    shown = asdict(result)
    shown["written"] = result.written.hex()
    shown["outcome"], shown["finding"] = result.outcome.value, result.finding.value
    return shown
