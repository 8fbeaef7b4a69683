"""`bronco staff ...` and `bronco queue ...`: station administration from the shell."""

from __future__ import annotations

import getpass
import json
import os
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from bronco.cli_common import EXIT_CONFIG, EXIT_FAILURE, JsonOption, ProfileOption, load_or_exit

staff_app = typer.Typer(help="Staff accounts and API tokens.", no_args_is_help=True)
queue_app = typer.Typer(help="The offline transaction queue.", no_args_is_help=True)



def _journal_and_auth(profile_path: Path) -> tuple[Any, Any]:
    from bridge.access.staff_auth import StaffAuth
    from bridge.circulation.journal import Journal
    from bridge.db.engine import open_database

    profile = load_or_exit(profile_path)
    engine = open_database(profile.server.database_url)
    return Journal(engine, profile.station.id), StaffAuth(engine, profile.staff)


@staff_app.command("add")
def staff_add(
    username: Annotated[str, typer.Argument(help="Login name.")],
    profile: ProfileOption,
    role: Annotated[str, typer.Option(help="desk or admin.")] = "desk",
    password_env: Annotated[str, typer.Option(help="Read the password from this variable.")] = (
        "BRONCO_STAFF_PASSWORD"
    ),
) -> None:
    """Create a staff account (asks for the password unless it is in $BRONCO_STAFF_PASSWORD)."""
    from bridge.access.staff_auth import StaffError

    password = os.environ.get(password_env) or getpass.getpass("Password (10+ characters): ")
    _, auth = _journal_and_auth(profile)
    try:
        auth.create_user(username, password, role)
    except StaffError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(EXIT_CONFIG) from None
    typer.echo(f"staff user '{username}' ({role}) created")


@staff_app.command("token")
def staff_token(
    username: Annotated[str, typer.Argument(help="Whose token.")],
    profile: ProfileOption,
    label: Annotated[str, typer.Option(help="What the token is for.")] = "cli",
    days: Annotated[int, typer.Option(min=1, max=366, help="Valid for this many days.")] = 90,
) -> None:
    """Print a new bearer token for tools (set it as $BRONCO_STAFF_TOKEN)."""
    from bridge.access.staff_auth import StaffError

    _, auth = _journal_and_auth(profile)
    try:
        user = auth.authenticate_name(username)
    except StaffError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(EXIT_CONFIG) from None
    issued = auth.issue(user, "bearer", label=label, minutes=days * 24 * 60)
    auth.audit(username, "token_created", label, "from the command line")
    typer.echo(issued.token)


@staff_app.command("card")
def staff_card(
    uid: Annotated[str, typer.Argument(help="The staff card's UID in hex (kiosk.staff_cards).")],
    username: Annotated[str, typer.Argument(help="The staff account the card acts as.")],
    profile: ProfileOption,
    pin_env: Annotated[str, typer.Option(help="Read the staff PIN from this variable.")] = (
        "BRONCO_STAFF_CARD_PIN"
    ),
) -> None:
    """Give a staff card its staff PIN: the maintenance screen needs the card and the PIN."""
    from bridge.access.staff_auth import StaffError
    from bridge.access.station_key import LEGACY_SETTING, KeyError_, default_key_file, load_key

    loaded = load_or_exit(profile)
    if loaded.kiosk.staff_cards and uid.upper() not in {c.upper() for c in loaded.kiosk.staff_cards}:
        typer.echo(f"{uid} is not in kiosk.staff_cards of {profile}", err=True)
        raise typer.Exit(EXIT_CONFIG)
    pin = os.environ.get(pin_env) or getpass.getpass("Staff PIN (4-12 digits): ")
    if not (pin.isdigit() and 4 <= len(pin) <= 12):
        typer.echo("a staff PIN is 4 to 12 digits", err=True)
        raise typer.Exit(EXIT_CONFIG)
    journal, auth = _journal_and_auth(profile)
    server = loaded.server
    try:
        key = load_key(server.key_file or default_key_file(server.database_url),
                       legacy=journal.setting(LEGACY_SETTING))
        auth.set_staff_card(key, uid, username, pin)
    except (StaffError, KeyError_) as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(EXIT_CONFIG) from None
    typer.echo(f"staff card ...{uid[-4:].upper()} acts as '{username}' with its staff PIN")


def _iso(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


@queue_app.command("status")
def queue_status(profile: ProfileOption, as_json: JsonOption = False) -> None:
    """Queue depth, transactions in doubt, open exceptions, last sync (read from the database)."""
    journal, _ = _journal_and_auth(profile)
    status = {k: _iso(v) for k, v in asdict(journal.status()).items()}
    if as_json:
        typer.echo(json.dumps(status))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title="Offline queue", show_header=False)
    for key, value in status.items():
        table.add_row(key.replace("_", " "), "never" if value is None else str(value))
    Console().print(table)


@queue_app.command("exceptions")
def queue_exceptions(
    profile: ProfileOption, as_json: JsonOption = False,
    all_: Annotated[bool, typer.Option("--all", help="Include resolved ones.")] = False,
) -> None:
    """Replays the ILS refused, for staff to act on (item, reason, when)."""
    journal, _ = _journal_and_auth(profile)
    rows = [{k: _iso(v) for k, v in e.model_dump().items()}
            for e in journal.exceptions(include_resolved=all_)]
    if as_json:
        typer.echo(json.dumps(rows))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"Queue exceptions ({len(rows)})")
    for column in ("id", "kind", "item", "reason", "when", "resolved"):
        table.add_column(column)
    for row in rows:
        table.add_row(str(row["id"]), row["kind"], row["item_id"], row["reason"],
                      str(row["created_at"])[:19], row["resolution"] or "")
    Console().print(table)


@queue_app.command("replay")
def queue_replay(
    station: Annotated[str, typer.Option(help="Station base URL.")] = "http://127.0.0.1:8080",
    as_json: JsonOption = False,
) -> None:
    """Ask the running station to send its queue now (needs $BRONCO_STAFF_TOKEN)."""
    import httpx  # lazily: the station process imports this module and never needs it

    token = os.environ.get("BRONCO_STAFF_TOKEN", "")
    if not token:
        typer.echo("set BRONCO_STAFF_TOKEN (bronco staff token USER --profile P)", err=True)
        raise typer.Exit(EXIT_CONFIG)
    try:
        reply = httpx.post(f"{station.rstrip('/')}/api/v1/staff/queue/replay", timeout=120,
                           headers={"Authorization": f"Bearer {token}"})
    except httpx.HTTPError as exc:
        typer.echo(f"station not reachable: {exc}", err=True)
        raise typer.Exit(EXIT_FAILURE) from None
    if reply.status_code != 200:
        typer.echo(f"replay refused ({reply.status_code}): {reply.json().get('detail', reply.text)}",
                   err=True)
        raise typer.Exit(EXIT_FAILURE)
    result = reply.json()
    if as_json:
        typer.echo(json.dumps(result))
    else:
        typer.echo(f"sent {result['sent']}, exceptions {result['exceptions']}, "
                   f"settled in doubt {result['resolved_in_doubt']}"
                   + (f"; stopped: {result['stopped_by']}" if result["stopped_by"] else ""))
