"""A Debian 12 machine with systemd as PID 1, for testing the installer as it will run.

The root file system is built once with mmdebstrap (Debian packages only) and cached; each test
module works on a copy, booted with `systemd-nspawn --boot`, and runs commands inside through
`nsenter` into the container's init. The container shares the host's network, so the station
inside answers on the host's loopback and reaches a demo ILS started on the host.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

from tests.conftest import ROOT

CACHE = Path(os.environ.get("BRONCO_CACHE", Path.home() / ".cache" / "bronco"))
MIRROR = "http://deb.debian.org/debian"
# What Raspberry Pi OS Lite has before our installer runs: systemd, python3, CA certificates.
BASE_PACKAGES = "systemd,systemd-sysv,dbus,ca-certificates,python3"
HOST_CAS = Path("/usr/local/share/ca-certificates")


def _run(cmd: list[str], **kwargs) -> subprocess.CompletedProcess[str]:
    # close_fds: mmdebstrap fails ("Bad fd number") with ten or more descriptors inherited.
    return subprocess.run(cmd, text=True, capture_output=True, close_fds=True, **kwargs)


def root_fs(arch: str = "amd64") -> Path:
    """The cached root file system for `arch`, built on first use (about 20 s on amd64)."""
    target = CACHE / f"rootfs-bookworm-{arch}"
    if (target / ".complete").exists():
        return target
    shutil.rmtree(target, ignore_errors=True)
    target.parent.mkdir(parents=True, exist_ok=True)
    res = _run(["mmdebstrap", "--variant=minbase", f"--arch={arch}", f"--include={BASE_PACKAGES}",
                "bookworm", str(target), MIRROR], timeout=1800)
    if res.returncode != 0:
        raise RuntimeError(f"mmdebstrap failed: {res.stderr[-2000:]}")
    # The machines here reach package indexes through a TLS-inspecting proxy: trust what the
    # host trusts, in the container's CA store and pip's.
    if HOST_CAS.is_dir():
        for cert in HOST_CAS.glob("*.crt"):
            shutil.copy(cert, target / "usr/local/share/ca-certificates" / cert.name)
        res = _run(["chroot", str(target), "update-ca-certificates"], timeout=600)
        if res.returncode != 0:
            raise RuntimeError(f"update-ca-certificates failed: {res.stderr}")
    (target / "etc/pip.conf").write_text("[global]\ncert = /etc/ssl/certs/ca-certificates.crt\n")
    (target / "etc/hostname").write_text("bronco-pi\n")
    (target / ".complete").touch()
    return target


def source_files() -> list[str]:
    """This checkout's files as a clone has them (tracked and new, not ignored)."""
    res = _run(["git", "-C", str(ROOT), "ls-files", "-co", "--exclude-standard"], check=True)
    return [f for f in res.stdout.splitlines() if (ROOT / f).is_file()]


class Container:
    def __init__(self, directory: Path, name: str) -> None:
        self.directory, self.name = directory, name
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = directory.with_suffix(".console.log")

    @classmethod
    def fresh(cls, work: Path, arch: str = "amd64") -> Container:
        """A copy of the cached root file system with this checkout in /root/bronco-src."""
        directory = work / f"machine-{arch}"
        shutil.rmtree(directory, ignore_errors=True)
        subprocess.run(["cp", "-a", "--reflink=auto", str(root_fs(arch)), str(directory)], check=True)
        src = directory / "root/bronco-src"
        for name in source_files():
            dest = src / name
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, dest)
        return cls(directory, f"bronco-{arch}-{os.getpid()}")

    # -- life cycle --------------------------------------------------------------------------
    def boot(self, timeout_s: float = 120) -> None:
        pip_cache = CACHE / "pip"
        pip_cache.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                ["systemd-nspawn", "--boot", "--register=no", "--keep-unit", "--console=passive",
                 f"--machine={self.name}", "-D", str(self.directory),
                 f"--bind={pip_cache}:/root/.cache/pip"],
                stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, close_fds=True)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"systemd-nspawn exited: {self.log.read_text()[-2000:]}")
            pid = self._init_pid()
            if pid:
                state = _run(["nsenter", "-t", str(pid), "-a", "systemctl", "is-system-running"])
                if state.stdout.strip() in ("running", "degraded"):
                    return
            time.sleep(0.5)
        raise RuntimeError(f"the container did not boot: {self.log.read_text()[-2000:]}")

    def _init_pid(self) -> int | None:
        """The container's systemd (PID 1 inside): the process under nspawn running systemd."""
        if self.proc is None:
            return None
        todo = [self.proc.pid]
        while todo:
            pid = todo.pop()
            try:
                children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
            except OSError:
                continue
            for child in map(int, children):
                try:
                    # Under qemu-user (arm64) the interpreter comes first, then the program.
                    cmd = Path(f"/proc/{child}/cmdline").read_bytes().split(b"\0")[:2]
                except OSError:
                    continue
                if any(c.endswith((b"/systemd", b"/sbin/init")) for c in cmd):
                    return child
                todo.append(child)
        return None

    def run(self, *cmd: str, timeout_s: float = 600, check: bool = True,
            env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        pid = self._init_pid()
        if pid is None:
            raise RuntimeError("the container is not running")
        prefix = ["nsenter", "-t", str(pid), "-a", "env", "-i",
                  "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/root",
                  "LANG=C.UTF-8"]
        prefix += [f"{k}={v}" for k, v in (env or {}).items()]
        res = _run([*prefix, *cmd], timeout=timeout_s)
        if check and res.returncode != 0:
            raise AssertionError(f"{' '.join(cmd)} exited {res.returncode}:\n{res.stdout[-4000:]}\n"
                                 f"{res.stderr[-4000:]}")
        return res

    def reboot(self) -> None:
        """`systemctl reboot` inside; nspawn ends with the container, then it boots again."""
        assert self.proc is not None
        self.run("systemctl", "reboot", check=False)
        self.proc.wait(120)
        self.boot()

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.run("systemctl", "poweroff", check=False, timeout_s=30)
        try:
            self.proc.wait(60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def service(self, name: str, prop: str) -> str:
        return self.run("systemctl", "show", "-p", prop, "--value", name).stdout.strip()

    def wait_service(self, name: str, *, not_pid: str = "", timeout_s: float = 120) -> str:
        """Wait until `name` is active with a main PID other than `not_pid`; return that PID."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            pid = self.service(name, "MainPID")
            if self.service(name, "ActiveState") == "active" and pid not in ("0", not_pid):
                return pid
            time.sleep(0.5)
        raise AssertionError(f"{name} not active again: "
                             f"{self.run('journalctl', '-u', name, '-n', '40', check=False).stdout}")
