"""What every `bronco` sub-app shares: exit codes, common options and loading a profile.

It imports no sub-app, so every sub-app may import it and the root app imports them all.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from station_core.profile import Profile, ProfileError, load_profile

EXIT_OK, EXIT_FAILURE, EXIT_CONFIG = 0, 1, 2

ProfileOption = Annotated[
    Path, typer.Option("--profile", "-p", help="Hardware profile (TOML).", show_default=False)
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
StationOption = Annotated[str, typer.Option(help="Station base URL.")]


def load_or_exit(path: Path) -> Profile:
    """The profile at `path`, or its problems on stderr and exit code 2."""
    try:
        return load_profile(path)
    except ProfileError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(EXIT_CONFIG) from None
