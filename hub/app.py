"""The hub's HTTP API: staff (bearer tokens with a role) enrol, revoke and command stations;
stations (their own revocable token) push events and pull their commands."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Header, HTTPException, Query, Request
from fastapi import Path as FastApiPath
from fastapi.responses import FileResponse, JSONResponse, PlainTextResponse, RedirectResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError

from hub import alerts, fleet, housekeeping, rollouts, staff, state_copies, stats, views
from hub.console import SESSION_COOKIE, SignedOut, console_router, look, static
from hub.db import open_hub_database
from hub.profile import HubProfile
from station_core.body_limit import BodyLimit
from station_core.console_look.headers import ConsoleHeaders

ID = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
CommandId = Annotated[int, FastApiPath(ge=1, le=2**31 - 1)]  # a PostgreSQL integer, not a 500
log = logging.getLogger(__name__)


class EnrolIn(BaseModel):
    station_id: str = Field(pattern=ID)
    code: str = Field(min_length=4, max_length=32)
    version: str = Field(default="", max_length=64)


class EventIn(BaseModel):
    event_id: str = Field(pattern=r"^[0-9a-f-]{36}$")
    seq: int = Field(ge=1, le=2**31 - 1)
    kind: str = Field(min_length=1, max_length=32)
    at: datetime
    payload: dict[str, Any] = Field(default_factory=dict)


class EventsIn(BaseModel):
    events: list[EventIn] = Field(max_length=1000)
    # Which sequence these seq numbers belong to (a new one with each station database).
    epoch: str = Field(default="", max_length=64, pattern=r"^[0-9a-f]*$")


class RolloutIn(BaseModel):
    release_id: int = Field(ge=1, le=2**31 - 1)
    stations: list[Annotated[str, Field(pattern=ID)]] = Field(default_factory=list, max_length=1000)
    branch: str = Field(default="", max_length=64)
    canary: int = Field(default=1, ge=1, le=100)
    percent: int = Field(default=50, ge=1, le=100)
    soak_s: float = Field(default=600.0, ge=0, le=7 * 86400)


class CommandIn(BaseModel):
    kind: str = Field(max_length=32)
    args: dict[str, str | int | bool] = Field(default_factory=dict, max_length=10)


class ResultIn(BaseModel):
    ok: bool
    result: dict[str, Any] = Field(default_factory=dict)


def _bearer(authorization: str | None) -> str:
    if not authorization or not authorization.startswith("Bearer "):
        raise HTTPException(401, "a bearer token is needed", {"WWW-Authenticate": "Bearer"})
    return authorization.removeprefix("Bearer ").strip()


def _engine(request: Request) -> Engine:
    return request.app.state.engine


SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def _staff(request: Request, authorization: Annotated[str | None, Header()] = None,
           x_csrf_token: Annotated[str | None, Header()] = None) -> fleet.Staff:
    """A staff API token (scripts), or a console session whose every change carries the
    session's CSRF token (so no other site can make a signed-in browser act)."""
    if authorization is None and SESSION_COOKIE in request.cookies:
        found = staff.session_for(_engine(request), request.app.state.profile.console,
                                  request.cookies[SESSION_COOKIE])
        if found is None:
            raise HTTPException(401, "signed out: sign in again")
        username, role, csrf = found
        if request.method not in SAFE_METHODS and not secrets.compare_digest(
                (x_csrf_token or "").encode(), csrf.encode()):
            raise HTTPException(403, "missing or wrong CSRF token")
        return fleet.Staff(username, role)
    token = fleet.staff_for(_engine(request), _bearer(authorization))
    if token is None:
        raise HTTPException(401, "unknown or revoked staff token")
    return token


def _admin(who: Annotated[fleet.Staff, Depends(_staff)]) -> fleet.Staff:
    if who.role != "admin":
        raise HTTPException(403, "only a hub admin enrols and revokes stations")
    return who


def _station(request: Request, authorization: Annotated[str | None, Header()] = None) -> str:
    found = fleet.station_for(_engine(request), _bearer(authorization))
    if found is None:
        raise HTTPException(401, "unknown or revoked station token")
    return found


Staff = Annotated[fleet.Staff, Depends(_staff)]
Admin = Annotated[fleet.Staff, Depends(_admin)]
Station = Annotated[str, Depends(_station)]


