"""`bronco release ...` (make and sign bundles) and `bronco update ...` (install one here)."""

from __future__ import annotations

import json
import os
import tomllib
from pathlib import Path
from typing import Annotated

import typer

from bronco.cli_common import EXIT_CONFIG, EXIT_FAILURE

release_app = typer.Typer(help="Release bundles: build, sign, check.", no_args_is_help=True)
update_app = typer.Typer(help="Install a release bundle on this station.", no_args_is_help=True)
KEYS = Path("/etc/bronco/release-keys")


@release_app.command("keygen")
def release_keygen(out: Annotated[Path, typer.Argument(help="The private key file to write.")]) -> None:
    """An Ed25519 signing key (OUT, 0600) and its public key (OUT.pub, for each station's
    /etc/bronco/release-keys/)."""
    from station_core.durable_files import write_durably
    from station_core.release_bundle import new_key_pair

    if out.exists():
        typer.echo(f"{out} exists: a signing key is never overwritten", err=True)
        raise typer.Exit(EXIT_CONFIG)
    private, public = new_key_pair()
    write_durably(out, private, mode=0o600)
    write_durably(out.with_name(out.name + ".pub"), public, mode=0o644)
    typer.echo(f"private key {out}; public key {out}.pub")


@release_app.command("build")
def release_build(
    src: Annotated[Path, typer.Option(help="The source tree.")] = Path("."),
    out: Annotated[Path, typer.Option(help="Where the bundle goes.")] = Path("dist"),
    min_from: Annotated[str, typer.Option(help="The oldest version it may update.")] = "0.0.0",
    reversible: Annotated[bool, typer.Option(help="Its migrations can be undone.")] = False,
    extras: Annotated[str, typer.Option(help="Extras whose wheels go in (kiosk,llrp,...).")] = "",
) -> None:
    """Build bronco-station-<version>-<arch>.tar for this machine's architecture (unsigned)."""
    from bronco.release import build

    try:
        path = build(src.resolve(), out, min_from=min_from, reversible=reversible, extras=extras)
    except (RuntimeError, ValueError, OSError) as exc:
        typer.echo(f"build failed: {exc}", err=True)
        raise typer.Exit(EXIT_FAILURE) from None
    typer.echo(str(path))


@release_app.command("sign")
def release_sign(
    bundle: Annotated[Path, typer.Argument(help="The bundle.")],
    key: Annotated[Path, typer.Option(help="The private key (bronco release keygen).")],
) -> None:
    """Sign the bundle's manifest with Ed25519."""
    from station_core.release_bundle import BundleRefused, sign_bundle

    try:
        sign_bundle(bundle, key.read_bytes())
    except (BundleRefused, OSError, ValueError) as exc:
        typer.echo(f"not signed: {exc}", err=True)
        raise typer.Exit(EXIT_CONFIG) from None
    typer.echo(f"signed {bundle}")


@release_app.command("verify")
def release_verify(
    bundle: Annotated[Path, typer.Argument(help="The bundle.")],
    keys: Annotated[Path, typer.Option(help="Folder of trusted public keys.")] = KEYS,
    installed: Annotated[str, typer.Option(help="The version it would update.")] = "0.0.0",
) -> None:
    """Check a bundle as a station would; exit 2 with the reason if it would be refused."""
    from station_core.release_bundle import BundleRefused, describe, trusted_keys, verify

    try:
        manifest, _ = verify(bundle, trusted_keys(keys), installed=installed)
    except BundleRefused as exc:
        typer.echo(f"refused: {exc}", err=True)
        raise typer.Exit(EXIT_CONFIG) from None
    typer.echo(json.dumps(describe(manifest)))


def _station(profile: Path, prefix: Path, keys: Path, kiosk: bool) -> object:
    from bronco.update import Station

    with profile.open("rb") as fh:
        server = tomllib.load(fh).get("server", {})
    url = str(server.get("database_url", "sqlite:////var/lib/bronco/station.db"))
    database = Path(url.removeprefix("sqlite:///")) if url.startswith("sqlite:///") else Path()
    if not database.is_absolute():
        database = Path("/var/lib/bronco") / database
    return Station(prefix=prefix, keys=keys, database=database,
                   healthz=f"http://127.0.0.1:{server.get('port', 8080)}/healthz",
                   services=["bronco-station", *(["bronco-kiosk"] if kiosk else [])])


ProfileArg = Annotated[Path, typer.Option("--profile", envvar="BRONCO_PROFILE",
                                          help="The station's profile.")]
PrefixArg = Annotated[Path, typer.Option(help="Where releases are installed.")]


