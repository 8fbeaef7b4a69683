"""`bronco setup`: the questions in order, the live checks, and writing what was decided.

Nothing is saved until the ILS has accepted the SIP2 login and the profile passes the same check
as `bronco profile check`: a wrong password or a typo in a host name never leaves a station with a
profile it cannot start with.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import pwd
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from bronco.setup.answers import (
    Answers,
    DeviceAnswers,
    DoorAnswers,
    IlsAnswers,
    LibraryAnswers,
    StationAnswers,
)
from bronco.setup.probe import FoundDevice, probe, serial_ports
from bronco.setup.profile_text import PASSWORD_ENV, Device, door_rows, render
from bronco.setup.udev import RULES_FILE, rule, rules_text, stable_name
from station_core.durable_files import write_durably
from station_core.profile import Profile, ProfileError, StationSettings, load_profile

PULSE_MS = 200  # one bounded pulse to let staff hear which lock is which


class SetupRefused(Exception):
    """A check failed: nothing was written."""


class Ui(Protocol):
    interactive: bool

    def say(self, text: str) -> None: ...
    def ask(self, question: str, default: str = "", *, secret: bool = False) -> str: ...
    def confirm(self, question: str, default: bool = True) -> bool: ...


class QuietUi:
    """--answers: no questions; what happens is printed."""
    interactive = False

    def __init__(self, say: Callable[[str], None]) -> None:
        self._say = say

    def say(self, text: str) -> None:
        self._say(text)

    def ask(self, question: str, default: str = "", *, secret: bool = False) -> str:
        return default

    def confirm(self, question: str, default: bool = True) -> bool:
        return default


class RichUi:
    """The terminal wizard: rich's prompts (they read standard input, so a script can answer)."""
    interactive = True

    def __init__(self) -> None:
        from rich.console import Console

        self.console = Console()

    def say(self, text: str) -> None:
        self.console.print(text, markup=False, highlight=False)

    def ask(self, question: str, default: str = "", *, secret: bool = False) -> str:
        from rich.prompt import Prompt

        return Prompt.ask(question, default=default or None, password=secret,
                          console=self.console) or ""

    def confirm(self, question: str, default: bool = True) -> bool:
        from rich.prompt import Confirm

        return Confirm.ask(question, default=default, console=self.console)


@dataclass
class Targets:
    """Where setup writes (the defaults on a Pi; tests point them elsewhere)."""
    etc: Path = Path("/etc/bronco")
    udev: Path = Path("/etc/udev/rules.d")
    state: Path = Path("/var/lib/bronco")
    service_user: str = "bronco"


@dataclass
class SetupResult:
    profile: Path
    devices: list[Device] = field(default_factory=list)
    rules: list[str] = field(default_factory=list)
    silent_ports: list[str] = field(default_factory=list)
    done: list[str] = field(default_factory=list)


# -- the questions, when no answers file is given ----------------------------------------------
def ask_answers(ui: Ui) -> Answers:
    ui.say("Bronco Station setup: the library, the ILS, the hardware. Enter keeps a default.")
    library = LibraryAnswers(name=ui.ask("Library name"),
                             institution_id=ui.ask("Institution id (SIP2 AO, as the ILS knows it)"))
    station = StationAnswers(
        id=ui.ask("Station id (lower case, digits, dashes)", "station-1"),
        name=ui.ask("Station name (shown to staff)"),
        location_code=ui.ask("Location code (SIP2 location of this station)"),
        kiosk=ui.confirm("Is there a touchscreen kiosk on this Pi?", True),
        lockers=ui.confirm("Does this Pi drive a locker bank?", False),
    )
    ils = IlsAnswers(
        host=ui.ask("ILS SIP2 host"), port=int(ui.ask("ILS SIP2 port", "6001")),
        tls=ui.confirm("Does the ILS use TLS on that port?", True),
        login_user=ui.ask("SIP2 login user"), login_location=ui.ask("SIP2 login location", ""),
        password=ui.ask("SIP2 login password", secret=True),
        dialect=ui.ask("ILS (generic, alma, koha, evergreen, folio, sierra, polaris)", "generic"),
    )
    devices = DeviceAnswers(simulated=ui.confirm("Use simulated devices (a demo, no hardware)?", False))
    if not devices.simulated:
        devices.ports = ui.ask("Serial ports to ask, separated by spaces (Enter: every port)").split()
    answers = Answers(library=library, station=station, ils=ils, devices=devices)
    if ui.confirm("Create the first staff admin account now?", True):
        answers.staff.admin = ui.ask("Admin user name", "admin")
        answers.staff.password = ui.ask("Admin password (10+ characters)", secret=True)
    if ui.confirm("Enrol this station with the library's hub?", False):
        answers.hub.url = ui.ask("Hub URL (https://...)")
        answers.hub.code = ui.ask("One-time code made on the hub for this station")
    return answers


