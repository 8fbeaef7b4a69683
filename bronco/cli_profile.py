"""`bronco profile check`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from bronco.cli_common import EXIT_CONFIG
from station_core.profile import ProfileError, load_profile

profile_app = typer.Typer(help="Hardware profiles.", no_args_is_help=True)


@profile_app.command("check")
def profile_check(
    files: Annotated[list[Path], typer.Argument(help="Profile files to validate.")],
) -> None:
    """Validate profiles: prints OK per good file, or each problem as FILE: FIELD: REASON."""
    failed = False
    for path in files:
        try:
            load_profile(path)
        except ProfileError as exc:
            failed = True
            typer.echo(str(exc))
        else:
            typer.echo(f"OK {path}")
    if failed:
        raise typer.Exit(EXIT_CONFIG)
