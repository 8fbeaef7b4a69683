"""The hub's tables, in their own metadata (a process that also loads a station's tables never
mixes the two schemas)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, LargeBinary, UniqueConstraint
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel


class HubModel(SQLModel, registry=registry()):
    pass


class HubStation(HubModel, table=True):
    __tablename__ = "hub_station"

    id: str = Field(primary_key=True, max_length=64)  # the station's [station] id
    branch: str = Field(default="", max_length=64)
    token_digest: str | None = Field(default=None, max_length=64, index=True)
    enrolled_at: datetime | None = None
    revoked_at: datetime | None = None
    last_seen: datetime | None = None
    # The station's outbox numbers its events from 1 in each database it has: `epoch` names the
    # sequence (a re-imaged or restored station starts a new one), `last_seq` is how far in it
    # every event has arrived, in order. The hub numbers what it keeps itself (`kept_seq`).
    epoch: str = Field(default="", max_length=64)
    last_seq: int = 0
    kept_seq: int = 0
    version: str = Field(default="", max_length=64)
    # The latest "status" event (versions, devices, queue) and "desk" event (doors, exceptions):
    status: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    desk: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    desk_at: datetime | None = None


class EnrolmentCode(HubModel, table=True):
    __tablename__ = "hub_enrolment_code"

    id: int | None = Field(default=None, primary_key=True)
    station_id: str = Field(max_length=64, index=True)
    code_digest: str = Field(max_length=64, unique=True)
    created_by: str = Field(max_length=64)
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None = None
    replace: bool = False  # an admin chose to replace the station enrolled under this id


class EnrolmentAttempts(HubModel, table=True):
    """Wrong codes per station enrolling: persisted, so a restart does not reset the count."""

    __tablename__ = "hub_enrolment_attempts"

    station_id: str = Field(primary_key=True, max_length=64)
    failures: int = 0
    last_failure: datetime | None = None


class HubEvent(HubModel, table=True):
    __tablename__ = "hub_event"
    __table_args__ = (UniqueConstraint("station_id", "event_id"),
                      UniqueConstraint("station_id", "seq"))

    id: int | None = Field(default=None, primary_key=True)
    station_id: str = Field(max_length=64, index=True)
    event_id: str = Field(max_length=36)
    seq: int
    kind: str = Field(max_length=32, index=True)
    at: datetime = Field(index=True)
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    received_at: datetime


class HubCommand(HubModel, table=True):
    __tablename__ = "hub_command"

    id: int | None = Field(default=None, primary_key=True)
    station_id: str = Field(max_length=64, index=True)
    kind: str = Field(max_length=32)
    args: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_by: str = Field(max_length=64)
    created_at: datetime
    delivered_at: datetime | None = None
    done_at: datetime | None = None
    ok: bool | None = None
    result: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class HubStaffToken(HubModel, table=True):
    """API tokens for hub staff (scripts, the CLI); people at the console sign in instead."""

    __tablename__ = "hub_staff_token"

    digest: str = Field(primary_key=True, max_length=64)
    username: str = Field(max_length=64)
    role: str = Field(max_length=16)  # "admin" enrols and revokes; "desk" acts on stations
    created_at: datetime
    revoked_at: datetime | None = None


class HubAudit(HubModel, table=True):
    __tablename__ = "hub_audit"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(index=True)
    who: str = Field(max_length=64)
    action: str = Field(max_length=32)
    target: str = Field(max_length=128)
    detail: str = Field(default="", max_length=256)


class HubAlert(HubModel, table=True):
    """One alert: open while its condition holds (one row per open key: de-duplicated), with
    whether its opening and its resolution were delivered."""

    __tablename__ = "hub_alert"

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=160, index=True)
    station_id: str = Field(max_length=64, index=True)
    kind: str = Field(max_length=32)
    message: str = Field(max_length=300)
    opened_at: datetime
    resolved_at: datetime | None = None
    opened_to: str = Field(default="", max_length=32)  # the channels that took the opening notice
    resolved_to: str = Field(default="", max_length=32)


class HubStationHour(HubModel, table=True):
    """A station's own statistics for one UTC hour, as it last sent them (a later copy replaces
    an earlier one: the station's figures for an hour can still grow)."""

    __tablename__ = "hub_station_hour"

    station_id: str = Field(primary_key=True, max_length=64)
    hour: datetime = Field(primary_key=True)
    figures: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    pickups: list[float] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))


class HubStaffUser(HubModel, table=True):
    """A person who signs in to the hub console (argon2id password)."""

    __tablename__ = "hub_staff_user"

    username: str = Field(primary_key=True, max_length=64)
    password_hash: str = Field(max_length=255)
    role: str = Field(max_length=16)  # "admin" or "desk", as for tokens
    disabled: bool = False
    created_at: datetime


class HubSession(HubModel, table=True):
    """A console sign-in: the cookie's digest and the CSRF token every change must carry."""

    __tablename__ = "hub_session"

    digest: str = Field(primary_key=True, max_length=64)
    username: str = Field(max_length=64, index=True)
    csrf_token: str = Field(max_length=64)
    created_at: datetime
    expires_at: datetime


class HubLoginAttempt(HubModel, table=True):
    """Failed sign-ins per account name and per client address, in the database: a restart
    forgives nothing."""

    __tablename__ = "hub_login_attempt"

    key: str = Field(primary_key=True, max_length=96)
    failures: int = 0
    last_failure: datetime | None = None
    wait_until: datetime | None = None


class HubStateCopy(HubModel, table=True):
    """A station's latest sealed copy of its state (database and key, encrypted on the station:
    the hub can read neither). Only the station it names may send or fetch it."""

    __tablename__ = "hub_state_copy"

    station_id: str = Field(primary_key=True, max_length=64)
    taken_at: datetime
    received_at: datetime
    size: int
    sha256: str = Field(max_length=64)
    blob: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class HubRelease(HubModel, table=True):
    """An uploaded release bundle (the file is in releases_dir; its manifest is shown, not
    trusted: each station checks the signature itself)."""

    __tablename__ = "hub_release"

    id: int | None = Field(default=None, primary_key=True)
    version: str = Field(max_length=64)
    arch: str = Field(max_length=32)
    sha256: str = Field(max_length=64, unique=True)
    size: int
    file: str = Field(max_length=255)
    uploaded_by: str = Field(max_length=64)
    uploaded_at: datetime


class HubRollout(HubModel, table=True):
    """A release going out in stages: the canary, then a share, then every station named; each
    stage only after the one before passed its health gates and soaked."""

    __tablename__ = "hub_rollout"

    id: int | None = Field(default=None, primary_key=True)
    release_id: int = Field(index=True)
    stage: int = 0  # the stage going out now
    stages: int = 1
    soak_s: float = 600.0
    state: str = Field(default="running", max_length=16)  # running, halted, done
    reason: str = Field(default="", max_length=300)
    created_by: str = Field(max_length=64)
    created_at: datetime
    stage_passed_at: datetime | None = None


class HubRolloutStation(HubModel, table=True):
    __tablename__ = "hub_rollout_station"

    rollout_id: int = Field(primary_key=True)
    station_id: str = Field(primary_key=True, max_length=64)
    stage: int
    state: str = Field(default="waiting", max_length=16)  # waiting, sent, installed, rolled_back, failed
    reason: str = Field(default="", max_length=300)
    updated_at: datetime | None = None
