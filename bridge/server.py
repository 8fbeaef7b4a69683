"""Run the station under uvicorn; uvicorn turns SIGTERM/SIGINT into a clean lifespan shutdown."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
from pathlib import Path
from types import FrameType

import uvicorn

from bridge.access.station_key import default_key_file
from bridge.access.tls import ensure_self_signed, fingerprint, needs_tls, station_names
from bridge.app import create_app
from bridge.http_guard import guarded_protocol, raise_file_limit
from station_core.profile import Profile


def _after_shutdown(signum: int, frame: FrameType | None) -> None:
    """uvicorn re-raises the stop signal once shutdown is done; we have stopped cleanly by then."""


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto=IPPROTO_TCP: asyncio sets TCP_NODELAY on accepted connections only when the listening
    # socket says TCP; without it every small answer waited ~40 ms for a delayed ACK (Nagle).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


class StationServer(uvicorn.Server):
    """uvicorn, telling the station's event streams to close before it waits for connections:
    otherwise an open kiosk stream holds Ctrl-C for the whole graceful timeout."""

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        station = getattr(getattr(self.config.app, "state", None), "station", None)
        if station is not None:
            station.closing.set()
            await asyncio.sleep(0.05)  # let each stream send its close frame
        await super().shutdown(sockets)


def _tls_files(profile: Profile, host: str) -> tuple[Path, Path] | None:
    """The certificate and key to serve HTTPS with: the profile's, or - listening beyond
    loopback without one - a self-signed one the station makes beside its key file."""
    server = profile.server
    if server.tls_cert and server.tls_key:
        return server.tls_cert, server.tls_key
    if not needs_tls(host):
        return None
    key_file = server.key_file or default_key_file(server.database_url)
    folder = key_file.parent if key_file else Path(".")
    cert, key = folder / "station-cert.pem", folder / "station-cert.key"
    ensure_self_signed(cert, key, station_names(host))
    logging.getLogger(__name__).info("HTTPS with %s (SHA-256 %s)", cert, fingerprint(cert.read_bytes()))
    return cert, key


def run_station(profile: Profile, host: str | None = None, port: int | None = None,
                log_level: str = "info") -> bool:
    """Serve until SIGTERM or SIGINT. False if the server could not start (e.g. port taken)."""
    os.umask(0o077)  # every file the station makes (database, -wal, -shm, keys) is its own
    logging.basicConfig(
        level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    # httpx logs every request's URL at INFO: the hub polls each second, and an ILS's REST URL
    # can carry a patron's or an item's barcode, which stays below INFO.
    logging.getLogger("httpx").setLevel(max(logging.WARNING, logging.getLogger().level))
    listen = host or profile.server.host
    tls = _tls_files(profile, listen)
    app = create_app(profile)
    if tls:  # staff compare it with what `bronco kiosk --enrol` printed
        app.state.station.tls_fingerprint = fingerprint(tls[0].read_bytes())
    config = uvicorn.Config(
        app,
        host=listen,
        ssl_certfile=str(tls[0]) if tls else None,
        ssl_keyfile=str(tls[1]) if tls else None,
        port=port or profile.server.port,
        log_level=log_level,
        lifespan="on",
        loop=profile.server.event_loop,
        # X-Forwarded-For is believed only from the proxies the profile names; uvicorn's default
        # believes it from loopback, which let a guesser rotate addresses past every limit.
        proxy_headers=bool(profile.server.trusted_proxies),
        forwarded_allow_ips=",".join(profile.server.trusted_proxies) or None,
        timeout_graceful_shutdown=5,
        # Floods are met below the application: connections per address, a deadline for the
        # first request's headers, and a cap on requests in progress (503 beyond).
        http=guarded_protocol(profile.server.max_connections_per_address,
                              profile.server.header_timeout_s),
        limit_concurrency=profile.server.max_connections,
        timeout_keep_alive=5,
    )
    raise_file_limit()
    # Bind before anything starts: a taken port must fail fast, before devices and the ILS link.
    try:
        sock = _bind(config.host, config.port)
    except OSError as exc:
        logging.getLogger(__name__).error("cannot listen on %s:%s: %s", config.host, config.port, exc)
        return False
    # Installed before uvicorn's own handlers, so these are what it restores and re-raises into:
    # the process then exits 0, which is what systemd and a terminal user expect after a clean stop.
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, _after_shutdown)
    try:
        StationServer(config).run(sockets=[sock])
    except SystemExit as exc:  # uvicorn exits on start-up failures (bind errors, lifespan errors)
        return exc.code in (0, None)
    return True
