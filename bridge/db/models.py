"""Tables. Patron identifiers live only in circulation rows not yet synced (and in open
exceptions); the patron cache holds keyed hashes, never a barcode, PIN or name."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Text
from sqlmodel import Field, SQLModel


class TxnKind(StrEnum):
    CHECKOUT = "checkout"
    CHECKIN = "checkin"
    RENEW = "renew"


class TxnMode(StrEnum):
    ONLINE = "online"
    OFFLINE = "offline"


class TxnState(StrEnum):
    PENDING = "pending"  # durable, not yet sent (offline queue)
    SENT = "sent"  # handed to the ILS; outcome unknown until the reply is recorded
    DONE = "done"  # the ILS took it
    REJECTED = "rejected"  # the ILS said no while the patron was at the kiosk (they were told)
    EXCEPTION = "exception"  # the ILS refused a replay: staff must act
    RESOLVED = "resolved"  # an exception staff closed by hand


class CircTransaction(SQLModel, table=True):
    __tablename__ = "circ_transaction"

    seq: int | None = Field(default=None, primary_key=True)  # replay order
    txn_id: str = Field(unique=True, index=True, max_length=36)  # stable id, never reused
    kind: str = Field(max_length=16)
    mode: str = Field(max_length=8)
    state: str = Field(index=True, max_length=16)
    station_id: str = Field(max_length=64)
    location: str = Field(default="", max_length=64)
    session_id: str | None = Field(default=None, max_length=64, index=True)
    patron_id: str | None = Field(default=None, max_length=64)
    item_id: str | None = Field(default=None, max_length=64)
    created_at: datetime  # the transaction date the ILS is given on replay
    due_at: datetime | None = None  # due date the patron was told (offline: computed here)
    due_text: str | None = Field(default=None, max_length=64)  # the ILS's own due date text
    due_before: datetime | None = None  # a renewal: the due date it started from (to settle doubt)
    title: str | None = Field(default=None, max_length=255)
    attempts: int = 0
    sent_at: datetime | None = None
    finished_at: datetime | None = Field(default=None, index=True)
    outcome: str = Field(default="", max_length=255)


class QueueException(SQLModel, table=True):
    __tablename__ = "queue_exception"

    id: int | None = Field(default=None, primary_key=True)
    txn_seq: int = Field(foreign_key="circ_transaction.seq", index=True)
    kind: str = Field(max_length=16)
    item_id: str = Field(max_length=64)
    patron_id: str | None = Field(default=None, max_length=64)  # needed to act; cleared on resolve
    reason: str = Field(max_length=255)
    created_at: datetime
    resolved_at: datetime | None = Field(default=None, index=True)
    resolved_by: str | None = Field(default=None, max_length=64)
    resolution: str | None = Field(default=None, max_length=255)


class PatronCacheEntry(SQLModel, table=True):
    """A patron seen online recently, for offline validation: keyed hashes only."""

    __tablename__ = "patron_cache"

    barcode_hash: str = Field(primary_key=True, max_length=64)
    pin_hash: str | None = Field(default=None, max_length=255)
    blocked: bool = False
    seen_at: datetime
    expires_at: datetime = Field(index=True)


class StaffUser(SQLModel, table=True):
    __tablename__ = "staff_user"

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(unique=True, index=True, max_length=64)
    password_hash: str = Field(max_length=255)
    role: str = Field(max_length=16)  # desk | admin
    created_at: datetime
    disabled: bool = False


class StaffToken(SQLModel, table=True):
    """Bearer tokens (tools) and console sessions; only a SHA-256 of the token is stored."""

    __tablename__ = "staff_token"

    token_hash: str = Field(primary_key=True, max_length=64)
    user_id: int = Field(foreign_key="staff_user.id", index=True)
    kind: str = Field(max_length=16)  # bearer | session
    label: str = Field(default="", max_length=64)
    csrf_token: str = Field(default="", max_length=64)
    created_at: datetime
    expires_at: datetime = Field(index=True)


class AuditEntry(SQLModel, table=True):
    __tablename__ = "audit_log"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(index=True)
    actor: str = Field(max_length=64)
    action: str = Field(max_length=64)
    target: str = Field(default="", max_length=128)
    detail: str = Field(default="", max_length=512)


class CirculationCount(SQLModel, table=True):
    """Anonymous statistics: what purged transactions become."""

    __tablename__ = "circulation_count"

    hour: datetime = Field(primary_key=True)  # the hour the transactions happened in
    kind: str = Field(primary_key=True, max_length=16)
    mode: str = Field(primary_key=True, max_length=8)
    state: str = Field(primary_key=True, max_length=16)
    count: int = 0


class FleetOutbox(SQLModel, table=True):
    """Events for the hub, written in the same database as everything else, so a kill -9 leaves
    them there; `seq` is their order, `event_id` lets the hub drop a resend."""

    __tablename__ = "fleet_outbox"

    seq: int | None = Field(default=None, primary_key=True)
    event_id: str = Field(max_length=36, unique=True)
    kind: str = Field(max_length=32)
    at: datetime
    payload: str = Field(sa_type=Text)  # JSON
    sent: bool = Field(default=False, index=True)


class StationSetting(SQLModel, table=True):
    __tablename__ = "station_setting"

    key: str = Field(primary_key=True, max_length=64)
    value: str = Field(max_length=512)


class LockerDoor(SQLModel, table=True):
    """A door's place in the hold-pickup workflow. Patron data lives here only while a hold waits
    in the door; it is cleared when the door is freed."""

    __tablename__ = "locker_door"

    door_id: str = Field(primary_key=True, max_length=32)
    state: str = Field(default="free", max_length=16, index=True)
    items: str = Field(default="", max_length=512)  # item barcodes, comma-separated
    patron_id: str | None = Field(default=None, max_length=64)
    initials: str = Field(default="", max_length=8)  # all the staff grid shows of a patron
    email: str | None = Field(default=None, max_length=255)
    pickup_code_hash: str | None = Field(default=None, max_length=255)
    loaded_at: datetime | None = None
    expires_at: datetime | None = Field(default=None, index=True)
    reminded_at: datetime | None = None
    picked_up_at: datetime | None = None
    note: str = Field(default="", max_length=255)
    notified_at: datetime | None = None  # the "your hold is ready" notice went out


class LockerCommand(SQLModel, table=True):
    """Every door open: who, why, when, the result. Its request id makes a retry harmless."""

    __tablename__ = "locker_command"

    request_id: str = Field(primary_key=True, max_length=64)
    door_id: str = Field(max_length=32, index=True)
    actor: str = Field(max_length=64)
    reason: str = Field(max_length=255)
    outcome: str = Field(max_length=32)
    attempts: int = 0
    at: datetime = Field(index=True)


class StatCounter(SQLModel, table=True):
    """Anonymous hourly counts for the Access Services reports (never who, only how many)."""

    __tablename__ = "stat_counter"

    hour: datetime = Field(primary_key=True)
    name: str = Field(primary_key=True, max_length=32)
    count: float = 0.0


class PickupDelay(SQLModel, table=True):
    """Seconds from the pickup notice to the pickup, for the median; no door, no patron."""

    __tablename__ = "pickup_delay"

    id: int | None = Field(default=None, primary_key=True)
    hour: datetime = Field(index=True)
    seconds: float


class AttemptLimit(SQLModel, table=True):
    """Failed guesses against one target (a card's PIN, a kiosk's pickup codes, a staff login),
    kept in the database so a restart forgives nothing."""

    __tablename__ = "attempt_limit"

    key: str = Field(primary_key=True, max_length=96)  # "card:<keyed hash>", "kiosk:<id>", ...
    kind: str = Field(index=True, max_length=16)
    failures: int = 0
    first_failure_at: datetime | None = None
    last_failure_at: datetime | None = None
    locked_until: datetime | None = Field(default=None, index=True)
    label: str = Field(default="", max_length=64)  # what staff see: never a full barcode


class StaffCard(SQLModel, table=True):
    """A staff card that opens the kiosk's maintenance screen, with its staff PIN (argon2id)."""

    __tablename__ = "staff_card"

    uid_hash: str = Field(primary_key=True, max_length=64)  # keyed hash of the card UID
    username: str = Field(max_length=64)
    pin_hash: str = Field(max_length=255)


