"""`bronco locker status|open|emulate`."""

from __future__ import annotations

import json
import signal
import threading
import uuid
from pathlib import Path
from typing import Annotated, Any

import typer

from bronco.cli_common import EXIT_CONFIG, EXIT_FAILURE, StationOption, load_or_exit, staff_call

locker_app = typer.Typer(help="The locker bank.", no_args_is_help=True)


@locker_app.command("status")
def locker_status(
    station: StationOption = "http://127.0.0.1:8080",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Every door: size, state, initials, expiry, sensor and alarms."""
    doors = staff_call("GET", f"{station.rstrip('/')}/api/v1/staff/lockers")
    if as_json:
        typer.echo(json.dumps(doors))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"Locker bank ({len(doors)} doors)")
    for column in ("door", "size", "state", "who", "items", "sensor", "alarm", "expires"):
        table.add_column(column)
    for d in doors:
        size = d["size"] + (" ♿" if d["accessible"] else "") + (" ⚡" if d["charging"] else "")
        table.add_row(d["door_id"], size, d["state"], d["initials"], str(d["items"]), d["sensor"],
                      d["alarm"], (d["expires_at"] or "")[:16])
    Console().print(table)


@locker_app.command("open")
def locker_open(
    door: Annotated[str, typer.Argument(help="Door id, e.g. A07.")],
    reason: Annotated[str, typer.Option(help="Why (goes to the audit log).")],
    station: StationOption = "http://127.0.0.1:8080",
) -> None:
    """Open one door; exit 0 only if its sensor confirmed the open."""
    request_id = uuid.uuid4().hex
    result = staff_call("POST", f"{station.rstrip('/')}/api/v1/staff/lockers/{door}/open",
                         json={"reason": reason, "request_id": request_id})
    typer.echo(f"door {door}: {result['outcome']} after {result['attempts']} pulse(s)"
               + (f" ({result['detail']})" if result["detail"] else ""))
    if result["outcome"] != "opened":
        raise typer.Exit(EXIT_FAILURE)


@locker_app.command("emulate")
def locker_emulate(
    board: Annotated[str, typer.Argument(help="Board id from the profile.")],
    profile: Annotated[Path, typer.Option("--profile", "-p", help="Hardware profile.")],
    link: Annotated[Path | None, typer.Option(help="Where to put the device link "
                                                   "(default: the board's URL).")] = None,
) -> None:
    """Emulate a lock board byte-exactly on a pty, at the board's serial path, until Ctrl-C."""

    loaded = load_or_exit(profile)
    settings = next((b for b in loaded.lock_boards if b.id == board), None)
    if settings is None:
        typer.echo(f"no board {board!r} in {profile}", err=True)
        raise typer.Exit(EXIT_CONFIG)
    path = link or Path(settings.url)
    if settings.driver in ("kerong_cu16", "kerong_cu48"):
        from locker_controller.emulators.kerong import KerongEmulator

        addresses = tuple(sorted(b.address for b in loaded.lock_boards if b.url == settings.url))
        emulator: Any = KerongEmulator(path, model=settings.driver[-4:], boards=addresses)
    elif settings.driver == "waveshare_modbus":
        from locker_controller.emulators.waveshare import WaveshareEmulator

        emulator = WaveshareEmulator(path, device_id=settings.address or 1)
    elif settings.driver == "numato_usb":
        from locker_controller.emulators.numato import NumatoEmulator

        emulator = NumatoEmulator(path, channels=settings.locks or 8)
    else:
        typer.echo(f"no emulator for driver {settings.driver!r}", err=True)
        raise typer.Exit(EXIT_CONFIG)
    try:
        emulator.start()
    except OSError as exc:
        typer.echo(f"cannot create {path}: {exc}", err=True)
        raise typer.Exit(EXIT_FAILURE) from None
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    typer.echo(f"emulating {settings.driver} board {board} at {path} (Ctrl-C stops)", err=True)
    stop.wait()
    emulator.stop()
    path.unlink(missing_ok=True)
