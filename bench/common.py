"""What the benchmarks share: the peak memory of the process. Each benchmark prints its figures, or with --json one
JSON object per figure and line, which `python -m bench.report` collects into BENCHMARKS.md. Not a benchmark itself.
"""

from __future__ import annotations

import resource


def peak_mb() -> float:
    """Peak resident memory of this process so far, in MB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
