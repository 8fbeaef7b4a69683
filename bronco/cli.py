"""`bronco`: one command line for the station, the kiosk, the demo and library IT's tools.

Exit codes: 0 ok, 1 runtime failure, 2 usage or configuration error.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from bronco.cli_bench import bench
from bronco.cli_common import EXIT_CONFIG, EXIT_FAILURE, ProfileOption, load_or_exit
from bronco.cli_hub import hub_app
from bronco.cli_ils import demo_ils, ils_app, sip2_app
from bronco.cli_locker import locker_app
from bronco.cli_profile import profile_app
from bronco.cli_release import recovery_app, release_app, restore, update_app
from bronco.cli_rfid import rfid_app, tag_app
from bronco.cli_setup import setup
from bronco.cli_station import queue_app, staff_app
from station_core.profile import Profile

app = typer.Typer(
    name="bronco",
    help="Bronco Station: library self-service kiosks and hold-pickup lockers.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(profile_app, name="profile")
app.command("demo-ils")(demo_ils)
app.command("bench")(bench)
app.command("setup")(setup)
app.add_typer(sip2_app, name="sip2")
app.add_typer(ils_app, name="ils")
app.add_typer(staff_app, name="staff")
app.add_typer(queue_app, name="queue")
app.add_typer(tag_app, name="tag")
app.add_typer(rfid_app, name="rfid")
app.add_typer(locker_app, name="locker")
app.add_typer(hub_app, name="hub")
app.add_typer(release_app, name="release")
app.add_typer(update_app, name="update")
app.add_typer(recovery_app, name="recovery")
app.command("restore")(restore)


@app.command()
def station(
    profile: ProfileOption,
    host: Annotated[str | None, typer.Option(help="Listen address (default: the profile's).")] = None,
    port: Annotated[int | None, typer.Option(help="Listen port (default: the profile's).")] = None,
    log_level: Annotated[str, typer.Option(help="debug, info, warning or error.")] = "info",
) -> None:
    """Run the station service: owns every device and the database, serves the API."""
    from bronco.serve_station import serve

    raise typer.Exit(serve(profile, host, port, log_level))


@app.command()
def kiosk(
    profile: ProfileOption,
    station_url: Annotated[str, typer.Option("--station", help="Station base URL.")] = (
        "http://127.0.0.1:8080"
    ),
    screenshots: Annotated[
        Path | None,
        typer.Option(help="Walk every screen offscreen, save one PNG each here, then exit."),
    ] = None,
    lang: Annotated[str, typer.Option(help="Language: en or es.")] = "",
    windowed: Annotated[
        bool, typer.Option(help="Run in a window even if the profile says fullscreen.")
    ] = False,
    enrol: Annotated[str, typer.Option(
        help="Enrol this kiosk with the one-time code from the console, keep its credential in "
             "kiosk.credential_file, then exit.")] = "",
    kiosk_id: Annotated[str, typer.Option(help="This kiosk's id when enrolling.")] = "",
    theme: Annotated[str, typer.Option(
        help="With --screenshots: standard or high-contrast (default: the profile's).")] = "",
    text_scale: Annotated[float, typer.Option(
        help="With --screenshots: 1, 1.5 or 2 (default: the profile's).")] = 0,
    size: Annotated[str, typer.Option(
        help="With --screenshots: the window, WxH (800x480, 1280x800, 720x1280...).")] = "1024x600",
) -> None:
    """Run the touchscreen kiosk app (talks to the station over HTTP and WebSocket)."""
    loaded = load_or_exit(profile)
    if theme not in ("", "standard", "high-contrast") or text_scale not in (0, 1, 1.5, 2):
        typer.echo("--theme is standard or high-contrast; --text-scale is 1, 1.5 or 2", err=True)
        raise typer.Exit(EXIT_CONFIG)
    width, _x, height = size.partition("x")
    if not (width.isdigit() and height.isdigit() and 320 <= int(width) <= 4096
            and 320 <= int(height) <= 4096):
        typer.echo("--size is WIDTHxHEIGHT in pixels, e.g. 800x480", err=True)
        raise typer.Exit(EXIT_CONFIG)
    if enrol:
        raise typer.Exit(_enrol_kiosk(loaded, station_url, enrol, kiosk_id))
    if lang and lang not in loaded.kiosk.languages:
        typer.echo(f"--lang must be one of {', '.join(loaded.kiosk.languages)}", err=True)
        raise typer.Exit(EXIT_CONFIG)
    try:
        from kiosk.launcher import run_kiosk
    except ImportError as exc:
        typer.echo(f"the kiosk needs Kivy: pip install 'bronco-station[kiosk]' ({exc})", err=True)
        raise typer.Exit(EXIT_FAILURE) from None
    try:
        code = run_kiosk(loaded, station_url, screenshots=screenshots, lang=lang or None,
                         windowed=windowed, theme=theme, text_scale=text_scale,
                         size=(int(width), int(height)))
    except ValueError as exc:  # e.g. kiosk.keypad names a key this keyboard does not have
        typer.echo(f"{profile}: {exc}", err=True)
        raise typer.Exit(EXIT_CONFIG) from None
    raise typer.Exit(code)


def _enrol_kiosk(profile: Profile, station_url: str, code: str, kiosk_id: str) -> int:
    from kiosk.api import ApiError, StationApi
    from kiosk.credential import Enrolment, save_enrolment

    target = profile.kiosk.credential_file
    if target is None or not kiosk_id:
        typer.echo("enrolling needs --kiosk-id and kiosk.credential_file in the profile", err=True)
        return EXIT_CONFIG
    certificate = ""
    if station_url.startswith("https://"):
        from bridge.access.tls import fetch_certificate, fingerprint

        pem = fetch_certificate(station_url)  # first contact: this certificate is pinned from now
        certificate = pem.decode("ascii")
        typer.echo(f"station certificate SHA-256 {fingerprint(pem)}: compare it with the console")
    pinned = Enrolment(kiosk_id, "", certificate)
    api = StationApi(station_url, tls=pinned.ssl_context())
    try:
        credential = api.enrol(code, kiosk_id, profile.station.name)
    except ApiError as exc:
        typer.echo(f"enrolment refused: {exc.detail}", err=True)
        return EXIT_FAILURE
    finally:
        api.close()
    save_enrolment(target, Enrolment(kiosk_id, credential, certificate))
    typer.echo(f"kiosk '{kiosk_id}' enrolled; its credential is in {target}")
    return 0


@app.command()
def demo(
    headless: Annotated[bool, typer.Option(help="No kiosk window (machines with no screen).")] = False,
    profile: Annotated[Path | None, typer.Option(help="Profile (default: simulated.toml).")] = None,
    port: Annotated[int, typer.Option(help="Station port (with --fleet: the first station's).")] = 8080,
    fleet: Annotated[bool, typer.Option(
        help="A fleet hub and two stations (two banks in two branches) instead of one station.",
    )] = False,
    hub_port: Annotated[int, typer.Option(help="The hub's port, with --fleet.")] = 8090,
    folder: Annotated[Path, typer.Option(
        help="Where --fleet keeps its profiles and databases.")] = Path("bronco-fleet-demo"),
    returns: Annotated[bool, typer.Option(
        "--returns", help="The book drop instead: a return slot, a belt with eight bins (its PLC "
                          "emulated on Modbus TCP) and items going through it.")] = False,
) -> None:
    """Run the whole stack on simulated hardware: demo ILS, station and kiosk. Ctrl-C stops it.

    The demo ILS listens on the profile's ILS port.
    """
    from bronco.demo import DemoError, run_demo, shipped_profile

    path = profile or shipped_profile("simulated.toml")
    load_or_exit(path)
    try:
        if returns:
            from bronco.demo_returns import run_returns_demo

            raise typer.Exit(run_returns_demo(Path("bronco-returns-demo").resolve(),
                                              headless=headless, port=port))
        if fleet:
            from bronco.demo_fleet import run_fleet_demo

            raise typer.Exit(run_fleet_demo(path, headless=headless, port=port,
                                            hub_port=hub_port, folder=folder.resolve()))
        raise typer.Exit(run_demo(path, headless=headless, port=port))
    except DemoError as exc:
        typer.echo(f"demo failed: {exc}", err=True)
        raise typer.Exit(EXIT_FAILURE) from None


@app.command()
def doctor(
    profile: ProfileOption,
    json_out: Annotated[bool, typer.Option("--json", help="Print the findings as JSON.")] = False,
) -> None:
    """Check every device in the profile and the ILS login; say what is wrong in plain words.

    Exit 0 when nothing failed (warnings allowed), 1 when a check failed, 2 for a bad profile.
    """
    import asyncio
    import json

    from bronco.doctor import diagnose

    loaded = load_or_exit(profile)
    findings = asyncio.run(diagnose(loaded))
    if json_out:
        typer.echo(json.dumps([f.as_dict() for f in findings], indent=2, ensure_ascii=False))
    else:
        marks = {"ok": "OK  ", "warn": "WARN", "fail": "FAIL"}
        for finding in findings:
            typer.echo(f"{marks[finding.level]}  {finding.area:<12} {finding.name:<16} "
                       f"{finding.message}")
            if finding.hint and finding.level != "ok":
                typer.echo(f"{'':<36}-> {finding.hint}")
    if any(f.level == "fail" for f in findings):
        raise typer.Exit(EXIT_FAILURE)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
