"""Starting the station service: shared by `bronco station` in the Typer app and by the lean path
of bronco/entry.py, which starts the station without loading Typer or the other sub-apps (the
station is the long-running process on a small Pi: what it does not import stays free)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

EXIT_OK, EXIT_FAILURE, EXIT_CONFIG = 0, 1, 2


def serve(profile_path: Path, host: str | None, port: int | None, log_level: str) -> int:
    """Run the station until SIGTERM/SIGINT; the process exit code."""
    from bronco.malloc_tuning import return_big_blocks

    return_big_blocks()
    from station_core.profile import ProfileError, load_profile

    try:
        profile = load_profile(profile_path)
    except ProfileError as exc:
        print(exc, file=sys.stderr)
        return EXIT_CONFIG
    from bridge.server import run_station

    try:
        started = run_station(profile, host, port, log_level)
    except OSError as exc:
        print(f"station failed: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    if not started:
        print("station failed to start (see the log above)", file=sys.stderr)
        return EXIT_FAILURE
    return EXIT_OK


def main(args: list[str]) -> int:
    """`bronco station` options, parsed as the Typer command parses them."""
    parser = argparse.ArgumentParser(prog="bronco station", add_help=False)
    from_env = os.environ.get("BRONCO_PROFILE")  # as Typer's envvar for --profile
    parser.add_argument("--profile", "-p", type=Path, required=not from_env, default=from_env)
    parser.add_argument("--host")
    parser.add_argument("--port", type=int)
    parser.add_argument("--log-level", default="info",
                        choices=["debug", "info", "warning", "error"])
    options = parser.parse_args(args)  # a usage error exits 2, as Typer's would
    return serve(options.profile, options.host, options.port, options.log_level)
