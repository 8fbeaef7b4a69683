"""A slow, small machine made from a fast one: a control group with a quarter of one core and
256 MB (cgroup v2 `cpu.max` and `memory.max`; on a v1 host, the same through `cpu.cfs_quota_us`
and `memory.limit_in_bytes`). Processes join it before they start (`preexec`), so their children
and threads are limited too. Needs root or a delegated cgroup."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Any

ROOT = Path("/sys/fs/cgroup")
PERIOD_US = 100_000


class Unavailable(Exception):
    """No writable cgroup here: the limited run cannot be made."""


class Limits:
    def __init__(self, name: str, cpu_share: float = 0.25, memory_mb: int = 256) -> None:
        self.name, self.cpu_share, self.memory_mb = name, cpu_share, memory_mb
        self.version = "v2" if (ROOT / "cgroup.controllers").exists() else "v1"
        self.groups: list[Path] = []

    def __enter__(self) -> Limits:
        quota = str(int(PERIOD_US * self.cpu_share))
        memory = str(self.memory_mb * 1024 * 1024)
        try:
            if self.version == "v2":
                with contextlib.suppress(OSError):  # already on, or not ours to change
                    (ROOT / "cgroup.subtree_control").write_text("+cpu +memory")
                group = ROOT / self.name
                group.mkdir(exist_ok=True)
                self.groups = [group]
                (group / "cpu.max").write_text(f"{quota} {PERIOD_US}")
                (group / "memory.max").write_text(memory)
                with contextlib.suppress(OSError):
                    (group / "memory.swap.max").write_text("0")
            else:
                cpu, mem = ROOT / "cpu" / self.name, ROOT / "memory" / self.name
                for group in (cpu, mem):
                    group.mkdir(exist_ok=True)
                self.groups = [cpu, mem]
                (cpu / "cpu.cfs_period_us").write_text(str(PERIOD_US))
                (cpu / "cpu.cfs_quota_us").write_text(quota)
                (mem / "memory.limit_in_bytes").write_text(memory)
                with contextlib.suppress(OSError):
                    (mem / "memory.memsw.limit_in_bytes").write_text(memory)
        except OSError as exc:
            self.__exit__()
            raise Unavailable(f"cannot make a cgroup ({self.version}) here: {exc}") from None
        return self

    def __exit__(self, *exc: object) -> None:
        for group in self.groups:
            with contextlib.suppress(OSError):
                group.rmdir()  # empty once its processes have ended

    def preexec(self) -> None:
        """In the child, before exec: join every group."""
        for group in self.groups:
            (group / "cgroup.procs").write_text(str(os.getpid()))

    def describe(self) -> dict[str, Any]:
        return {"cgroup": self.version, "cpu": f"{self.cpu_share:g} of one core",
                "memory_mb": self.memory_mb}

    def memory(self) -> dict[str, Any]:
        """Peak memory of the group and how many processes the kernel killed for memory."""
        if self.version == "v2":
            group = self.groups[0]
            peak = _read_int(group / "memory.peak")
            events = _keyed(group / "memory.events")
            return {"peak_mb": round(peak / 2**20, 1) if peak else None,
                    "oom_kills": events.get("oom_kill", 0)}
        group = self.groups[1]
        peak = _read_int(group / "memory.max_usage_in_bytes")
        control = _keyed(group / "memory.oom_control")
        return {"peak_mb": round(peak / 2**20, 1) if peak else None,
                "oom_kills": control.get("oom_kill", 0)}


def _read_int(path: Path) -> int:
    try:
        return int(path.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 0


def _keyed(path: Path) -> dict[str, int]:
    out: dict[str, int] = {}
    with contextlib.suppress(OSError):
        for line in path.read_text().splitlines():
            key, _, value = line.partition(" ")
            with contextlib.suppress(ValueError):
                out[key] = int(value)
    return out
