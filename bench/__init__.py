"""Benchmarks: each module has run() -> dict and prints JSON when run as a script."""
