"""Numbers the launcher tests measure, printed and kept for the report.

Tests record what they measured here; each record is printed as one
``benchmark:`` line on the runner's stderr (stestr passes it through to
the console) and merged into ``functional-logs/benchmark.json``, which
``benchmarks/functional_run.py`` reads after timing the whole run.
"""

import json
import os
import statistics
import sys

from tests.functional.harness import artefacts

RESULTS = os.path.join(artefacts.ARTEFACT_ROOT, 'benchmark.json')


def _merge(key, value):
    os.makedirs(artefacts.ARTEFACT_ROOT, exist_ok=True)
    try:
        with open(RESULTS) as f:
            data = json.load(f)
    except (OSError, ValueError):
        data = {}
    data[key] = value
    tmp = RESULTS + '.tmp'
    with open(tmp, 'w') as f:
        json.dump(data, f, indent=2, sort_keys=True)
    os.replace(tmp, RESULTS)


def record_label_latencies(latencies):
    """``latencies``: label -> list of request-to-fulfilled seconds."""
    summary = {}
    for label in sorted(latencies):
        values = latencies[label]
        summary[label] = {'requests': len(values),
                          'median_s': round(statistics.median(values), 3),
                          'max_s': round(max(values), 3)}
        sys.__stderr__.write(
            'benchmark: request to fulfilled %s: median %.2f s, max %.2f s '
            '(%d requests)\n' % (label, summary[label]['median_s'],
                                 summary[label]['max_s'], len(values)))
    sys.__stderr__.flush()
    _merge('request_to_fulfilled', summary)


def record(key, value, line):
    sys.__stderr__.write('benchmark: %s\n' % line)
    sys.__stderr__.flush()
    _merge(key, value)
