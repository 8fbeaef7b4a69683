"""`bronco profile check`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from bronco.cli_common import EXIT_CONFIG
from station_core.profile import ProfileError, load_profile, profile_warnings

profile_app = typer.Typer(help="Hardware profiles.", no_args_is_help=True)


@profile_app.command("check")
def profile_check(
    files: Annotated[list[Path], typer.Argument(help="Profile files to validate.")],
) -> None:
    """Validate profiles: prints OK per good file, or each problem as FILE: FIELD: REASON.
    Warnings (a valid profile that should still change) print as WARNING FILE: FIELD: REASON."""
    failed = False
    for path in files:
        try:
            loaded = load_profile(path)
        except ProfileError as exc:
            failed = True
            typer.echo(str(exc))
            continue
        for warning in profile_warnings(loaded):
            typer.echo(f"WARNING {path}: {warning.path}: {warning.reason}")
        typer.echo(f"OK {path}")
    if failed:
        raise typer.Exit(EXIT_CONFIG)


@profile_app.command("needs")
def profile_needs(
    file: Annotated[Path, typer.Argument(help="The profile.")],
) -> None:
    """Print what the profile's drivers need installed, as JSON: the package extras and the
    Debian packages (the installer reads this)."""
    import json
    from dataclasses import asdict

    from station_core.install_needs import needs

    try:
        loaded = load_profile(file)
    except ProfileError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(EXIT_CONFIG) from None
    typer.echo(json.dumps(asdict(needs(loaded))))
