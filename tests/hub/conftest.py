"""A clean hub database on the run's PostgreSQL server for each test, and a hub process on it."""

from __future__ import annotations

import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine, create_engine, text

from hub.db import open_hub_database
from tests.conftest import bronco, free_port, wait_http


def fresh_database(server_url: str, name: str) -> str:
    """An empty database `name` on the run's PostgreSQL server; its URL."""
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        conn.execute(text(f"CREATE DATABASE {name}"))
    admin.dispose()
    return server_url.rsplit("/", 1)[0] + f"/{name}"


@pytest.fixture
def hub_url(postgres) -> Iterator[str]:
    yield fresh_database(postgres.url, "hub")


@pytest.fixture
def hub_engine(hub_url: str) -> Iterator[Engine]:
    engine = open_hub_database(hub_url)
    yield engine
    engine.dispose()


class Hub:
    def __init__(self, tmp_path: Path, database_url: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.profile = tmp_path / "hub.toml"
        self.profile.write_text(f'[hub]\ndatabase_url = "{database_url}"\nport = {self.port}\n')
        self.log = tmp_path / "hub.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(bronco("hub", "--profile", str(self.profile)),
                                         stdout=out, stderr=subprocess.STDOUT)
        wait_http(f"{self.url}/healthz", self.proc, timeout_s=30)

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def token(self, user: str, role: str) -> str:
        return subprocess.run(bronco("hub", "token", "--profile", str(self.profile), "--user", user,
                                     "--role", role), check=True, capture_output=True,
                              text=True).stdout.strip()

    def call(self, method: str, path: str, token: str, **kwargs: object) -> httpx.Response:
        return httpx.request(method, f"{self.url}{path}", timeout=10,
                             headers={"Authorization": f"Bearer {token}"}, **kwargs)  # type: ignore[arg-type]


@pytest.fixture
def hub(tmp_path: Path, hub_url: str) -> Iterator[Hub]:
    running = Hub(tmp_path, hub_url)
    running.start()
    yield running
    if running.proc is not None and running.proc.poll() is None:
        running.kill()
