"""The station's FastAPI app, made by a factory from a profile (nothing built at import time)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import RedirectResponse

from bridge.access.kiosk_auth import enrol_router, websocket_kiosk
from bridge.access.maintenance_routes import router as maintenance_router
from bridge.access.staff_routes import login_router as staff_login_router
from bridge.access.staff_routes import router as staff_router
from bridge.circulation.pad_routes import router as pad_router
from bridge.circulation.queue_routes import router as queue_router
from bridge.circulation.replay_routes import router as replay_report_router
from bridge.circulation.routes import router as kiosk_router
from bridge.console.routes import SignedOut
from bridge.console.routes import look as console_look
from bridge.console.routes import router as console_router
from bridge.console.routes import static as console_static
from bridge.devices.simulator_routes import router as simulators_router
from bridge.lockers.hold_routes import holds_router as ils_holds_router
from bridge.lockers.hold_routes import webhook_router as ils_webhook_router
from bridge.lockers.report_routes import router as holds_report_router
from bridge.lockers.routes import patron_router as lockers_patron_router
from bridge.lockers.routes import staff_router as lockers_staff_router
from bridge.metrics import install_metrics
from bridge.reports.calendar_routes import router as calendar_router
from bridge.reports.routes import router as reports_router
from bridge.returns.routes import router as returns_router
from bridge.returns.routes import slot_router as returns_slot_router
from bridge.station import Station
from bridge.systemd import SystemdNotifier
from bridge.tags.routes import router as tags_router
from ils.adapter import IlsAdapter
from station_core import __version__
from station_core.body_limit import BodyLimit
from station_core.console_look.headers import ConsoleHeaders
from station_core.peers import peer_group
from station_core.profile import Profile

log = logging.getLogger(__name__)


def create_app(profile: Profile, *, ils_adapter: IlsAdapter | None = None) -> FastAPI:
    """The station app. `ils_adapter` replaces the SIP2 adapter the profile describes (tests)."""
    station = Station(profile, ils_adapter=ils_adapter)
    notifier = SystemdNotifier()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await station.start()
        notifier.ready(f"station {profile.station.id} serving")
        log.info("station %s ready", profile.station.id)
        try:
            yield
        finally:
            await notifier.stopping()
            await station.stop()
            log.info("station %s stopped", profile.station.id)

    app = FastAPI(
        title="Bronco Station",
        version=__version__,
        description="Kiosk, locker and staff API of one Bronco Station.",
        lifespan=lifespan,
    )
    app.state.station = station

    @app.get("/healthz", tags=["station"])
    async def healthz(request: Request) -> dict[str, Any]:
        """Liveness and device health. Always 200 while the process serves. The kiosk on this
        machine says here that it has drawn its first frame (an update's health gate asks)."""
        if request.headers.get("x-bronco-kiosk") == "drawn" and request.client is not None \
                and peer_group(request.client.host) == "loopback":
            station.kiosk_drawn = True
        return station.health()

    @app.websocket("/api/v1/events")
    async def events(socket: WebSocket) -> None:
        """Station events (devices, tags, doors, ILS link) as JSON messages, for enrolled kiosks
        (or a trusted loopback one) only."""
        kiosk = websocket_kiosk(socket)
        if kiosk is None:
            await socket.close(code=4401, reason="this kiosk is not enrolled with the station")
            return
        await socket.accept()
        closing = asyncio.ensure_future(station.closing.wait())
        async with station.bus.subscribe() as queue:
            try:
                while True:
                    event = asyncio.ensure_future(queue.get())
                    await asyncio.wait({event, closing}, return_when=asyncio.FIRST_COMPLETED)
                    if not event.done():  # the station is stopping: say goodbye, do not hang on
                        event.cancel()
                        await socket.close(code=1001)
                        return
                    message = event.result()
                    owner = message.get("kiosk")
                    if owner and owner != kiosk:
                        continue  # another kiosk's patron: their items and session are theirs
                    await socket.send_json(message)
            except WebSocketDisconnect:
                return
            finally:
                closing.cancel()

    app.include_router(returns_router)
    app.include_router(returns_slot_router)
    app.include_router(kiosk_router)
    app.include_router(pad_router)
    app.include_router(maintenance_router)
    app.include_router(enrol_router)
    app.include_router(staff_login_router)
    app.include_router(staff_router)
    app.include_router(queue_router)
    app.include_router(lockers_staff_router)
    app.include_router(lockers_patron_router)
    app.include_router(console_router)
    app.include_router(ils_webhook_router)
    app.include_router(ils_holds_router)
    app.include_router(reports_router)
    app.include_router(holds_report_router)
    app.include_router(replay_report_router)
    app.include_router(calendar_router)
    app.include_router(tags_router)
    app.mount("/console/static", console_static, name="console-static")
    app.mount("/console/look", console_look, name="console-look")

    @app.exception_handler(SignedOut)
    async def signed_out(request: Request, exc: SignedOut) -> RedirectResponse:
        return RedirectResponse("/console/login", status_code=303)

    @app.get("/", include_in_schema=False)
    async def root() -> RedirectResponse:
        return RedirectResponse("/console", status_code=307)
    install_metrics(app, station)

    app.add_middleware(ConsoleHeaders)  # no-store everywhere, a strict CSP on the console
    # Outermost: no body larger than the profile allows is read, whoever sends it.
    app.add_middleware(BodyLimit, max_bytes=profile.server.max_body_bytes)

    if profile.server.simulators:  # never beside a real device: the profile check refuses that
        app.include_router(simulators_router)
    return app
