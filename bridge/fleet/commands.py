"""What the hub may ask of this station, done exactly as the desk console does it (the same
locker and queue code, audited here with the hub user as the actor)."""

from __future__ import annotations

import re
from typing import Any

from bridge.fleet.link import Handler

ITEM_ID = r"[0-9A-Za-z.\-_/]{1,64}"  # as the staff API's item ids (bridge/tags/routes.py)


def handlers(station: Any) -> dict[str, Handler]:
    """`station`: the Station (typed loosely: the station imports this module)."""
    def lockers() -> Any:
        if station.lockers is None:
            raise ValueError("this station has no lockers")
        return station.lockers

    async def open_door(args: dict[str, Any], actor: str) -> dict[str, Any]:
        reason = str(args.get("reason", "")).strip()
        if not reason:
            raise ValueError("opening a door from the hub needs a reason")
        result = await lockers().open_door(str(args["door"]), actor=actor, reason=reason)
        return {"door": result.door_id, "outcome": result.outcome.value}

    async def reclaim_expired(args: dict[str, Any], actor: str) -> dict[str, Any]:
        return await lockers().reclaim(str(args["door"]), actor=actor)

    async def load_hold(args: dict[str, Any], actor: str) -> dict[str, Any]:
        # The hub is trusted no more than a desk: the same item id rule as the staff API.
        if not re.fullmatch(ITEM_ID, str(args.get("item_id", ""))):
            raise ValueError("not an item id (letters, digits and . - _ / only, at most 64)")
        accessible = args.get("accessible")
        loaded = await lockers().load(str(args["item_id"]), actor=actor,
                                      size=str(args.get("size", "small")),
                                      accessible=None if accessible is None else bool(accessible))
        return {"door": loaded.door_id, "outcome": loaded.opened.outcome.value,
                "initials": loaded.patron_initials, "hold_shelf": loaded.hold_shelf}

    async def retry_exception(args: dict[str, Any], actor: str) -> dict[str, Any]:
        exception_id = int(args["exception_id"])
        txn = station.journal.retry_exception(exception_id, actor)
        station.auth.audit(actor, "exception_retry", f"exception {exception_id}")
        return {"requeued": txn.txn_id}

    async def resolve_exception(args: dict[str, Any], actor: str) -> dict[str, Any]:
        exception_id, note = int(args["exception_id"]), str(args.get("note", "")).strip()
        if not note:
            raise ValueError("resolving an exception needs a note")
        station.journal.resolve_exception(exception_id, actor, note)
        station.auth.audit(actor, "exception_resolved", f"exception {exception_id}", note)
        return {"resolved": exception_id}

    return {"open_door": open_door, "reclaim_expired": reclaim_expired, "load_hold": load_hold,
            "retry_exception": retry_exception, "resolve_exception": resolve_exception}