def create_hub_app(profile: HubProfile, engine: Engine | None = None) -> FastAPI:
    engine = engine or open_hub_database(profile.hub.database_url)

    async def alert_rounds() -> None:
        rounds = 0
        listening_since = datetime.now(UTC)  # stations get the threshold to find this hub again
        while True:
            try:
                await asyncio.to_thread(rollouts.advance, engine)
                await asyncio.to_thread(alerts.evaluate, engine, profile.alerts,
                                        listening_since=listening_since)
                rounds += 1
                if rounds % 100 == 1:  # now and then: bounded tables
                    await asyncio.to_thread(housekeeping.bound_tables, engine)
            except Exception:  # a database hiccup: the next round tries again
                log.exception("alert round failed")
            await asyncio.sleep(profile.alerts.every_s)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        task = asyncio.create_task(alert_rounds(), name="hub-alerts")
        yield
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    app = FastAPI(title="Bronco Hub", version="1", lifespan=lifespan)
    app.state.engine = engine
    app.state.profile = profile
    app.include_router(console_router)
    app.mount("/console/look", look, name="console-look")
    app.mount("/console/static", static, name="console-static")

    @app.exception_handler(SignedOut)
    async def _signed_out(_request: Request, _exc: SignedOut) -> RedirectResponse:
        return RedirectResponse("/console/login", status_code=303)

    app.add_middleware(ConsoleHeaders)  # no-store everywhere, a strict CSP on the console
    # A station's push of a thousand events with desk views may be large; nothing else is.
    app.add_middleware(BodyLimit, max_bytes=1_048_576,
                       larger={"/api/v1/fleet/events": 16 * 1_048_576,
                               "/api/v1/fleet/state-copy": state_copies.MAX_COPY_BYTES,
                               "/api/v1/releases": 1024 * 1_048_576})

    @app.get("/", include_in_schema=False)
    async def _root() -> RedirectResponse:
        return RedirectResponse("/console", status_code=307)

    @app.exception_handler(DBAPIError)
    async def _database_lost(_request: Request, exc: DBAPIError) -> JSONResponse:
        """The database went away (restarted, a connection cut): nothing was stored, the caller
        sends again; stations do so by themselves."""
        log.warning("hub database error: %s", exc.orig.__class__.__name__ if exc.orig else exc)
        return JSONResponse({"detail": "the hub's database did not answer; try again"},
                            status_code=503, headers={"Retry-After": "1"})

    @app.exception_handler(fleet.FleetError)
    async def _refused(_request: Request, exc: fleet.FleetError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=exc.status)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/api/v1/stations/{station_id}/enrolment-code")
    def enrolment_code(station_id: str, who: Admin,
                       branch: Annotated[str, Query(max_length=64, pattern=r"^[^\x00-\x1f\x7f]*$")] = "",
                       replace: bool = False) -> dict[str, str]:
        if not re.fullmatch(ID, station_id):
            raise HTTPException(422, "not a station id")
        code, expires = fleet.new_enrolment_code(engine, station_id, by=who.username,
                                                 branch=branch, replace=replace)
        return {"station_id": station_id, "code": code, "expires_at": expires.isoformat()}

    @app.post("/api/v1/enrol")
    def enrol(body: EnrolIn, request: Request) -> dict[str, str]:
        client = request.client.host if request.client else "unknown"
        return {"token": fleet.enrol(engine, body.station_id, body.code, body.version, client)}

    @app.post("/api/v1/stations/{station_id}/revoke")
    def revoke(station_id: str, who: Admin) -> dict[str, str]:
        fleet.revoke(engine, station_id, by=who.username)
        return {"station_id": station_id, "revoked": "yes"}

    @app.get("/api/v1/stations")
    def stations(_who: Staff) -> list[dict[str, Any]]:
        """Every station: online, last seen, versions, devices, queue, open alerts."""
        return views.station_rows(engine, profile.alerts.station_offline_s)

    @app.get("/api/v1/stations/{station_id}/bank")
    def station_bank(station_id: str, _who: Staff) -> dict[str, Any]:
        """The station's doors and open exceptions as it last reported them."""
        return views.bank(engine, station_id)

    @app.get("/api/v1/stations/{station_id}/events")
    def station_events(station_id: str, _who: Staff,
                       after: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0) -> list[dict[str, Any]]:
        return fleet.events(engine, station_id, after)

    @app.post("/api/v1/stations/{station_id}/commands")
    def send_command(station_id: str, body: CommandIn, who: Staff) -> dict[str, int]:
        return {"id": fleet.queue_command(engine, station_id, body.kind, dict(body.args),
                                          by=who.username)}

    @app.get("/api/v1/statistics")
    def statistics(_who: Staff, start: Annotated[date, Query(alias="from")],
                   end: Annotated[date, Query(alias="to")], branch: str = "",
                   format: str = "json") -> Any:
        if not (2000 <= start.year <= 2200 and 2000 <= end.year <= 2200) or start > end \
                or (end - start).days > 3660:
            raise HTTPException(422, "a range of dates from 2000 to 2200, at most ten years")
        figures = stats.report(engine, start, end, tz=profile.hub.timezone, branch=branch)
        if format == "csv":
            return PlainTextResponse(stats.as_csv(figures), media_type="text/csv")
        return figures

    @app.get("/api/v1/alerts")
    def alert_history(_who: Staff, open: bool = False) -> list[dict[str, Any]]:
        return alerts.history(engine, open_only=open)

    @app.get("/api/v1/audit")
    def audit(_who: Admin) -> list[dict[str, Any]]:
        return fleet.audit_log(engine)

    @app.post("/api/v1/releases")
    async def upload_release(request: Request, who: Admin) -> dict[str, Any]:
        """A release bundle (the request body); its signature is for the stations to check."""
        path = await asyncio.to_thread(rollouts.save_upload, await request.body())
        return await asyncio.to_thread(rollouts.upload, engine, profile.hub.releases_dir, path,
                                       by=who.username)

    @app.get("/api/v1/releases")
    def list_releases(_who: Staff) -> list[dict[str, Any]]:
        return rollouts.releases(engine)

    @app.post("/api/v1/rollouts")
    def start_rollout(body: RolloutIn, who: Admin) -> dict[str, Any]:
        return rollouts.start(engine, body.release_id, stations=body.stations, branch=body.branch,
                              canary=body.canary, percent=body.percent, soak_s=body.soak_s,
                              by=who.username)

    @app.get("/api/v1/rollouts")
    def list_rollouts(_who: Staff) -> list[dict[str, Any]]:
        return rollouts.recent(engine)

    @app.get("/api/v1/rollouts/{rollout_id}")
    def rollout_status(rollout_id: CommandId, _who: Staff) -> dict[str, Any]:
        return rollouts.status(engine, rollout_id)

    @app.get("/api/v1/commands/{command_id}")
    def command_status(command_id: CommandId, _who: Staff) -> dict[str, Any]:
        return fleet.command(engine, command_id)

    # -- what stations call ------------------------------------------------------------------------
    @app.post("/api/v1/fleet/events")
    def push(body: EventsIn, station_id: Station) -> dict[str, int]:
        return {"acked": fleet.ingest(engine, station_id, [e.model_dump() for e in body.events],
                                      body.epoch)}

    @app.put("/api/v1/fleet/state-copy")
    async def put_state_copy(request: Request, station_id: Station) -> dict[str, Any]:
        """The station's latest sealed copy of its state (ciphertext to the hub)."""
        blob = await request.body()
        return await asyncio.to_thread(state_copies.keep, engine, station_id, blob)

    @app.get("/api/v1/fleet/state-copy")
    def get_state_copy(station_id: Station) -> Response:
        """A station's own copy back (a new SD card, enrolled again with an admin's code)."""
        return Response(state_copies.fetch(engine, station_id), media_type="application/octet-stream")

    @app.get("/api/v1/fleet/releases/{release_id}/bundle")
    def fetch_bundle(release_id: CommandId, station_id: Station) -> Response:
        """The bundle for a station a rollout names; Range requests resume a cut download."""
        path = rollouts.bundle_file(engine, profile.hub.releases_dir, release_id, station_id)
        return FileResponse(path, media_type="application/x-tar")

    @app.get("/api/v1/fleet/done-transactions")
    def done_transactions(station_id: Station) -> list[str]:
        return state_copies.done_transactions(engine, station_id)

    @app.get("/api/v1/fleet/commands")
    def pull(station_id: Station) -> list[dict[str, Any]]:
        return fleet.pending_commands(engine, station_id)  # which also marks it seen

    @app.post("/api/v1/fleet/commands/{command_id}")
    def report(command_id: CommandId, body: ResultIn, station_id: Station) -> dict[str, str]:
        fleet.complete_command(engine, station_id, command_id, body.ok, body.result)
        return {"status": "recorded"}

    return app
