"""A throwaway PostgreSQL cluster from Debian's package, on loopback: for the storage and hub tests
and the fleet benchmark."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from pathlib import Path


def _bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if not found:
        raise FileNotFoundError(
            f"PostgreSQL's {name} is not installed: scripts/run-tests installs Debian's postgresql")
    return found[-1]


class PostgresServer:
    def __init__(self, port: int) -> None:
        self.port = port
        self.dir = Path(tempfile.mkdtemp(prefix="bronco-pg-"))
        self.data = self.dir / "data"
        self._as_user: list[str] = []
        if os.geteuid() == 0:  # initdb refuses to run as root: use Debian's postgres account
            pwd.getpwnam("postgres")
            shutil.chown(self.dir, "postgres")
            self._as_user = ["runuser", "-u", "postgres", "--"]

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> None:
        subprocess.run([*self._as_user, _bin("initdb"), "-D", str(self.data), "-U", "postgres",
                        "--auth=trust", "-E", "UTF8", "--no-sync"], check=True, capture_output=True)
        subprocess.run(
            [*self._as_user, _bin("pg_ctl"), "-D", str(self.data), "-l", str(self.dir / "log"), "-w",
             "-o", f"-h 127.0.0.1 -p {self.port} -k {self.dir} -F", "start"],
            check=True, capture_output=True,
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            ready = subprocess.run([_bin("pg_isready"), "-h", "127.0.0.1", "-p", str(self.port)],
                                   capture_output=True)
            if ready.returncode == 0:
                return
            time.sleep(0.2)
        raise RuntimeError("PostgreSQL did not start: " + (self.dir / "log").read_text()[-2000:])

    def stop(self) -> None:
        subprocess.run([*self._as_user, _bin("pg_ctl"), "-D", str(self.data), "-m", "immediate",
                        "stop"], capture_output=True)
        shutil.rmtree(self.dir, ignore_errors=True)
