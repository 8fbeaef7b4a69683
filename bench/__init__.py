"""Benchmarks: each module has run() -> dict and prints JSON when run as a script."""


def quick() -> bool:
    """`bronco bench --quick` (BRONCO_BENCH_QUICK=1): every benchmark at small sizes, to prove it
    still runs and reports its figures - the figures themselves mean nothing then."""
    import os

    return os.environ.get("BRONCO_BENCH_QUICK") == "1"
