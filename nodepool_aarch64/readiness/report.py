"""Readiness as text for people and JSON for tools.

The JSON keys ``jobs`` (``job``, ``counterpart``, ``stage``,
``verdict``, ``failed``, ``metrics``) and ``window`` are a promise to
other tools; more may be added, none renamed.
"""

import json

from nodepool_aarch64.errors import one_line


def as_json(jobs, window):
    return json.dumps({'jobs': jobs, 'window': window}, indent=2,
                      sort_keys=False)


def _minutes(seconds):
    return '-' if seconds is None else f'{seconds / 60:.1f} min'


def _percent(rate):
    return '-' if rate is None else f'{rate * 100:.1f}%'


def job_text(job):
    m = job['metrics']
    lines = [f'{job["job"]}  (counterpart: {job["counterpart"] or "none"}; '
             f'stage: {job["stage"]})  =>  {job["verdict"]}']
    lines.append(
        f'  {m["runs"]} runs, pass rate {_percent(m["pass-rate"])}; '
        f'{m["job-failures"]} job failures ({m["arm64-specific-failures"]} '
        f'Arm64-specific, {m["shared-failures"]} shared, '
        f'{m["unpaired-failures"]} unpaired); {m["infra-failures"]} '
        f'infrastructure failures')
    if m['infra-failures-by-result']:
        lines.append('  infrastructure: ' + ', '.join(
            f'{k} {v}' for k, v in m['infra-failures-by-result'].items()))
        for e in m['infra-error-details']:
            lines.append(f'    {e["count"]} x {e["error_detail"]}')
    lines.append(f'  duration p95 {_minutes(m["duration-p95-seconds"])}, '
                 f'node wait p95 {_minutes(m["node-wait-p95-seconds"])}')
    for name, c in job['criteria'].items():
        mark = 'ok  ' if c['passed'] else 'FAIL'
        lines.append(f'  {mark} {name} ({c["applies-to"]}): {c["detail"]}')
    if job.get('change'):
        lines.append(f'  change: {job["change"]}')
    # Job names and error details come from the builds: a newline or a
    # terminal escape in one must not forge a verdict line.
    return '\n'.join(one_line(line) for line in lines)


def as_text(jobs, window):
    head = one_line(f'window {window["start"]} .. {window["end"]} '
                    f'({window["builds"]} builds)')
    if not jobs:
        return head + '\nno Arm64 jobs in the builds (name one with --job)'
    return '\n\n'.join([head] + [job_text(j) for j in jobs])
