"""Prometheus metrics, one registry per app (nothing global)."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from fastapi import FastAPI, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Gauge, Histogram, generate_latest

if TYPE_CHECKING:
    from bridge.station import Station


def install_metrics(app: FastAPI, station: Station) -> None:
    registry = CollectorRegistry()
    latency = Histogram(
        "bronco_request_seconds", "HTTP request latency by route", ["method", "route"],
        registry=registry, buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
    )
    Gauge("bronco_queue_depth", "Transactions waiting for the ILS (pending + in doubt)",
          registry=registry).set_function(lambda: station.queue_depth())
    Gauge("bronco_queue_exceptions", "Open replay exceptions for staff",
          registry=registry).set_function(lambda: station.open_exceptions())
    Gauge("bronco_ils_online", "1 when the ILS link is up", registry=registry).set_function(
        lambda: 1.0 if station.ils_online() else 0.0)
    Gauge("bronco_kiosk_sessions", "Open patron sessions", registry=registry).set_function(
        lambda: float(len(station.sessions)) if station.sessions else 0.0)
    Gauge("bronco_devices_failing", "Devices not in state ok", registry=registry).set_function(
        lambda: float(sum(o.health.state != "ok" for o in station.owners.values())))

    @app.middleware("http")
    async def measure(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        started = time.perf_counter()
        response = await call_next(request)
        route = request.scope.get("route")
        path = getattr(route, "path", "unmatched")
        latency.labels(request.method, path).observe(time.perf_counter() - started)
        return response

    @app.get("/metrics", tags=["station"], include_in_schema=False)
    async def metrics() -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
