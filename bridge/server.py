"""Run the station under uvicorn; uvicorn turns SIGTERM/SIGINT into a clean lifespan shutdown."""

from __future__ import annotations

import logging
import signal
from types import FrameType

import uvicorn

from bridge.app import create_app
from bronco.profile import Profile


def _after_shutdown(signum: int, frame: FrameType | None) -> None:
    """uvicorn re-raises the stop signal once shutdown is done; we have stopped cleanly by then."""


def run_station(profile: Profile, host: str | None = None, port: int | None = None,
                log_level: str = "info") -> bool:
    """Serve until SIGTERM or SIGINT. False if the server could not start (e.g. port taken)."""
    logging.basicConfig(
        level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    config = uvicorn.Config(
        create_app(profile),
        host=host or profile.server.host,
        port=port or profile.server.port,
        log_level=log_level,
        lifespan="on",
        timeout_graceful_shutdown=5,
    )
    # Installed before uvicorn's own handlers, so these are what it restores and re-raises into:
    # the process then exits 0, which is what systemd and a terminal user expect after a clean stop.
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, _after_shutdown)
    try:
        uvicorn.Server(config).run()
    except SystemExit as exc:  # uvicorn exits on start-up failures (bind errors, lifespan errors)
        return exc.code in (0, None)
    return True