@update_app.command("apply")
def update_apply(
    bundle: Annotated[Path | None, typer.Argument(help="A signed release bundle.")] = None,
    request: Annotated[Path | None, typer.Option(
        help="Or: the station's request for a rollout's bundle (bronco-update.service).")] = None,
    profile: ProfileArg = Path("/etc/bronco/profile.toml"),
    prefix: PrefixArg = Path("/opt/bronco"),
    keys: Annotated[Path, typer.Option(help="Trusted public keys.")] = KEYS,
    gate_s: Annotated[float, typer.Option(help="The health gate's time.",
                                          envvar="BRONCO_UPDATE_GATE_S")] = 180,
) -> None:
    """Verify, wait for idle, unpack, back up, switch, restart, health gate; roll back by itself
    if the gate fails. Prints the outcome as JSON (exit 0 installed, 1 rolled back, 2 refused)."""
    from bronco.update import apply, as_dict
    from station_core.release_bundle import BundleRefused

    asked: dict[str, object] = {}
    if request is not None:
        taken = request.with_name("request.taken.json")
        try:
            os.replace(request, taken)  # taken: the path unit does not start this again
            asked = json.loads(taken.read_text())
            bundle = Path(str(asked["bundle"]))
        except (OSError, ValueError, KeyError) as exc:
            typer.echo(f"no usable update request: {exc}", err=True)
            raise typer.Exit(EXIT_CONFIG) from None
    if bundle is None:
        typer.echo("give a bundle, or --request", err=True)
        raise typer.Exit(EXIT_CONFIG)
    kiosk = Path("/etc/systemd/system/bronco-kiosk.service").exists()
    station = _station(profile, prefix, keys, kiosk)
    try:
        outcome = as_dict(apply(bundle, station, typer.echo, gate_s=gate_s, kiosk=kiosk,  # type: ignore[arg-type]
                                crash_at=os.environ.get("BRONCO_UPDATE_CRASH_AT", "")))
    except BundleRefused as exc:
        outcome = {"result": "refused", "reason": str(exc)}
    if request is not None:  # for the station to report to the hub, whichever version runs
        _result_for_station(request.with_name("result.json"),
                            {"rollout": asked.get("rollout", 0), "version": asked.get("version", ""),
                             "result": outcome["result"], "reason": outcome.get("reason", "")})
    typer.echo(json.dumps(outcome))
    raise typer.Exit({"refused": EXIT_CONFIG, "rolled_back": EXIT_FAILURE}.get(str(outcome["result"]), 0))


def _result_for_station(path: Path, result: dict[str, object]) -> None:
    import shutil

    from station_core.durable_files import write_durably

    write_durably(path, json.dumps(result).encode(), mode=0o600)
    owner = path.parent.stat()
    shutil.chown(path, owner.st_uid, owner.st_gid)  # the station's own folder: its user reads it


@update_app.command("recover")
def update_recover(
    profile: ProfileArg = Path("/etc/bronco/profile.toml"),
    prefix: PrefixArg = Path("/opt/bronco"),
) -> None:
    """At boot: undo an update stopped before its health gate passed (bronco-update-recover)."""
    from bronco.update import as_dict, recover

    kiosk = Path("/etc/systemd/system/bronco-kiosk.service").exists()
    outcome = recover(_station(profile, prefix, KEYS, kiosk), typer.echo)  # type: ignore[arg-type]
    typer.echo(json.dumps(as_dict(outcome)) if outcome else "no interrupted update")


recovery_app = typer.Typer(help="The library's recovery key for station state copies.",
                           no_args_is_help=True)


@recovery_app.command("keygen")
def recovery_keygen(out: Annotated[Path, typer.Argument(help="The private key file to write.")]) -> None:
    """The recovery key pair: OUT (private, 0600: keep it off every station and the hub) and the
    public key printed for each profile's [hub] recovery_key."""
    from station_core.durable_files import write_durably
    from station_core.sealing import recovery_key_pair

    if out.exists():
        typer.echo(f"{out} exists: a recovery key is never overwritten", err=True)
        raise typer.Exit(EXIT_CONFIG)
    private, public = recovery_key_pair()
    write_durably(out, private, mode=0o600)
    typer.echo(f'recovery_key = "{public.decode().strip()}"   # for [hub] in each profile')


def restore(
    profile: ProfileArg = Path("/etc/bronco/profile.toml"),
    from_hub: Annotated[bool, typer.Option("--from-hub", help="From the hub's sealed copy.")] = False,
    code: Annotated[str, typer.Option(help="An enrolment code that replaces this station.")] = "",
    recovery_key: Annotated[Path | None, typer.Option(help="The library's recovery private key.")] = None,
    force: Annotated[bool, typer.Option(help="Overwrite a database that is in use.")] = False,
) -> None:
    """A new SD card: bring back lockers, pickup codes, the unsent queue, staff and the station
    key from the hub (run with the station stopped, after the install)."""
    from bronco.cli_common import load_or_exit
    from bronco.restore import RestoreRefused
    from bronco.restore import restore as do_restore

    if not from_hub or not code or recovery_key is None:
        typer.echo("give --from-hub, --code (made on the hub to replace this station) and "
                   "--recovery-key", err=True)
        raise typer.Exit(EXIT_CONFIG)
    loaded = load_or_exit(profile)
    try:
        done = do_restore(loaded, code=code, recovery_private=recovery_key.read_text(), force=force,
                          say=typer.echo)
    except (RestoreRefused, OSError) as exc:
        typer.echo(f"not restored: {exc}", err=True)
        raise typer.Exit(EXIT_FAILURE) from None
    typer.echo(json.dumps({"taken_at": done.taken_at, "queued": done.queued,
                           "marked_done": done.marked_done, "lockers_in_use": done.lockers_in_use,
                           "database": str(done.database), "key_file": str(done.key_file)}))
