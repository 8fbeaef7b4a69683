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
) -> None:
    """Ask about the library, the ILS (login tried live), the readers and lock boards (found by
    probing the serial ports), the staff admin and the hub; then write a checked profile."""
    from bronco.setup.answers import AnswersError, load_answers
    from bronco.setup.wizard import QuietUi, RichUi, SetupRefused, Targets, run

    try:
        given = load_answers(answers) if answers else None
    except AnswersError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(EXIT_CONFIG) from None
    ui = QuietUi(typer.echo) if given else RichUi()
    try:
        result = run(given, ui, Targets(etc=etc, udev=udev, state=state))
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