class KioskDevice(SQLModel, table=True):
    """An enrolled kiosk: its credential (a SHA-256 of it) authorises every kiosk API call."""

    __tablename__ = "kiosk_device"

    id: str = Field(primary_key=True, max_length=32)
    name: str = Field(default="", max_length=64)
    credential_hash: str = Field(unique=True, max_length=64)
    enrolled_at: datetime
    revoked_at: datetime | None = None


class EnrolmentCode(SQLModel, table=True):
    """A one-time code staff make in the console for the next kiosk to enrol with."""

    __tablename__ = "enrolment_code"

    code_hash: str = Field(primary_key=True, max_length=64)
    created_by: str = Field(max_length=64)
    expires_at: datetime
    kiosk_id: str = Field(default="", max_length=32)  # the kiosk this code enrols, and no other
    replace: bool = False  # an admin chose to replace that kiosk if it is enrolled already


class IlsHoldEvent(SQLModel, table=True):
    """A hold's news from the ILS (Alma webhook, Koha polling): on the hold shelf for the
    lockers, or cancelled. Keyed by the ILS's event id, so a redelivered event is a no-op.
    No patron data: staff load by scanning the item."""

    __tablename__ = "ils_hold_event"

    event_id: str = Field(primary_key=True, max_length=128)
    source: str = Field(max_length=16)  # alma | koha
    request_id: str = Field(max_length=64, index=True)
    item_id: str = Field(default="", max_length=64, index=True)
    title: str = Field(default="", max_length=255)
    state: str = Field(max_length=16)  # on_shelf | cancelled
    happened_at: datetime  # the ILS's time for the event (its arrival when the ILS gives none)
    received_at: datetime


