"""`bronco demo-ils` and `bronco sip2`: the demo ILS server, and library IT's SIP2 check tool."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import signal
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from bronco.cli_common import EXIT_CONFIG, EXIT_FAILURE

sip2_app = typer.Typer(
    help="Talk SIP2 to an ILS and print each decoded response as JSON.", no_args_is_help=True
)


def demo_ils(
    host: Annotated[str, typer.Option(help="Listen address.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Listen port.")] = 6001,
    data: Annotated[Path | None, typer.Option(help="Library data file (TOML); default: the sample.")] = None,
    ledger: Annotated[Path | None, typer.Option(help="Append one JSON line per transaction here.")] = None,
    latency_ms: Annotated[int, typer.Option(min=0, help="Delay every reply by this much.")] = 0,
    encoding: Annotated[str, typer.Option(
        help="cp850, utf-8 or ascii (default: utf-8, or the dialect's).")] = "",
    dialect: Annotated[str, typer.Option(
        help="Answer as this ILS does: generic, alma, koha, evergreen, folio, sierra or "
             "polaris (its messages, encoding, checksums and hold counts).")] = "generic",
    tls_cert: Annotated[Path | None, typer.Option(help="Serve TLS with this certificate (PEM).")] = None,
    tls_key: Annotated[Path | None, typer.Option(help="Private key for --tls-cert (PEM).")] = None,
    own_due_dates: Annotated[bool, typer.Option(
        help="Apply the loan rule to no-block (offline) checkouts instead of the due date the "
             "station asks for, as some ILSs do.")] = False,
    rest_port: Annotated[int | None, typer.Option(
        help="With --dialect koha: also serve Koha's REST holds API on this port.")] = None,
) -> None:
    """Run the demo ILS: a real SIP2 server over an in-memory library."""
    from ils.demo_server.data import DataError, load_library
    from ils.demo_server.server import DemoIlsServer, tls_context

    if (tls_cert is None) != (tls_key is None):
        typer.echo("--tls-cert and --tls-key go together", err=True)
        raise typer.Exit(EXIT_CONFIG)
    from ils.dialects import DIALECTS

    if encoding not in ("", "cp850", "utf-8", "ascii"):
        typer.echo("--encoding must be cp850, utf-8 or ascii", err=True)
        raise typer.Exit(EXIT_CONFIG)
    if dialect not in DIALECTS:
        typer.echo(f"--dialect must be one of {', '.join(DIALECTS)}", err=True)
        raise typer.Exit(EXIT_CONFIG)
    spoken = DIALECTS[dialect]
    if rest_port is not None and dialect != "koha":
        typer.echo("--rest-port is Koha's REST API: use it with --dialect koha", err=True)
        raise typer.Exit(EXIT_CONFIG)
    encoding = encoding or (spoken.encoding if dialect != "generic" else "utf-8")
    try:
        library = load_library(data)
        context = tls_context(tls_cert, tls_key) if tls_cert and tls_key else None
    except DataError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(EXIT_CONFIG) from None
    except (OSError, ValueError) as exc:
        typer.echo(f"TLS certificate or key unusable: {exc}", err=True)
        raise typer.Exit(EXIT_CONFIG) from None

    async def serve() -> None:
        server = DemoIlsServer(library, ledger=ledger, latency_ms=latency_ms, encoding=encoding,
                               ssl_context=context, dialect=spoken, own_due_dates=own_due_dates)
        bound = await server.start(host, port)
        rest = None
        if rest_port is not None:
            from ils.demo_server.koha_rest import KohaRest

            rest = KohaRest(server.library, asyncio.get_running_loop())
            typer.echo(f"Koha REST API on http://{host}:{rest.start(host, rest_port)}/api/v1",
                       err=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        scheme = "SIP2 over TLS" if context else "SIP2"
        typer.echo(f"demo ILS ({scheme}, {spoken.title}) listening on {host}:{bound}: "
                   f"{len(library.patrons)} patrons, {len(library.items)} items", err=True)
        await stop.wait()
        if rest is not None:
            await asyncio.to_thread(rest.close)
        await server.close()

    try:
        asyncio.run(serve())
    except OSError as exc:
        typer.echo(f"demo ILS failed: {exc}", err=True)
        raise typer.Exit(EXIT_FAILURE) from None


def _json_ready(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, list):
        return [_json_ready(v) for v in value]
    if isinstance(value, tuple):
        return [_json_ready(v) for v in value]
    return value


def _state(ctx: typer.Context) -> dict[str, Any]:
    return ctx.ensure_object(dict)


@sip2_app.callback()
def sip2_options(
    ctx: typer.Context,
    host: Annotated[str, typer.Option(help="ILS SIP2 host.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="ILS SIP2 port.")] = 6001,
    tls: Annotated[bool, typer.Option(help="Use TLS.")] = False,
    tls_verify: Annotated[bool, typer.Option(help="Verify the server certificate.")] = True,
    ca_file: Annotated[Path | None, typer.Option(help="CA bundle to verify the server with.")] = None,
    user: Annotated[str, typer.Option(help="SIP2 login user (CN); empty = no login.")] = "",
    password_env: Annotated[
        str, typer.Option(help="Environment variable holding the SIP2 login password (CO); a "
                               "password on the command line would show in `ps` and history.")
    ] = "BRONCO_ILS_PASSWORD",
    location: Annotated[str, typer.Option(help="Location code (CP, and AP on checkin).")] = "",
    institution: Annotated[str, typer.Option(help="Institution id (AO); default: the ILS's.")] = "",
    terminal_password: Annotated[str, typer.Option(help="Terminal password (AC).")] = "",
    encoding: Annotated[str, typer.Option(help="cp850, utf-8 or ascii.")] = "cp850",
    timeout: Annotated[float, typer.Option(help="Seconds to wait for each reply.")] = 10.0,
    no_checksum: Annotated[bool, typer.Option(help="Send no AY/AZ (error detection off).")] = False,
) -> None:
    from ils.sip2.client import Sip2Settings

    _state(ctx)["settings"] = Sip2Settings(
        host=host, port=port, tls=tls, tls_verify=tls_verify, ca_file=ca_file, encoding=encoding,
        error_detection=not no_checksum, login_user=user,
        login_password=os.environ.get(password_env, ""),
        location_code=location, institution_id=institution, terminal_password=terminal_password,
        timeout_s=timeout, retries=2,
    )


def _run(ctx: typer.Context, build: Any) -> None:
    """Connect, log in, send what `build(institution)` makes, print the reply as JSON."""
    from ils.errors import IlsRejected, IlsUnavailable
    from ils.sip2.client import Sip2Connection
    from ils.sip2.errors import ProtocolError

    settings = _state(ctx)["settings"]

    async def go() -> dict[str, Any]:
        connection = Sip2Connection(settings, "sip2-cli")
        try:
            status = await connection.connect()
            message = build(settings.institution_id or status.institution_id)
            reply = status if message is None else await connection.request(message)
        finally:
            await connection.close()
        body = {k: _json_ready(v) for k, v in dataclasses.asdict(reply).items()}
        return {"command": reply.command, "message": type(reply).__name__, **body}

    try:
        result = asyncio.run(go())
    except (IlsUnavailable, IlsRejected, ProtocolError) as exc:
        typer.echo(f"{type(exc).__name__}: {exc}", err=True)
        raise typer.Exit(EXIT_FAILURE) from None
    typer.echo(json.dumps(result, ensure_ascii=False, indent=2))


@sip2_app.command("status")
def sip2_status(ctx: typer.Context) -> None:
    """Log in and send SC status (99): is the ILS online, what does it support (BX)?"""
    _run(ctx, lambda institution: None)


@sip2_app.command("patron")
def sip2_patron(
    ctx: typer.Context,
    patron: PatronArg,
    pin: Annotated[str | None, typer.Option(help="Patron PIN (AD), to check it.")] = None,
    items: Annotated[str | None, typer.Option(
        help="Item list to include: hold_items, overdue_items, charged_items, fine_items, "
             "recall_items, unavailable_holds.")] = None,
) -> None:
    """Patron information (63)."""
    from ils.sip2.codec import now
    from ils.sip2.messages import SUMMARY_FIELDS, PatronInformationRequest, summary_for

    if items is not None and items not in SUMMARY_FIELDS:
        typer.echo(f"--items must be one of {', '.join(SUMMARY_FIELDS)}", err=True)
        raise typer.Exit(EXIT_CONFIG)
    terminal = _state(ctx)["settings"].terminal_password
    _run(ctx, lambda institution: PatronInformationRequest(
        transaction_date=now(), summary=summary_for(items), institution_id=institution,
        patron_id=patron, terminal_password=terminal, patron_password=pin,
    ))


PatronArg = Annotated[str, typer.Argument(help="Patron barcode (AA).")]
ItemArg = Annotated[str, typer.Argument(help="Item barcode (AB).")]
PinOption = Annotated[str | None, typer.Option(help="Patron PIN (AD).")]


def _loan_request(ctx: typer.Context, renew: bool, patron: str, item: str, pin: str | None) -> None:
    """Checkout (11) and renew (29) carry the same fields; AC is required only on checkout."""
    from ils.sip2.codec import now
    from ils.sip2.messages import CheckoutRequest, RenewRequest

    terminal = _state(ctx)["settings"].terminal_password
    when = now()
    common = {"transaction_date": when, "nb_due_date": when, "patron_id": patron,
              "patron_password": pin, "item_id": item}
    if renew:
        _run(ctx, lambda institution: RenewRequest(
            institution_id=institution, terminal_password=terminal or None, **common))
    else:
        _run(ctx, lambda institution: CheckoutRequest(
            renewal_policy=True, institution_id=institution, terminal_password=terminal, **common))


@sip2_app.command("checkout")
def sip2_checkout(ctx: typer.Context, patron: PatronArg, item: ItemArg, pin: PinOption = None) -> None:
    """Check an item out (11)."""
    _loan_request(ctx, False, patron, item, pin)


@sip2_app.command("checkin")
def sip2_checkin(ctx: typer.Context, item: ItemArg) -> None:
    """Check an item in (09) at --location."""
    from ils.sip2.codec import now
    from ils.sip2.messages import CheckinRequest

    settings = _state(ctx)["settings"]
    when = now()
    _run(ctx, lambda institution: CheckinRequest(
        transaction_date=when, return_date=when, current_location=settings.location_code,
        institution_id=institution, item_id=item, terminal_password=settings.terminal_password,
    ))


@sip2_app.command("renew")
def sip2_renew(ctx: typer.Context, patron: PatronArg, item: ItemArg, pin: PinOption = None) -> None:
    """Renew one item (29)."""
    _loan_request(ctx, True, patron, item, pin)


@sip2_app.command("item")
def sip2_item(ctx: typer.Context, item: ItemArg) -> None:
    """Item information (17)."""
    from ils.sip2.codec import now
    from ils.sip2.messages import ItemInformationRequest

    terminal = _state(ctx)["settings"].terminal_password
    _run(ctx, lambda institution: ItemInformationRequest(
        transaction_date=now(), institution_id=institution, item_id=item,
        terminal_password=terminal or None,
    ))


ils_app = typer.Typer(help="The library system (ILS) as the station sees it.", no_args_is_help=True)


@ils_app.command("doctor")
def ils_doctor(
    profile: Annotated[Path, typer.Option(help="Station profile whose [ils] to probe.")],
    patron: Annotated[str, typer.Option(
        help="A test card to look up (best with an accented name and a hold).")] = "",
    pin_env: Annotated[str, typer.Option(
        help="Environment variable holding the test card's PIN, if the ILS wants one.")] = "",
    item: Annotated[str, typer.Option(help="An item barcode to look up.")] = "",
    checkin_test: Annotated[str, typer.Option(
        help="A test item on the shelf (not on loan, no hold) to check in: the one probe that "
             "writes, and the only way to tell Sierra from a generic server.")] = "",
    json_out: Annotated[bool, typer.Option("--json", help="Print the findings as JSON.")] = False,
) -> None:
    """Probe the profile's ILS (login, status, one patron, one item; read-only unless
    --checkin-test names an item) and recommend the [ils] settings in plain words. Exit 1 when
    something fails."""
    import json

    from bronco.cli_common import load_or_exit
    from ils.doctor import Probe, diagnose

    loaded = load_or_exit(profile)
    ils = loaded.ils
    probe = Probe(
        host=ils.host, port=ils.port, tls=ils.tls, tls_verify=ils.tls_verify,
        ca_file=str(ils.ca_file) if ils.ca_file else None, login_user=ils.login_user,
        login_password=loaded.ils_password(),
        location_code=ils.login_location or loaded.station.location_code,
        institution_id=loaded.station.institution_id, dialect=ils.dialect, patron=patron,
        patron_pin=os.environ.get(pin_env) if pin_env else None, item=item,
        checkin_item=checkin_test, timeout_s=max(ils.timeout_s, 3.0))
    found = asyncio.run(diagnose(probe))
    typer.echo(json.dumps(found.as_dict(), indent=2, ensure_ascii=False) if json_out
               else found.text())
    raise typer.Exit(0 if found.ok else EXIT_FAILURE)
