"""What a job's builds in the window say about it.

Runs are final builds that reached a verdict (SUCCESS, a job failure or
an infrastructure failure); builds that were skipped, aborted or
dequeued are not runs of the job.  Infrastructure failures are kept
apart from job failures, and a job failure counts as Arm64-specific only
when the x86 counterpart passed on the same patchset and never failed
there (without a counterpart, every job failure counts).
"""

import collections
import re

from nodepool_aarch64.formats import zuulbuilds
from nodepool_aarch64.readiness import pairing
from nodepool_aarch64.stats import percentile

DAY = 86400
# Numbers, hashes and addresses differ between two reports of the same
# problem; they are folded so that the summary counts problems.
_VARYING = re.compile(r'[0-9a-f]{8,}|\d+')


def summarise_errors(details, top=5):
    counts = collections.Counter(
        _VARYING.sub('#', ' '.join(d.split()))[:160] for d in details if d)
    return [{'error_detail': text, 'count': n}
            for text, n in counts.most_common(top)]


def runs(builds):
    """The builds (all of one job) that are runs of it."""
    return [b for b in builds if b.final and
            b.result is not None and b.result not in zuulbuilds.NOT_RUN]


def job_metrics(builds, counterpart_outcomes, window):
    """A JSON-ready dict of one job's numbers over ``window``.

    ``builds`` are the job's builds in the window; ``counterpart_outcomes``
    is ``pairing.outcomes`` of its counterpart, or None without one.
    """
    mine = runs(builds)
    n = len(mine)
    passed = sum(1 for b in mine if b.result in zuulbuilds.PASSED)
    job_failures = [b for b in mine if b.result in zuulbuilds.JOB_FAILURES]
    infra = [b for b in mine if b.result in zuulbuilds.INFRA_FAILURES]
    specific, shared, unpaired = _compare(job_failures, counterpart_outcomes)
    paired = sum(1 for b in mine
                 if pairing.patchset_key(b) in (counterpart_outcomes or {}))
    # A NODE_FAILURE build never started (start == end): its duration
    # and wait say nothing about the job.
    ran = [b for b in mine if b.result != 'NODE_FAILURE']
    durations = [b.duration for b in ran if b.duration is not None]
    waits = [b.node_wait for b in ran if b.node_wait is not None]
    specific_base = paired if counterpart_outcomes is not None else n
    return {
        'runs': n,
        'passed': passed,
        'pass-rate': _rate(passed, n),
        'job-failures': len(job_failures),
        'infra-failures': len(infra),
        'infra-failure-rate': _rate(len(infra), n),
        'infra-failures-by-result': dict(collections.Counter(
            b.result for b in infra).most_common()),
        'infra-error-details': summarise_errors(
            b.error_detail for b in infra),
        'paired-runs': paired if counterpart_outcomes is not None else None,
        'shared-failures': shared,
        'arm64-specific-failures': specific,
        'unpaired-failures': unpaired,
        'arm64-specific-failure-rate': _rate(specific, specific_base),
        'duration-p95-seconds': _p95(durations),
        'node-wait-p95-seconds': _p95(waits),
        'daily': daily(mine, window),
    }


def _compare(failures, counterpart_outcomes):
    if counterpart_outcomes is None:
        return len(failures), 0, 0
    specific = shared = unpaired = 0
    for build in failures:
        outcome = counterpart_outcomes.get(pairing.patchset_key(build))
        if outcome == pairing.PASSED:
            specific += 1
        elif outcome == pairing.FAILED:
            shared += 1
        else:
            unpaired += 1
    return specific, shared, unpaired


def _rate(part, whole):
    return round(part / whole, 4) if whole else None


def _p95(values):
    return round(percentile(values, 95), 1) if values else None


def daily(mine, window):
    """Per day of the window that has runs: runs, pass rate and node wait
    p95 (s).  Days without runs are left out, so the cost follows the
    builds, not the window's length (1970 to 9000 is 2.5 million days)."""
    start, end = window
    days = max(1, int((end - start).total_seconds() // DAY) + 1)
    slots = collections.defaultdict(list)
    for build in mine:
        when = build.when
        if when is None:
            continue
        i = int((when - start).total_seconds() // DAY)
        if 0 <= i < days:
            slots[i].append(build)
    out = []
    for i, slot in sorted(slots.items()):
        passed = sum(1 for b in slot if b.result in zuulbuilds.PASSED)
        waits = [b.node_wait for b in slot if b.node_wait is not None and
                 b.result != 'NODE_FAILURE']
        out.append({'day': i, 'runs': len(slot),
                    'pass-rate': _rate(passed, len(slot)),
                    'node-wait-p95-seconds': _p95(waits)})
    return out
