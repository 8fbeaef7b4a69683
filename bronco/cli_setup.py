"""`bronco setup`: first-run questions that write the station's profile (instead of TOML by hand)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from bronco.cli_common import EXIT_CONFIG, EXIT_FAILURE


def setup(
    answers: Annotated[Path | None, typer.Option(
        help="Take every answer from this TOML file instead of asking (docs/operations.md has "
             "an example).")] = None,
    etc: Annotated[Path, typer.Option(help="Where the profile and station.env go.")] = Path("/etc/bronco"),
    state: Annotated[Path, typer.Option(help="The station's state folder (its database).")] = (
        Path("/var/lib/bronco")),
    udev: Annotated[Path, typer.Option(help="Where the adapters' udev rules go.")] = (
        Path("/etc/udev/rules.d")),
    web: Annotated[bool, typer.Option(
        help="Serve the same steps as a web page (/console/setup) instead of asking here.")] = False,
    listen: Annotated[str, typer.Option(help="With --web: the address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="With --web: the port.")] = 8080,
    code_file: Annotated[Path | None, typer.Option(
        help="With --web: the one-time code other machines must give (loopback needs none).")] = None,
    start: Annotated[str, typer.Option(
        help="With --web: systemd services to enable and start once the profile is saved.")] = "",
) -> None:
    """Ask about the library, the ILS (login tried live), the readers and lock boards (found by
    probing the serial ports), the staff admin and the hub; then write a checked profile."""
    from bronco.setup.answers import AnswersError, load_answers
    from bronco.setup.wizard import QuietUi, RichUi, SetupRefused, Targets, run

    targets = Targets(etc=etc, udev=udev, state=state)
    if web:
        raise typer.Exit(_serve(targets, listen, port, code_file, start.split()))

    try:
        given = load_answers(answers) if answers else None
    except AnswersError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(EXIT_CONFIG) from None
    ui = QuietUi(typer.echo) if given else RichUi()
    try:
        result = run(given, ui, targets)
    except SetupRefused as exc:
        typer.echo(f"setup stopped, nothing changed on this step: {exc}", err=True)
        raise typer.Exit(EXIT_CONFIG) from None
    except (EOFError, KeyboardInterrupt):
        typer.echo("\nsetup stopped: nothing was written", err=True)
        raise typer.Exit(EXIT_FAILURE) from None
    for line in result.done:
        typer.echo(f"done: {line}")
    for device in result.devices:
        typer.echo(f"device: {device.id} {device.driver} {device.url or ''} {device.said}".rstrip())
    typer.echo("next: sudo systemctl restart bronco-station (or run scripts/install-station again), "
               "then sudo bronco doctor")


def _serve(targets: object, listen: str, port: int, code_file: Path | None, services: list[str]) -> int:
    """The setup page until a profile is saved; then the services it names are started."""
    import subprocess

    import uvicorn

    from bronco.setup.web import setup_app

    saved: list[object] = []
    server: uvicorn.Server | None = None

    def done(result: object) -> None:
        saved.append(result)
        assert server is not None
        server.should_exit = True  # after this answer is sent: the station needs the port

    app = setup_app(targets, code_file, done)  # type: ignore[arg-type]
    server = uvicorn.Server(uvicorn.Config(app, host=listen, port=port, log_level="warning"))
    typer.echo(f"setup page: http://{listen}:{port}/console/setup")
    server.run()
    if not saved:
        return EXIT_FAILURE
    if services:
        subprocess.run(["systemctl", "enable", "--now", *services], check=False, timeout=120)
    if code_file is not None:
        code_file.unlink(missing_ok=True)  # used: nobody needs it again
    typer.echo("profile saved" + (f"; started {' '.join(services)}" if services else ""))
    return 0
