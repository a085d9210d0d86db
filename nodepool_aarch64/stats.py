"""The percentile every report quotes: waits, durations, objectives.

One definition, so that a wait objective, the simulator's report and
readiness' duration headroom rank the same values the same way.
"""

import math


def percentile(values, q):
    """Nearest-rank percentile; ``inf`` counts as the largest value."""
    if not values:
        return float('nan')
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100.0 * len(ordered)))
    return ordered[rank - 1]
