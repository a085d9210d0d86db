"""The promotion criteria, their defaults, and the verdict.

The defaults encode known policy.  TripleO moves a job on after about a
week of stability with not significantly more spurious failures than its
reference job, and failures that catch real bugs do not count against
it; OpenDev requires two places with no shared failure domain for a job
that can block merging.  Every threshold has a command-line option.
"""

import dataclasses
import math

CHECK = ('runs', 'arm64-specific-failures', 'infra-failures',
         'duration-headroom')
GATE = ('providers', 'capacity')
ORDER = CHECK + GATE

READY_GATE = 'ready-for-gate'
READY_CHECK = 'ready-for-check-arm64'
NOT_READY = 'not-ready'


@dataclasses.dataclass(frozen=True)
class Thresholds:
    # About a week of daily runs, twice over.
    min_runs: int = 14
    max_arm64_failure_rate: float = 0.05
    max_infra_failure_rate: float = 0.05
    max_duration_share: float = 0.8
    min_clouds: int = 2
    slo_quantile: int = 95
    slo_minutes: float = 60.0


@dataclasses.dataclass
class Criterion:
    name: str
    passed: bool
    value: object
    threshold: object
    detail: str

    def as_dict(self):
        return {'passed': self.passed, 'value': _json(self.value),
                'threshold': self.threshold, 'detail': self.detail,
                'applies-to': 'gate' if self.name in GATE else
                'check-arm64'}


def _json(value):
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return value


def _at_most(name, value, limit, what, missing):
    if value is None:
        return Criterion(name, False, None, limit, missing)
    ok = value <= limit
    return Criterion(name, ok, value, limit,
                     f'{what} {_fmt(value)} {"<=" if ok else ">"} '
                     f'{_fmt(limit)}')


def _fmt(value):
    if isinstance(value, float):
        return f'{value:.3g}' if math.isfinite(value) else str(value)
    return str(value)


def evaluate(m, t, timeout, clouds, gate_wait, capacity_note):
    """Criteria for one job's metrics ``m`` (see metrics.job_metrics)."""
    out = [Criterion('runs', m['runs'] >= t.min_runs, m['runs'],
                     t.min_runs, f'{m["runs"]} runs '
                     f'{">=" if m["runs"] >= t.min_runs else "<"} '
                     f'{t.min_runs}')]
    out.append(_at_most(
        'arm64-specific-failures', m['arm64-specific-failure-rate'],
        t.max_arm64_failure_rate, 'Arm64-specific failure rate',
        'no runs to compare with the counterpart'))
    out.append(_at_most(
        'infra-failures', m['infra-failure-rate'],
        t.max_infra_failure_rate, 'infrastructure failure rate',
        'no runs'))
    share = None
    if timeout and m['duration-p95-seconds'] is not None:
        share = round(m['duration-p95-seconds'] / timeout, 3)
    out.append(_at_most(
        'duration-headroom', share, t.max_duration_share,
        f'duration p95 / timeout {timeout} s =',
        'no durations' if timeout else
        'timeout unknown: give --zuul-d or --timeout'))
    out.append(Criterion(
        'providers', clouds >= t.min_clouds, clouds, t.min_clouds,
        f'worst-served label is on {clouds} '
        f'cloud{"" if clouds == 1 else "s"}, '
        f'{">=" if clouds >= t.min_clouds else "<"} {t.min_clouds}'))
    if gate_wait is None:
        out.append(Criterion('capacity', False, None, t.slo_minutes,
                             capacity_note))
    else:
        c = _at_most('capacity', round(gate_wait, 2), t.slo_minutes,
                     f'simulated gate wait p{t.slo_quantile} (min)', '')
        c.detail += f'; {capacity_note}' if capacity_note else ''
        out.append(c)
    return out


def verdict(criteria):
    failed = {c.name for c in criteria if not c.passed}
    if failed & set(CHECK):
        return NOT_READY
    if failed & set(GATE):
        return READY_CHECK
    return READY_GATE


def verdict_stage(verdict_name):
    return {READY_GATE: 'gate', READY_CHECK: 'check-arm64'}.get(
        verdict_name, 'experimental')
