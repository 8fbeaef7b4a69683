"""What a station may push, field by field. The hub trusts no station: a station's SD card can be
stolen and its token used by anyone, so every pushed payload is checked here for type and range
before anything reads it. A payload that does not fit is kept as an event that says so (the
station's sequence goes on) and is shown, counted and alerted on nowhere."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

# Names, ids and words a station reports: short, printable, one line.
Word = Annotated[str, StringConstraints(max_length=64, pattern=r"^[^\x00-\x1f\x7f]*$")]
Text = Annotated[str, StringConstraints(max_length=256, pattern=r"^[^\x00-\x1f\x7f]*$")]
Count = Annotated[int, Field(ge=0, le=10_000_000)]
Seconds = Annotated[int, Field(ge=0, le=10 * 365 * 86_400)]
# A statistics metric: a name, then after a colon a reason or a device type (refused:renewals,
# device_loans:laptop). Nothing a spreadsheet would take for a formula.
Metric = Annotated[str, StringConstraints(
    max_length=64, pattern=r"^[A-Za-z0-9_]+(:[A-Za-z0-9_][A-Za-z0-9_ ./-]*)?$")]


class _Payload(BaseModel):
    # Unknown fields are dropped rather than kept: nothing unchecked is stored.
    model_config = ConfigDict(extra="ignore", strict=False)


class Status(_Payload):
    version: Word = ""
    ils_online: bool | None = None
    queue_pending: Count = 0
    oldest_queued_s: Seconds = 0
    open_exceptions: Count = 0
    holds_expiring: Count = 0
    devices: Annotated[dict[Word, Word], Field(max_length=64)] = Field(default_factory=dict)


class DeskDoor(_Payload):
    door_id: Word
    size: Word = ""
    accessible: bool = False
    charging: bool = False
    state: Word = ""
    initials: Annotated[str, StringConstraints(max_length=8, pattern=r"^[^\x00-\x1f\x7f]*$")] = ""
    items: Count = 0
    expires_at: datetime | None = None
    sensor: Word = ""
    alarm: Word | None = None


class DeskException(_Payload):
    id: Count
    kind: Word
    reason: Text = ""
    at: datetime | None = None


class Desk(_Payload):
    doors: Annotated[list[DeskDoor], Field(max_length=512)] = Field(default_factory=list)
    exceptions: Annotated[list[DeskException], Field(max_length=1000)] = Field(default_factory=list)


class Stats(_Payload):
    hour: datetime
    values: Annotated[dict[Metric, Annotated[float, Field(ge=0, le=1e9)]],
                      Field(max_length=256)] = Field(default_factory=dict)
    pickups: Annotated[list[Annotated[float, Field(ge=0, le=1e9)]],
                       Field(max_length=10_000)] = Field(default_factory=list)


class Checkout(_Payload):
    ok: bool = True
    offline: bool = False
    in_session: Count = 0


class Checkin(_Payload):
    ok: bool = True
    offline: bool = False
    hold: bool = False


class Device(_Payload):
    kind: Word = ""
    id: Word = ""
    driver: Word = ""
    state: Word = ""
    last_error: Text | None = None


class Door(_Payload):
    door_id: Word
    sensor: Word = ""
    alarm: Word | None = None


class DoorOpen(_Payload):
    door_id: Word
    outcome: Word | None = None


class Ils(_Payload):
    online: bool = True
    error: Text | None = None


class Locker(_Payload):
    door_id: Word
    state: Word = ""
    initials: Annotated[str, StringConstraints(max_length=8)] = ""


class Queue(_Payload):
    sent: Count = 0
    exceptions: Count = 0
    pending: Count = 0


class QueueException(_Payload):
    exception_id: Count
    kind: Word = ""


class StaffAlert(_Payload):
    reason: Text = "staff alert"
    door_id: Word | None = None
    reader: Word | None = None
    failures_last_hour: Count = 1


class TxnDone(_Payload):
    """A queued or online transaction the ILS has: a restored station never sends it again."""
    txn_id: Annotated[str, StringConstraints(pattern=r"^[0-9a-f-]{36}$")]
    state: Word = "done"


class UpdateResult(_Payload):
    """How a station's update of a rollout ended (bronco update apply, on the station)."""
    rollout: Count
    version: Word = ""
    result: Literal["installed", "rolled_back", "refused", "already"]
    reason: Text = ""


class Invalid(_Payload):
    invalid: Literal[True] = True
    why: Text = ""


KINDS: dict[str, type[_Payload]] = {
    "status": Status, "desk": Desk, "stats": Stats, "checkout": Checkout, "checkin": Checkin,
    "device": Device, "door": Door, "door_open": DoorOpen, "ils": Ils, "locker": Locker,
    "queue": Queue, "queue_exception": QueueException, "staff_alert": StaffAlert,
    "txn_done": TxnDone, "update": UpdateResult,
}


def checked(kind: str, payload: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The kind and payload to store: the payload as checked (JSON-ready), or for anything that
    does not fit, kind `invalid` with the reason (the first error, without the value sent)."""
    model = KINDS.get(kind)
    if model is None:
        return "invalid", Invalid(why=f"unknown event kind ({len(kind)} characters)").model_dump()
    try:
        return kind, model.model_validate(payload).model_dump(mode="json", exclude_unset=True)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])[:64]
        return "invalid", Invalid(why=f"{kind}: {where}: {first['type']}"[:256]).model_dump()
