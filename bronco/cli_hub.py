"""`bronco hub`: run the fleet hub, make its staff tokens, and enrol a station with it."""

from __future__ import annotations

import getpass
import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from bronco.cli_common import EXIT_CONFIG, EXIT_FAILURE, ProfileOption, load_or_exit

if TYPE_CHECKING:
    from hub.profile import HubProfile

hub_app = typer.Typer(help="The fleet hub: one desk for many stations (docs/hub.md).")
HubProfileOption = Annotated[Path, typer.Option("--profile", "-p", help="Hub profile (TOML).",
                                                show_default=False)]


def _hub_profile(path: Path) -> HubProfile:
    from pydantic import ValidationError

    from hub.profile import load_hub_profile

    try:
        return load_hub_profile(path)
    except (OSError, ValueError, ValidationError) as exc:
        typer.echo(f"{path}: {exc}", err=True)
        raise typer.Exit(EXIT_CONFIG) from None


@hub_app.callback(invoke_without_command=True)
def hub(ctx: typer.Context,
        profile: Annotated[Path | None, typer.Option("--profile", "-p", help="Hub profile (TOML).",
                                                     show_default=False)] = None,
        log_level: Annotated[str, typer.Option(help="debug, info, warning or error.")] = "info",
        ) -> None:
    """Run the hub (with --profile and no command), or one of the commands below."""
    if ctx.invoked_subcommand is not None:
        return
    if profile is None:
        typer.echo("bronco hub --profile HUB.toml", err=True)
        raise typer.Exit(EXIT_CONFIG)
    import uvicorn

    from hub.app import create_hub_app

    loaded = _hub_profile(profile)
    try:
        app = create_hub_app(loaded)
    except Exception as exc:  # the database unreachable or refusing: say so, plainly
        typer.echo(f"hub database {loaded.hub.database_url.split('@')[-1]}: {exc}", err=True)
        raise typer.Exit(EXIT_FAILURE) from None
    # X-Forwarded-For only from the proxies the profile names (uvicorn would believe loopback):
    # the sign-in limits count per client address. Stations poll every second or two, so
    # the access log is kept for debug.
    trusted = loaded.hub.trusted_proxies
    uvicorn.run(app, host=loaded.hub.host, port=loaded.hub.port, log_level=log_level,
                proxy_headers=bool(trusted), forwarded_allow_ips=",".join(trusted) or None,
                access_log=log_level == "debug",
                ssl_certfile=str(loaded.hub.tls_cert) if loaded.hub.tls_cert else None,
                ssl_keyfile=str(loaded.hub.tls_key) if loaded.hub.tls_key else None)


@hub_app.command("token")
def hub_token(
    profile: HubProfileOption,
    user: Annotated[str, typer.Option(help="Whose token (for the audit log).")],
    role: Annotated[str, typer.Option(help="admin (enrols, revokes) or desk.")] = "desk",
) -> None:
    """Make a hub staff API token; it is printed once and kept only as a digest."""
    from hub.db import open_hub_database
    from hub.fleet import FleetError, create_staff_token

    engine = open_hub_database(_hub_profile(profile).hub.database_url)
    try:
        typer.echo(create_staff_token(engine, user, role))
    except FleetError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(EXIT_CONFIG) from None


@hub_app.command("user")
def hub_user(
    username: Annotated[str, typer.Argument(help="The name staff sign in to the hub console with.")],
    profile: HubProfileOption,
    role: Annotated[str, typer.Option(help="admin (enrols, revokes, audit log) or desk.")] = "desk",
    password_env: Annotated[str, typer.Option(help="Read the password from this variable.")] = (
        "BRONCO_STAFF_PASSWORD"
    ),
) -> None:
    """Create a hub console account (asks for the password unless it is in the variable)."""
    from hub.db import open_hub_database
    from hub.fleet import FleetError
    from hub.staff import add_user

    password = os.environ.get(password_env) or getpass.getpass("Password (10+ characters): ")
    engine = open_hub_database(_hub_profile(profile).hub.database_url)
    try:
        add_user(engine, username, password, role)
    except FleetError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(EXIT_CONFIG) from None
    typer.echo(f"hub user '{username}' ({role}) created")


@hub_app.command("enrol")
def hub_enrol(
    profile: ProfileOption,
    code: Annotated[str, typer.Option(help="The one-time code made on the hub for this station.")],
) -> None:
    """Enrol this station with the hub its profile names, and keep the hub's token in the
    station's database."""
    import httpx

    from bridge.db.engine import open_database
    from bridge.fleet.link import store_token

    loaded = load_or_exit(profile)
    if not loaded.hub.url:
        typer.echo(f"{profile}: set [hub] url first", err=True)
        raise typer.Exit(EXIT_CONFIG)
    try:
        reply = httpx.post(f"{loaded.hub.url.rstrip('/')}/api/v1/enrol", timeout=10,
                           json={"station_id": loaded.station.id, "code": code})
    except httpx.HTTPError as exc:
        typer.echo(f"the hub did not answer: {exc}", err=True)
        raise typer.Exit(EXIT_FAILURE) from None
    if reply.status_code != 200:
        said = reply.json().get("detail", "") if "json" in reply.headers.get("content-type", "") \
            else reply.text[:200]  # a proxy in the way answers in HTML
        typer.echo(f"refused ({reply.status_code}): {said}", err=True)
        raise typer.Exit(EXIT_FAILURE)
    store_token(open_database(loaded.server.database_url), reply.json()["token"])
    typer.echo(f"{loaded.station.id} enrolled with {loaded.hub.url}")
