"""The run store's own cost: the median time of the operations the app and the training processes call most, on the
SQLite file (a temp folder) and, with ``--postgres``, on a throwaway PostgreSQL cluster (``tests/pg.py``; or
``--url URL`` for a server that is already there).

    .venv/bin/python scripts/bench_store.py [--postgres] [--url postgresql://…] [--repeats 200]

Prints one line per store: ``Store()`` (open, version check), ``list()`` (the runs table, 50 runs), ``get()``,
``claim+release`` (the lease), ``beat()`` (a training process's heartbeat).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def measure(repeats: int) -> dict[str, float]:
    """Median milliseconds per operation on the store ``EXPLORER_STORE_URL`` / ``EXPLORER_HOME`` name."""
    from explorer.runtime import runs
    from explorer.runtime.train import Recipe

    store = runs.Store()
    ids = [store.create("lenet", Recipe()) for _ in range(50)]
    operations: dict[str, Callable[[], object]] = {
        "Store()": runs.Store, "list()": store.list, "get()": lambda: store.get(ids[7]),
        "claim+release": lambda: (store.claim(ids[0]), store.release(ids[0])), "beat()": lambda: store.beat(ids[1]),
    }
    out = {}
    for name, operation in operations.items():
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            operation()
            times.append(time.perf_counter() - start)
        out[name] = statistics.median(times) * 1000
    return out


def line(label: str, times: dict[str, float]) -> str:
    return f"{label:<12}" + "  ".join(f"{name} {ms:.2f} ms" for name, ms in times.items())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", action="store_true", help="also on a throwaway PostgreSQL cluster")
    parser.add_argument("--url", help="also on this store URL (its runs table gets 50 runs)")
    parser.add_argument("--repeats", type=int, default=200)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-store-") as home:
        os.environ["EXPLORER_HOME"] = home
        os.environ.pop("EXPLORER_STORE_URL", None)
        print(line("SQLite", measure(args.repeats)))
        if args.url:
            os.environ["EXPLORER_STORE_URL"] = args.url
            print(line("URL", measure(args.repeats)))
        if args.postgres:
            from tests.pg import start_cluster

            cluster = start_cluster()
            try:
                os.environ["EXPLORER_STORE_URL"] = cluster.database()
                print(line("PostgreSQL", measure(args.repeats)))
            finally:
                cluster.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
