"""What every `bronco` sub-app shares: exit codes, common options and loading a profile.

It imports no sub-app, so every sub-app may import it and the root app imports them all.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any

import typer

from station_core.profile import Profile, ProfileError, load_profile

EXIT_OK, EXIT_FAILURE, EXIT_CONFIG = 0, 1, 2

ProfileOption = Annotated[
    Path, typer.Option("--profile", "-p", help="Hardware profile (TOML); on an installed station "
                       "$BRONCO_PROFILE names it.", envvar="BRONCO_PROFILE", show_default=False)
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


def staff_call(method: str, url: str, **kwargs: Any) -> Any:
    """A staff API call with $BRONCO_STAFF_TOKEN; exits with the station's reason on refusal."""
    import httpx  # lazily: the station process imports this module and never needs it

    token = os.environ.get("BRONCO_STAFF_TOKEN", "")
    if not token:
        typer.echo("set BRONCO_STAFF_TOKEN (bronco staff token USER --profile P)", err=True)
        raise typer.Exit(EXIT_CONFIG)
    try:
        reply = httpx.request(method, url, headers={"Authorization": f"Bearer {token}"}, timeout=30,
                              **kwargs)
    except httpx.HTTPError as exc:
        typer.echo(f"station not reachable: {exc}", err=True)
        raise typer.Exit(EXIT_FAILURE) from None
    try:
        body = reply.json()
    except ValueError:  # a proxy's page, a crash page: the station's words are its text
        body = None
    if reply.status_code != 200:
        detail = body.get("detail", reply.text) if isinstance(body, dict) else reply.text[:500]
        typer.echo(f"refused ({reply.status_code}): {detail}", err=True)
        raise typer.Exit(EXIT_FAILURE)
    if body is None:
        typer.echo(f"the station answered something that is not JSON: {reply.text[:200]}", err=True)
        raise typer.Exit(EXIT_FAILURE)
    return body