class LockerHold(SQLModel, table=True):
    """One item's stay in a door, for the weekly reconciliation with the ILS: when it went in and
    how it left. Item barcodes only, never whose hold it was; kept for `KEEP_DAYS`."""

    __tablename__ = "locker_hold"

    id: int | None = Field(default=None, primary_key=True)
    door_id: str = Field(max_length=32, index=True)
    item_id: str = Field(max_length=64, index=True)
    loaded_at: datetime = Field(index=True)
    ended_at: datetime | None = None
    outcome: str = Field(default="in_door", max_length=16)  # in_door|picked_up|expired|reclaimed|removed


class ProgrammedTag(SQLModel, table=True):
    """A tag technical services wrote and verified by read-back: which item, which chip, which data
    model, who, when (for conversion statistics; items and staff only, never a patron)."""

    __tablename__ = "programmed_tag"

    id: int | None = Field(default=None, primary_key=True)
    item_id: str = Field(max_length=64, index=True)
    tag_uid: str = Field(max_length=64)
    data_model: str = Field(max_length=16)
    part: int = 1
    parts: int = 1
    staff: str = Field(max_length=64, index=True)
    programmed_at: datetime = Field(index=True)
    overwrote: str = Field(default="", max_length=16)  # what staff agreed to replace, if anything


class ReplayRun(SQLModel, table=True):
    """One replay of the offline queue that sent or settled something, for the staff report."""

    __tablename__ = "replay_run"

    id: int | None = Field(default=None, primary_key=True)
    started_at: datetime = Field(index=True)
    finished_at: datetime
    accepted: int = 0
    refused: int = 0
    changed: int = 0
    stopped_by: str = Field(default="", max_length=255)


class ReplayLine(SQLModel, table=True):
    """What the ILS made of one replayed transaction: accepted, refused (its screen message) or
    accepted with another due date than the patron was told. Item and title, never a patron."""

    __tablename__ = "replay_line"

    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="replay_run.id", index=True)
    txn_id: str = Field(max_length=36)
    kind: str = Field(max_length=16)
    item_id: str = Field(default="", max_length=64)
    title: str = Field(default="", max_length=255)
    done_at: datetime  # when the patron did it at the kiosk
    result: str = Field(max_length=16)  # accepted | refused | changed | confirmed | failed
    message: str = Field(default="", max_length=255)
    promised_due: datetime | None = None
    ils_due: str = Field(default="", max_length=64)


class ReturnedItem(SQLModel, table=True):
    """An item the return line carried into a bin: what is in each bin until staff empty it
    (titles for the cart list), and the returns statistics. Items only, never a patron."""

    __tablename__ = "returned_item"

    id: int | None = Field(default=None, primary_key=True)
    item_id: str = Field(max_length=64, index=True)
    title: str = Field(default="", max_length=255)
    bin: int = Field(index=True)
    why: str = Field(default="", max_length=255)  # the rule that chose the bin, in words
    at: datetime = Field(index=True)
    emptied_at: datetime | None = Field(default=None, index=True)
    # checking_in -> taken (decided, in the slot) -> on_belt -> sorted; or rejected (back to the
    # patron), or unknown (on the belt when the station restarted: drained to the problem bin or
    # the end of the belt). A restart never checks in or sorts again what a row already holds.
    state: str = Field(default="sorted", max_length=16, index=True)
    kind: str = Field(default="", max_length=16)  # the rule's kind: hold, transit, problem, ...
