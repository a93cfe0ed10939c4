"""Run the benchmarks and print one JSON object per line on stdout (logs go to stderr).

Usage:
    python -m tests.bench.run                  # every bench
    python -m tests.bench.run --bench intake   # one bench (repeat --bench for several)
    python -m tests.bench.run --quick          # shorter runs, for a smoke check
    python -m tests.bench.run --list           # the registered benches

Each result line looks like
    {"bench": "intake", "case": "c8", "metric": "orders_per_s", "value": 142.3, "unit": "orders/s"}
A bench that cannot run prints {"bench": NAME, "error": "..."} and the command exits 1.

Adding a bench: write a module under tests/bench with a function `run(*, quick: bool)` that yields
result dicts, and register it in BENCHES as "module:function" (imported only when it runs, so
`--help` and `--list` need no database).
"""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import signal
import sys
from collections.abc import Callable, Iterator

log = logging.getLogger("bench")

# name → "module:function"; the function takes quick=bool and yields result dicts.
BENCHES: dict[str, str] = {
    "intake": "tests.bench.intake:run",
    "scheduler": "tests.bench.scheduler:run",
    "sync": "tests.bench.sync:run",
    "changes": "tests.bench.changes:run",
    "dashboard": "tests.bench.dashboard:run",
    "import": "tests.bench.imports:run",
    "order_pages": "tests.bench.order_pages:run",
    "shopfloor": "tests.bench.shopfloor:run",
    "promise_materials": "tests.bench.promise_materials:run",
    "mrp": "tests.bench.mrp:run",
}


def load(name: str) -> Callable[..., Iterator[dict]]:
    module_name, _, attr = BENCHES[name].partition(":")
    return getattr(importlib.import_module(module_name), attr)


def emit(result: dict) -> None:
    print(json.dumps(result, ensure_ascii=False, allow_nan=False), flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.bench.run",
        description="OrderBridge benchmarks: one JSON object per line on stdout, logs on stderr.",
    )
    parser.add_argument(
        "--bench",
        action="append",
        choices=sorted(BENCHES),
        help="bench to run (repeatable; default: all)",
    )
    parser.add_argument("--quick", action="store_true", help="short runs (smoke check, noisy figures)")
    parser.add_argument("--list", action="store_true", help="list the benches and exit")
    args = parser.parse_args(argv)
    if args.list:
        for name in sorted(BENCHES):
            print(name)
        return 0

    # A TERM (e.g. from CI's timeout) unwinds like Ctrl-C, so benches stop the servers they started.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(asctime)s bench %(message)s")
    failed = False
    for name in args.bench or list(BENCHES):
        log.info("bench %s: start%s", name, " (quick)" if args.quick else "")
        try:
            for result in load(name)(quick=args.quick):
                emit({"bench": name, **result})
                failed = failed or "error" in result
        except KeyboardInterrupt:
            emit({"bench": name, "error": "interrupted"})
            return 130
        except Exception as exc:
            log.exception("bench %s failed", name)
            emit({"bench": name, "error": f"{type(exc).__name__}: {exc}"})
            failed = True
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
