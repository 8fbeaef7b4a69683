"""The `bronco` executable. `bronco station ...` takes the lean path (no Typer); everything else,
`bronco station --help` included, goes to the Typer app in bronco/cli.py."""

from __future__ import annotations

import sys


def main() -> None:
    args = sys.argv[1:]
    if args[:1] == ["station"] and not {"--help", "-h"} & set(args):
        from bronco.serve_station import main as station_main

        sys.exit(station_main(args[1:]))
    from bronco.cli import main as cli_main

    cli_main()
