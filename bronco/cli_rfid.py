"""`bronco tag` (decode and encode library tag data) and `bronco rfid watch`."""

from __future__ import annotations

import json
import time
from dataclasses import asdict
from typing import TYPE_CHECKING, Annotated

import typer

from bronco.cli_common import EXIT_CONFIG, EXIT_FAILURE

if TYPE_CHECKING:
    from rich.table import Table


tag_app = typer.Typer(help="Library tag data (ISO 28560, GS1 EPC).", no_args_is_help=True)
rfid_app = typer.Typer(help="RFID readers.", no_args_is_help=True)


@tag_app.command("decode")
def tag_decode(
    data: Annotated[str, typer.Argument(help="Tag memory (or EPC) as hex.")],
    scheme: Annotated[str, typer.Option(help="hf-auto, 28560-3, 28560-2, 28560-4 or gs1.")] = "hf-auto",
) -> None:
    """Print the decoded tag as JSON (exit 1 if it cannot be read)."""
    from rfid.tags.decoding import decode_tag
    from rfid.tags.model import TagDataError

    try:
        raw = bytes.fromhex(data.replace(" ", "").replace(":", ""))
    except ValueError:
        typer.echo("not hex", err=True)
        raise typer.Exit(EXIT_CONFIG) from None
    try:
        value = decode_tag(raw, scheme)
    except TagDataError as exc:
        typer.echo(f"unreadable: {exc}", err=True)
        raise typer.Exit(EXIT_FAILURE) from None
    body = asdict(value)
    body["usage"] = value.usage.name.lower()
    typer.echo(json.dumps(body, ensure_ascii=False))


@tag_app.command("encode")
def tag_encode(
    item: Annotated[str, typer.Option(help="Primary item identifier (the barcode).")],
    country: Annotated[str, typer.Option(help="Owner library's country, ISO 3166 (e.g. US).")],
    library: Annotated[str, typer.Option(help="Owner library (ISIL, or its suffix for 28560-3).")],
    parts: Annotated[int, typer.Option(min=1, max=255, help="Pieces in the set.")] = 1,
    part: Annotated[int, typer.Option(min=1, max=255, help="This piece's number.")] = 1,
    usage: Annotated[str, typer.Option(help="circulating, not_for_loan, acquisition, discarded, "
                                            "patron_card or equipment.")] = "circulating",
    scheme: Annotated[str, typer.Option(help="28560-3, 28560-2 or 28560-4.")] = "28560-3",
) -> None:
    """Print the tag data as hex, for staff who program tags."""
    from rfid.tags.decoding import encode_tag
    from rfid.tags.model import TagDataError, TagValue, Usage

    try:
        value = TagValue(item, library, country.upper(), parts, part, Usage[usage.upper()])
        typer.echo(encode_tag(value, scheme).hex().upper())
    except KeyError:
        typer.echo(f"unknown usage {usage!r}", err=True)
        raise typer.Exit(EXIT_CONFIG) from None
    except (ValueError, TagDataError) as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(EXIT_CONFIG) from None


@tag_app.command("program")
def tag_program(
    barcode: Annotated[str, typer.Argument(help="The item's barcode.")],
    parts: Annotated[int | None, typer.Option(
        min=1, max=255, help="Pieces in the set (one tag each, all on the pad); default: as the "
                             "ILS says, else 1.")] = None,
    station: Annotated[str, typer.Option(help="The station's URL.")] = "http://127.0.0.1:8080",
    reader: Annotated[str | None, typer.Option(help="The programming pad (default: the first).")]
    = None,
    overwrite: Annotated[bool, typer.Option(help="Replace another item's or library's data "
                                                 "(audited).")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Write the tags on the station's programming pad for BARCODE, verified by read-back
    (needs $BRONCO_STAFF_TOKEN). Exits 1 unless every tag was verified."""
    from bronco.cli_common import staff_call

    result = staff_call("POST", f"{station.rstrip('/')}/api/v1/staff/tags/program",
                        json={"item_id": barcode, "parts": parts, "reader": reader,
                              "overwrite": overwrite})
    if as_json:
        typer.echo(json.dumps(result, ensure_ascii=False))
    else:
        typer.echo(f"{result['item_id']}: {result['title']}")
        for tag in result["tags"]:
            note = f" ({tag['detail']})" if tag["detail"] else ""
            typer.echo(f"  part {tag['part']}/{result['parts']} on {tag['uid']}: "
                       f"{tag['outcome'].replace('_', ' ')}{note}")
    if not result["done"]:
        raise typer.Exit(EXIT_FAILURE)


def _table(rows: list[dict], reader: str) -> Table:
    from rich.table import Table

    table = Table(title=f"Tags on {reader} ({len(rows)})")
    for column in ("uid", "item", "part", "model", "problem"):
        table.add_column(column)
    for row in rows:
        table.add_row(row["uid"], row["item_id"] or "-",
                      f"{row['part']}/{row['parts']}" if row["part"] else "-",
                      row["data_model"] or "-", row["error"] or "")
    return table


@rfid_app.command("watch")
def rfid_watch(
    station: Annotated[str, typer.Option(help="Station base URL.")] = "http://127.0.0.1:8080",
    seconds: Annotated[float, typer.Option(help="Stop after this long (0 = until Ctrl-C).")] = 0,
    once: Annotated[bool, typer.Option(help="Print the tags once, as JSON.")] = False,
) -> None:
    """Live list of the tags on the kiosk's pad, as the station (which owns the reader) sees them."""
    import httpx  # only here: the station process imports this module and never needs it

    url = f"{station.rstrip('/')}/api/v1/pad/tags"

    def fetch() -> list[dict]:
        response = httpx.get(url, timeout=3)
        response.raise_for_status()
        return response.json()

    try:
        rows = fetch()
        if once:
            typer.echo(json.dumps(rows))
            return
        deadline = time.monotonic() + seconds if seconds else None
        from rich.console import Console
        from rich.live import Live

        with Live(_table(rows, "the pad"), console=Console(), refresh_per_second=4) as live:
            while deadline is None or time.monotonic() < deadline:
                time.sleep(0.25)
                live.update(_table(fetch(), "the pad"))
    except httpx.HTTPError as exc:
        typer.echo(f"station not reachable or has no pad: {exc}", err=True)
        raise typer.Exit(EXIT_FAILURE) from None
    except KeyboardInterrupt:
        return
