"""Reports that set the station's record beside the ILS's, for staff to act on.

`hold_reconciliation`: every item that spent time in a locker door in a period (a week by
default), what the station did with it (loaded, picked up, expired, reclaimed, removed), what the
ILS last said of its hold (Alma's webhook, Koha's poll) and what SIP2 item information says of
the item now, and a verdict in plain words. Only item barcodes: no patron is named.
"""

from __future__ import annotations

import io
from dataclasses import asdict, dataclass
from datetime import datetime

from bridge.db.models import IlsHoldEvent, LockerHold
from bridge.local_time import local_iso
from bridge.lockers.history import LockerHistory
from bridge.lockers.hold_events import HoldEvents
from ils.adapter import IlsAdapter, ItemInfo
from ils.errors import IlsRejected, IlsUnavailable, IlsUnsupported, ProtocolError
from station_core.spreadsheet import SafeDictWriter

STATION_SAYS = {"in_door": "loaded, waiting in the door", "expired": "expired, still in the door",
                "picked_up": "picked up", "reclaimed": "expired and reclaimed by staff",
                "removed": "taken out by staff (to the hold shelf)"}
HOLD_SAYS = {"on_shelf": "on the hold shelf", "cancelled": "cancelled",
             "gone": "no longer waiting"}
ON_SHELF, CHARGED, AVAILABLE = 8, (4, 5, 7), 3
AGREES = "agrees"


class IlsAway(Exception):
    """The ILS could not be asked: the report would be half a report."""


@dataclass(frozen=True)
class HoldLine:
    door_id: str
    item_id: str
    loaded_at: str
    ended_at: str
    station: str
    ils_hold: str
    ils_item: str
    verdict: str


def verdict(stay: str, hold: str, item: ItemInfo | None, *, charged_at_load: bool) -> str:
    """Whether the ILS agrees with what the station did, and if not, what staff should do."""
    status = item.circulation_status if item is not None else None
    if stay in ("in_door", "expired"):
        if hold in ("cancelled", "gone"):
            return "the ILS no longer has this hold waiting: reclaim the door"
        expected = CHARGED if charged_at_load else (ON_SHELF,)
        if status is not None and status not in expected:
            return (f"the ILS says the item is {item.status_text if item else ''}, "
                    "not waiting for this pickup: check it")
        return AGREES
    if stay == "picked_up":
        if status == ON_SHELF or hold == "on_shelf":
            return "the ILS still shows it waiting: the checkout at pickup did not reach it"
        if status is not None and status not in CHARGED:
            return f"the ILS says {item.status_text if item else ''}: returned since, or never checked out"
        return AGREES
    if stay == "reclaimed" and (hold == "on_shelf" or status == ON_SHELF):
        return "the ILS still has the hold on its shelf: expire or cancel it there"
    return AGREES


async def _item(adapter: IlsAdapter, item_id: str) -> tuple[ItemInfo | None, str]:
    try:
        info = await adapter.item_info(item_id)
    except IlsUnsupported:
        return None, "not asked: this ILS has no item lookup"
    except IlsRejected as exc:
        return None, f"unknown to the ILS ({exc.screen_message or 'refused'})"
    except (IlsUnavailable, ProtocolError) as exc:
        raise IlsAway(f"the library system is not reachable: {exc}") from None
    return info, info.status_text


def _latest_news(events: HoldEvents) -> dict[str, IlsHoldEvent]:
    return {row.item_id: row for row in events.latest().values() if row.item_id}


async def hold_reconciliation(history: LockerHistory, events: HoldEvents, adapter: IlsAdapter,
                              start: datetime, end: datetime, *, charged_at_load: bool) \
        -> list[HoldLine]:
    stays: list[LockerHold] = history.since(start, end)
    news = _latest_news(events)
    items: dict[str, tuple[ItemInfo | None, str]] = {}
    lines = []
    for stay in stays:
        if stay.item_id not in items:
            items[stay.item_id] = await _item(adapter, stay.item_id)
        info, item_text = items[stay.item_id]
        heard = news.get(stay.item_id)
        hold = heard.state if heard is not None else ""
        lines.append(HoldLine(
            door_id=stay.door_id, item_id=stay.item_id, loaded_at=local_iso(stay.loaded_at),
            ended_at=local_iso(stay.ended_at), station=STATION_SAYS.get(stay.outcome, stay.outcome),
            ils_hold=HOLD_SAYS.get(hold, "no news from the ILS"), ils_item=item_text,
            verdict=verdict(stay.outcome, hold, info, charged_at_load=charged_at_load)))
    return lines


def as_csv(lines: list[HoldLine]) -> str:
    out = io.StringIO()
    writer = SafeDictWriter(out, fieldnames=list(HoldLine.__dataclass_fields__))
    writer.writeheader()
    for line in lines:
        writer.writerow(asdict(line))
    return out.getvalue()