def ask_door_map(ui: Ui, answers: Answers, boards: list[Device]) -> None:
    """The door grid from the boards' lock counts, shown, then edited until staff accept it."""
    doors = answers.doors
    while True:
        ui.say(door_grid(doors, boards))
        if ui.confirm("Does this match the bank?", True):
            return
        doors.rows = int(ui.ask("Doors in each column", str(doors.rows)))
        sizes = ui.ask("Size of each row, top first (small, medium, large)",
                       " ".join(doors.sizes_by_row) or " ".join(["medium"] * doors.rows)).split()
        doors.sizes_by_row = [s for s in sizes if s in ("small", "medium", "large")]  # type: ignore[misc]
        rows = ui.ask("Rows a wheelchair user reaches (numbers, 1 = top)",
                      " ".join(map(str, doors.accessible_rows))).split()
        doors.accessible_rows = [int(r) for r in rows if r.isdigit()]


def door_grid(doors: DoorAnswers, boards: list[Device]) -> str:
    """The bank as staff see it: one line per row, S/M/L per door, * for accessible ones."""
    cells: dict[tuple[int, int], str] = {}
    for door in door_rows(doors, boards):
        mark = door["size"][0].upper() + ("*" if door["accessible"] else " ")
        cells[(door["row"], door["column"])] = f"{door['id']:>4} {mark}"
    rows = max(r for r, _ in cells)
    columns = max(c for _, c in cells)
    lines = [" | ".join(cells.get((r, c), " " * 7) for c in range(1, columns + 1))
             for r in range(1, rows + 1)]
    return "\n".join(["Door map (S/M/L size, * accessible):", *lines])


# -- the checks --------------------------------------------------------------------------------
async def check_ils(answers: Answers) -> str:
    """The SIP2 login tried live with the ILS doctor; SetupRefused with its words if it fails."""
    from bronco.doctor import check_ils as doctor_check

    station = StationSettings(id=answers.station.id, institution_id=answers.library.institution_id,
                              location_code=answers.station.location_code)
    profile = Profile(station=station, ils=answers.ils_settings(PASSWORD_ENV))
    saved = os.environ.get(PASSWORD_ENV)
    os.environ[PASSWORD_ENV] = answers.ils.password
    try:
        finding = await doctor_check(profile)
    finally:
        if saved is None:
            os.environ.pop(PASSWORD_ENV, None)
        else:
            os.environ[PASSWORD_ENV] = saved
    if finding.level == "fail":
        raise SetupRefused(f"the ILS login failed: {finding.message}"
                           + (f"\n  -> {finding.hint}" if finding.hint else ""))
    return finding.message


def _device_ids(found: list[FoundDevice]) -> list[Device]:
    devices: list[Device] = []
    readers = boards = 0
    for f in found:
        if f.kind == "rfid_reader":
            readers += 1
            device_id = "pad" if readers == 1 else f"pad{readers}"
        else:
            device_id = chr(ord("A") + boards)
            boards += 1
        devices.append(Device(device_id, f.kind, f.driver, f.url, f.address, f.locks,
                              dict(f.options) or None, f.said))
    return devices


def simulated_devices(answers: Answers) -> list[Device]:
    devices = [Device("pad", "rfid_reader", "simulated", said="simulated RFID pad"),
               Device("campus", "card_reader", "simulated", said="simulated campus card reader")]
    if answers.station.lockers:
        devices.append(Device("A", "lock_board", "simulated", locks=16, said="simulated lock board"))
    return devices


async def confirm_board(ui: Ui, device: Device) -> bool:
    """One bounded pulse of the board's first lock; staff say whether it clicked."""
    from station_core.registry import LOCK_BOARDS

    board = LOCK_BOARDS.create(device.driver, name=device.id, url=device.url, address=device.address,
                               locks=device.locks)
    try:
        await board.open()
        await board.pulse(1, PULSE_MS)
    except Exception as exc:
        ui.say(f"board {device.id} could not be pulsed: {exc}")
        return False
    finally:
        with contextlib.suppress(Exception):
            await board.all_off()
            await board.close()
    return ui.confirm(f"Lock 1 of board {device.id} ({device.said}) should have clicked now. Did it?")


# -- writing ----------------------------------------------------------------------------------
def _write_env(path: Path, password: str) -> None:
    """station.env with the ILS password line replaced (or added); 0600."""
    lines = path.read_text().splitlines() if path.exists() else [
        "# Secrets for bronco-station, read by systemd (mode 0600, owner root)."]
    lines = [line for line in lines if not line.startswith(f"{PASSWORD_ENV}=")]
    lines.append(f"{PASSWORD_ENV}={password}")
    write_durably(path, ("\n".join(lines) + "\n").encode(), mode=0o600)


