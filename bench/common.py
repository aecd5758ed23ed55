"""What the benchmarks share: the peak memory of the process. Each benchmark prints its figures, or with --json one
JSON object per figure and line, which `python -m bench.report` collects into BENCHMARKS.md. Not a benchmark itself.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
from collections.abc import Awaitable, Callable
from typing import Any


def peak_mb() -> float:
    """Peak resident memory of this process so far, in MB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def fan_out_main(
    doc: str | None,
    run_case: Callable[[str, int, float], Awaitable[dict[str, Any]]],
    describe: Callable[[dict[str, Any]], str],
    *,
    cases: tuple[str, ...],
    rate: float,
    rate_help: str,
) -> None:
    """The command line the fan-out benchmarks share: --members, --rate, --case (one, or all in turn), --json."""
    parser = argparse.ArgumentParser(description=(doc or "").splitlines()[0])
    parser.add_argument("--members", type=int, default=2000)
    parser.add_argument("--rate", type=float, default=rate, help=rate_help)
    parser.add_argument("--case", choices=(*cases, "all"), default="all")
    parser.add_argument("--json", action="store_true", help="one JSON object per case and line, nothing else")
    args = parser.parse_args()

    async def run_all() -> None:
        for case in cases if args.case == "all" else (args.case,):
            result = await run_case(case, args.members, args.rate)
            print(json.dumps(result) if args.json else describe(result), flush=True)

    asyncio.run(run_all())
