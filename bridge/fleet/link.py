"""The station's side of the fleet hub: push the outbox, pull the commands addressed to this
station and run each once, the way the desk console would. The hub being away changes nothing
for patrons: the loop only retries later, and the outbox waits in the database."""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from sqlalchemy import Engine
from sqlmodel import Session

from bridge.db.models import StationSetting
from bridge.fleet.outbox import Outbox
from bridge.fleet.state_copy import StateCopies
from bridge.fleet.updates import Updates
from station_core.profile import HubLinkSettings

log = logging.getLogger(__name__)
TOKEN_KEY = "hub_token"
DONE_KEY = "hub_commands_done"  # ids run here, so a command delivered twice runs once

Handler = Callable[[dict[str, Any], str], Awaitable[dict[str, Any]]]


EPOCH_KEY = "hub_sequence_epoch"


def sequence_epoch(engine: Engine) -> str:
    """This database's name for its outbox sequence, made the first time it is asked for. A new
    database (a re-imaged Pi) or a restored one (its epoch is replaced on restore) starts a new
    sequence, so the hub never takes its seq 1.. for resends of events it already has."""
    with Session(engine) as db:
        row = db.get(StationSetting, EPOCH_KEY)
        if row is None:
            row = StationSetting(key=EPOCH_KEY, value=uuid.uuid4().hex)
            db.add(row)
            db.commit()
            db.refresh(row)
        return row.value


def new_sequence_epoch(engine: Engine) -> None:
    """After a restore: the copied outbox's numbers go on in a sequence the hub has not seen."""
    with Session(engine) as db:
        row = db.get(StationSetting, EPOCH_KEY) or StationSetting(key=EPOCH_KEY, value="")
        row.value = uuid.uuid4().hex
        db.add(row)
        db.commit()


def stored_token(engine: Engine) -> str:
    with Session(engine) as db:
        row = db.get(StationSetting, TOKEN_KEY)
        return row.value if row else ""


def store_token(engine: Engine, token: str) -> None:
    with Session(engine) as db:
        row = db.get(StationSetting, TOKEN_KEY) or StationSetting(key=TOKEN_KEY, value="")
        row.value = token
        db.add(row)
        db.commit()


class FleetLink:
    def __init__(self, settings: HubLinkSettings, engine: Engine, outbox: Outbox,
                 handlers: dict[str, Handler],
                 status: Callable[[], dict[str, Any]] | None = None,
                 figures: Callable[[], list[dict[str, Any]]] | None = None,
                 desk: Callable[[], dict[str, Any]] | None = None,
                 copies: StateCopies | None = None, updates: Updates | None = None) -> None:
        self.settings = settings
        self.copies = copies
        self.updates = updates
        self.engine = engine
        self.outbox = outbox
        self.handlers = handlers
        self.status = status
        self.figures = figures
        self.desk = desk
        self.desk_sent = ""  # the desk view last put in the outbox, as JSON
        self.connected = False
        self.last_error = ""

    def hub_client(self) -> httpx.AsyncClient:
        return self._client()

    def _client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.settings.url.rstrip("/"),
                                 timeout=self.settings.timeout_s,
                                 headers={"Authorization": f"Bearer {stored_token(self.engine)}"})

    async def run(self) -> None:
        pushed_at = status_at = -1e9
        loop = asyncio.get_running_loop()
        while True:
            # Until the station is enrolled nothing is kept for the hub: an outbox nobody
            # empties would only grow on the station's SD card.
            enrolled = bool(stored_token(self.engine))
            self.outbox.recording = enrolled
            if not enrolled:
                await asyncio.sleep(self.settings.command_poll_s)
                continue
            if self.status is not None and loop.time() - status_at >= self.settings.status_interval_s:
                status_at = loop.time()
                try:  # into the outbox like any event: it reaches the hub when the hub is back
                    self.outbox.add("status", self.status())
                    for hour in self.figures() if self.figures is not None else []:
                        self.outbox.add("stats", hour)
                except Exception as exc:
                    log.warning("fleet status not taken: %s", exc)
            self.note_desk()
            if self.updates is not None and (result := self.updates.take_result()) is not None:
                self.outbox.add("update", result)  # how the last rollout update here ended
            try:
                async with self._client() as client:
                    if loop.time() - pushed_at >= self.settings.push_interval_s:
                        await self.push(client)
                        pushed_at = loop.time()
                    await self.pull(client)
                    if self.copies is not None and self.copies.due(loop.time()):
                        await self.copies.send(client, loop.time())
                self.connected, self.last_error = True, ""
            except (httpx.HTTPError, ValueError, KeyError) as exc:
                if self.connected or not self.last_error:
                    log.warning("hub %s unreachable: %s", self.settings.url, exc)
                self.connected, self.last_error = False, str(exc)[:200]
            await asyncio.sleep(min(self.settings.push_interval_s, self.settings.command_poll_s))

    def note_desk(self) -> None:
        """The doors and exceptions as the hub's desk shows them, whenever they changed (the hub
        keeps the latest: its grid is live to within a push)."""
        if self.desk is None:
            return
        try:
            view = self.desk()
            encoded = json.dumps(view, sort_keys=True, default=str)
            if encoded != self.desk_sent:
                self.outbox.add("desk", view)
                self.desk_sent = encoded
        except Exception as exc:  # the hub's view is never worth stopping the link for
            log.warning("fleet desk view not taken: %s", exc)

    async def push(self, client: httpx.AsyncClient) -> None:
        """Everything pending, oldest first, in batches; the hub answers how far it has them."""
        epoch = sequence_epoch(self.engine)
        while batch := self.outbox.pending():
            reply = await client.post("/api/v1/fleet/events", json={"events": batch, "epoch": epoch})
            reply.raise_for_status()
            acked = int(reply.json()["acked"])
            self.outbox.acknowledged(acked)
            if acked < batch[-1]["seq"]:
                return  # the hub wants a resend from acked + 1: next round

    async def pull(self, client: httpx.AsyncClient) -> None:
        reply = await client.get("/api/v1/fleet/commands")
        reply.raise_for_status()
        for command in reply.json():
            result = await self.run_once(command)
            done = await client.post(f"/api/v1/fleet/commands/{command['id']}", json=result)
            done.raise_for_status()

    async def run_once(self, command: dict[str, Any]) -> dict[str, Any]:
        """Run a command unless it already ran here (then its stored result is sent again)."""
        key = f"{DONE_KEY}:{int(command['id'])}"
        with Session(self.engine) as db:
            ran = db.get(StationSetting, key)
            if ran is not None:
                return {"ok": ran.value == "ok", "result": {"note": "already done"}}
        handler = self.handlers.get(command["kind"])
        actor = f"hub:{command.get('by', '?')}"[:64]
        if handler is None:
            outcome = {"ok": False, "result": {"error": f"this station does not do {command['kind']}"}}
        else:
            try:
                outcome = {"ok": True, "result": await handler(command.get("args", {}), actor)}
            except Exception as exc:  # a refusal is reported to the hub, never crashes the loop
                outcome = {"ok": False, "result": {"error": str(exc)[:300]}}
        with Session(self.engine) as db:
            db.add(StationSetting(key=key, value="ok" if outcome["ok"] else "failed"))
            db.commit()
        return outcome