def _as_service_user(targets: Targets, args: list[str],
                     env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """A `bronco` command on the station's database, as the user that owns it (setup runs as
    root; a database file made by root would lock the station out of it)."""
    command = [sys.executable, "-m", "bronco", *args]
    if os.geteuid() == 0:
        try:
            pwd.getpwnam(targets.service_user)
        except KeyError:
            pass
        else:
            command = ["runuser", "-u", targets.service_user, "--", *command]
    targets.state.mkdir(parents=True, exist_ok=True)
    return subprocess.run(command, env={**os.environ, **env}, cwd=targets.state, text=True,
                          capture_output=True, timeout=120)


async def run_setup(answers: Answers | None, ui: Ui, targets: Targets) -> SetupResult:
    if answers is None:
        answers = ask_answers(ui)
    while True:
        try:
            ui.say("ILS: " + await check_ils(answers))
            break
        except SetupRefused as exc:
            if not ui.interactive:
                raise
            ui.say(str(exc))
            if not ui.confirm("Try another password?", True):
                raise
            answers.ils.password = ui.ask("SIP2 login password", secret=True)

    result = SetupResult(profile=targets.etc / "profile.toml")
    if answers.devices.simulated:
        devices = simulated_devices(answers)
    else:
        ports = answers.devices.ports or serial_ports()
        ui.say(f"Asking {len(ports)} serial port(s) what is on them...")
        found_by_port = await probe(ports, kerong_addresses=answers.devices.kerong_addresses)
        result.silent_ports = [p for p, found in found_by_port.items() if not found]
        found = [f for fs in found_by_port.values() for f in fs]
        devices = _device_ids(found)
        rules: list[tuple[str, str]] = []
        named: dict[str, str] = {}  # one adapter, one name, even with several boards on its bus
        for device, f in zip(devices, found, strict=True):
            ui.say(f"found on {f.url}: {f.said}")
            if f.url in named:
                device.url = named[f.url]
                continue
            text = rule(f, device.id)
            if text is not None:
                rules.append((f"{device.id}: {f.said}", text))
                named[f.url] = device.url = f"/dev/{stable_name(device.id)}"
        if ui.interactive and answers.devices.confirm:
            for device in [d for d in devices if d.kind == "lock_board"]:
                while not await confirm_board(ui, device):
                    if not ui.confirm("Pulse it again?", True):
                        break
        if ui.interactive and any(d.kind == "lock_board" for d in devices):
            ask_door_map(ui, answers, [d for d in devices if d.kind == "lock_board"])
        result.rules = [text for _, text in rules]
        if rules:
            write_durably(targets.udev / RULES_FILE, rules_text(rules).encode(), mode=0o644)
            result.done.append(f"udev rules for {len(rules)} adapter(s) in {targets.udev / RULES_FILE}")
            with contextlib.suppress(OSError, subprocess.SubprocessError):
                subprocess.run(["udevadm", "control", "--reload"], check=True, timeout=30)
                subprocess.run(["udevadm", "trigger", "--subsystem-match=tty"], check=True, timeout=30)
        for port in result.silent_ports:
            ui.say(f"nothing answered on {port}")
    result.devices = devices

    text = render(answers, devices, f"sqlite:///{targets.state / 'station.db'}")
    # The same check as `bronco profile check`, on the file as it will be, before it replaces one.
    with tempfile.TemporaryDirectory() as scratch:
        trial = Path(scratch) / "profile.toml"
        trial.write_text(text)
        try:
            load_profile(trial)
        except ProfileError as exc:
            raise SetupRefused(f"the profile setup made does not pass the check:\n{exc}") from None
    if result.profile.exists():
        backup = result.profile.with_suffix(".toml.before-setup")
        backup.write_bytes(result.profile.read_bytes())
        result.done.append(f"the old profile kept as {backup}")
    write_durably(result.profile, text.encode(), mode=0o644)
    result.done.append(f"profile written: {result.profile}")
    _write_env(targets.etc / "station.env", answers.ils.password)
    result.done.append(f"ILS password in {targets.etc / 'station.env'} (0600)")

    profile_arg = ["--profile", str(result.profile)]
    if answers.staff.admin:
        done = _as_service_user(targets, ["staff", "add", answers.staff.admin, "--role", "admin",
                                          *profile_arg], {"BRONCO_STAFF_PASSWORD": answers.staff.password})
        if done.returncode != 0:
            raise SetupRefused(f"the staff account was not made: {done.stderr.strip()}")
        result.done.append(f"staff admin '{answers.staff.admin}' created")
    if answers.hub.url and answers.hub.code:
        done = _as_service_user(targets, ["hub", "enrol", "--code", answers.hub.code, *profile_arg], {})
        if done.returncode != 0:
            raise SetupRefused(f"the profile is saved, but enrolment with the hub failed: "
                               f"{done.stderr.strip()}")
        result.done.append(f"enrolled with the hub {answers.hub.url}")
    return result


def run(answers: Answers | None, ui: Ui, targets: Targets) -> SetupResult:
    return asyncio.run(run_setup(answers, ui, targets))
