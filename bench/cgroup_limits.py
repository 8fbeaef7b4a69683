"""A slow, small machine made from a fast one: the processes share a quarter of one core, and each
has 256 MB as its own systemd unit would (`MemoryMax=`). cgroup v2: a parent group with `cpu.max`
and a child per process with `memory.max`; on a v1 host the same through `cpu.cfs_quota_us` (one
group) and `memory.limit_in_bytes` (one per process). Processes join before they start
(`preexec_for`), so their children and threads are limited too. Needs root or a delegated cgroup."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path("/sys/fs/cgroup")
PERIOD_US = 100_000


class Unavailable(Exception):
    """No writable cgroup here: the limited run cannot be made."""


class Limits:
    def __init__(self, name: str, members: tuple[str, ...], cpu_share: float = 0.25,
                 memory_mb: int = 256) -> None:
        self.name, self.members = name, members
        self.cpu_share, self.memory_mb = cpu_share, memory_mb
        self.version = "v2" if (ROOT / "cgroup.controllers").exists() else "v1"
        self.made: list[Path] = []  # removed in reverse order
        self.joins: dict[str, list[Path]] = {}  # member -> the groups it joins
        self.memory_groups: dict[str, Path] = {}

    def _make(self, group: Path) -> Path:
        group.mkdir(exist_ok=True)
        self.made.append(group)
        return group

    def __enter__(self) -> Limits:
        quota = f"{int(PERIOD_US * self.cpu_share)}"
        memory = str(self.memory_mb * 1024 * 1024)
        try:
            if self.version == "v2":
                with contextlib.suppress(OSError):  # already on, or not ours to change
                    (ROOT / "cgroup.subtree_control").write_text("+cpu +memory")
                parent = self._make(ROOT / self.name)
                (parent / "cpu.max").write_text(f"{quota} {PERIOD_US}")
                (parent / "cgroup.subtree_control").write_text("+cpu +memory")
                for member in self.members:
                    child = self._make(parent / member)
                    (child / "memory.max").write_text(memory)
                    with contextlib.suppress(OSError):
                        (child / "memory.swap.max").write_text("0")
                    self.joins[member], self.memory_groups[member] = [child], child
            else:
                cpu = self._make(ROOT / "cpu" / self.name)
                (cpu / "cpu.cfs_period_us").write_text(str(PERIOD_US))
                (cpu / "cpu.cfs_quota_us").write_text(quota)
                for member in self.members:
                    mem = self._make(ROOT / "memory" / f"{self.name}-{member}")
                    (mem / "memory.limit_in_bytes").write_text(memory)
                    with contextlib.suppress(OSError):
                        (mem / "memory.memsw.limit_in_bytes").write_text(memory)
                    self.joins[member], self.memory_groups[member] = [cpu, mem], mem
        except OSError as exc:
            self.__exit__()
            raise Unavailable(f"cannot make a cgroup ({self.version}) here: {exc}") from None
        return self

    def __exit__(self, *exc: object) -> None:
        for group in reversed(self.made):
            with contextlib.suppress(OSError):
                group.rmdir()  # empty once its processes have ended

    def preexec_for(self, member: str) -> Callable[[], None]:
        """For the child, before exec: join the member's groups."""
        groups = self.joins[member]

        def join() -> None:
            for group in groups:
                (group / "cgroup.procs").write_text(str(os.getpid()))

        return join

    def describe(self) -> dict[str, Any]:
        return {"cgroup": self.version, "cpu": f"{self.cpu_share:g} of one core, shared",
                "memory_mb_each": self.memory_mb, "processes": list(self.members)}

    def memory(self) -> dict[str, Any]:
        """Each member's peak memory and how often the kernel killed a process of it."""
        out: dict[str, Any] = {}
        for member, group in self.memory_groups.items():
            if self.version == "v2":
                peak = _read_int(group / "memory.peak")
                kills = _keyed(group / "memory.events").get("oom_kill", 0)
            else:
                peak = _read_int(group / "memory.max_usage_in_bytes")
                kills = _keyed(group / "memory.oom_control").get("oom_kill", 0)
            out[member] = {"peak_mb": round(peak / 2**20, 1) if peak else None,
                           "oom_kills": kills}
        out["oom_kills"] = sum(v["oom_kills"] for v in out.values())
        return out


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
