"""Readiness from start to end: builds in, one verdict per job out."""

import collections
import dataclasses
import datetime
import math

from nodepool_aarch64.errors import InputError
from nodepool_aarch64.formats import zuulbuilds
from nodepool_aarch64.inventory import load_inventory
from nodepool_aarch64.readiness import criteria as crit
from nodepool_aarch64.readiness import metrics
from nodepool_aarch64.readiness import pairing
from nodepool_aarch64.readiness import promotion
from nodepool_aarch64.readiness import source
from nodepool_aarch64.readiness import zuulconfig as zc
from nodepool_aarch64.readiness.window import DEFAULT_DAYS
from nodepool_aarch64.readiness.window import parse_time

UTC = datetime.timezone.utc


@dataclasses.dataclass(frozen=True)
class Request:
    """What one readiness run is asked: where the builds come from,
    which of them count, and what the jobs are judged against.

    Times and pairs are kept as written, so that each is read (and
    refused, naming its option) where the run needs it: ``since`` may be
    ``Nd``, days before the window's end.
    """

    # Saved builds API files, or a live zuul-web's tenant.
    builds: tuple = ()
    zuul_url: str | None = None
    tenant: str | None = None
    http_timeout: float = source.TIMEOUT
    page_size: int = source.PAGE
    # Which builds and jobs.
    projects: tuple = ()
    jobs: tuple = ()
    pairs: tuple = ()            # 'ARM=X86' each
    since: str | None = None     # ISO 8601 time or 'Nd'
    until: str | None = None     # ISO 8601 time
    # What the jobs are judged against.
    inventory: str | None = None
    zuul_d: tuple = ()
    timeout: int | None = None   # for jobs zuul_d does not define
    affected_share: tuple = ()   # (job, share) each
    seed: int = 0


def load_builds(request):
    """(builds, window start, window end) for the request."""
    until = parse_time('--until', request.until)
    pairs = pairing.parse_pairs(request.pairs)
    if request.zuul_url:
        end = until or datetime.datetime.now(UTC)
        start = _start(request, end)
        jobs = _with_counterparts(request.jobs, pairs)
        builds = source.fetch(request.zuul_url, request.tenant, start,
                              projects=request.projects, jobs=jobs,
                              timeout=request.http_timeout,
                              page=request.page_size)
    else:
        builds = zuulbuilds.load(request.builds)
        if request.projects:
            builds = [b for b in builds if b.project in request.projects]
        times = [b.when for b in builds if b.when is not None]
        end = until or (max(times) if times else datetime.datetime.now(UTC))
        start = _start(request, end)
    builds = [b for b in builds
              if b.when is not None and start <= b.when <= end]
    return builds, start, end


def _start(request, end):
    start = parse_time('--since', request.since or f'{DEFAULT_DAYS}d', end)
    if start >= end:
        raise InputError('--since', None, '', 'the window must start '
                         'before it ends')
    return start


def _with_counterparts(jobs, pairs):
    out = list(jobs)
    for job in jobs:
        other = pairs.get(job) or pairing.default_counterpart(job)
        if other and other not in out:
            out.append(other)
    return out


class Labels:
    """Which labels a job's nodes use: zuul.d first, then the builds."""

    def __init__(self, config, inv, builds):
        self.config = config
        self.inventory = {label.name for label in inv.labels}
        self.nodesets = dict(config.nodesets) if config else {}
        self.last_nodeset = {}
        for b in builds:
            if b.nodeset:
                self.last_nodeset[b.job] = b.nodeset

    def __call__(self, job, nodeset=None):
        if self.config and job in self.config.jobs:
            labels = self.config.labels(job)
            if labels:
                return labels
        nodeset = nodeset or self.last_nodeset.get(job)
        if not nodeset:
            return []
        # A nodeset the zuul.d does not define is taken to be one node of
        # the label of the same name, as the rendered nodesets are.
        return self.nodesets.get(nodeset, [nodeset])

    def arm64_nodesets(self):
        named = {n for n, labels in self.nodesets.items()
                 if labels and set(labels) <= self.inventory}
        return named | self.inventory


def stage_of(config, job, mine):
    """(stage, where): from the zuul.d project stanzas when they say,
    else from the pipeline and voting of the job's latest build."""
    if config is not None:
        stage, where = config.stage(job)
        if stage:
            return stage, where
    latest = max(mine, key=lambda b: b.when, default=None)
    if latest is not None:
        stage = zc.pipeline_stage(latest.pipeline, latest.voting)
        if stage:
            return stage, None
    return zc.UNKNOWN, None


def target_stage(current, verdict):
    """Where the job should be: one step up when the verdict allows it,
    back to check-arm64 when it gates without being ready to, else where
    it is.  A non-voting job that is not ready blocks nobody, so it is
    never moved down."""
    allowed = crit.verdict_stage(verdict)
    rank = zc.stage_rank(current)
    if rank < 0:
        return allowed
    if zc.stage_rank(allowed) > rank:
        return zc.STAGES[rank + 1]
    if current == 'gate' and allowed != 'gate':
        return 'check-arm64'
    return current


@dataclasses.dataclass
class History:
    """What every job is judged against: the window's builds by job, the
    Arm64 ones among them, and the configuration."""

    by_job: dict
    arm64_builds: list
    labels_of: Labels
    inv: object
    config: object
    request: Request
    thresholds: crit.Thresholds
    window: tuple


def run(request, t):
    """(one verdict per job, the window) for a Request judged against
    Thresholds ``t``."""
    inv = load_inventory(request.inventory)
    config = zc.ZuulConfig(request.zuul_d) if request.zuul_d else None
    builds, start, end = load_builds(request)
    by_job = collections.defaultdict(list)
    for b in builds:
        by_job[b.job].append(b)
    labels_of = Labels(config, inv, builds)
    jobs = pairing.arm64_jobs(builds, labels_of.arm64_nodesets(),
                              pairing.parse_pairs(request.pairs),
                              request.jobs)
    arm64_names = {job for job, bs in by_job.items()
                   if set(labels_of(job, bs[-1].nodeset)) &
                   labels_of.inventory} | set(jobs)
    history = History(
        by_job, [b for job in arm64_names for b in by_job.get(job, ())],
        labels_of, inv, config, request, t, (start, end))
    window = {'start': start.isoformat(), 'end': end.isoformat(),
              'days': round((end - start).total_seconds() / 86400, 2),
              'builds': len(builds)}
    return [judge(job, counterpart, history)
            for job, counterpart in jobs.items()], window


def _capacity(job, counterpart, h):
    if not counterpart or not h.by_job.get(counterpart):
        return None, 'no counterpart history to replay (give --pair)'
    if not set(h.labels_of(job)) & h.labels_of.inventory:
        return None, 'no label of the inventory in the job\'s nodeset'
    share = dict(h.request.affected_share).get(job, 1.0)
    rows, gate, ratio = promotion.promotion_demand(
        job, h.arm64_builds, h.by_job[counterpart], h.labels_of,
        h.labels_of.inventory, share=share)
    if not gate:
        return None, f'{counterpart} has no gate runs in the window'
    wait, _ = promotion.simulate_gate_wait(
        h.inv, rows, h.thresholds.slo_quantile, seed=h.request.seed)
    affected = f', holding {share:g} of that (affected images only)' \
        if share != 1.0 else ''
    return wait, (f'{gate} gate node requests replayed, Arm64 runs '
                  f'{ratio:.2f}x as long{affected}')


def judge(job, counterpart, h):
    mine = h.by_job.get(job, [])
    outcomes = pairing.outcomes(h.by_job[counterpart]) \
        if counterpart and h.by_job.get(counterpart) else None
    m = metrics.job_metrics(mine, outcomes, h.window)
    timeout = (h.config.timeout(job) if h.config else None) or \
        h.request.timeout
    labels = list(h.labels_of(job))
    clouds, served = promotion.providers_check(h.inv, labels)
    wait, note = _capacity(job, counterpart, h)
    criteria = crit.evaluate(m, h.thresholds, timeout, clouds, wait, note)
    verdict = crit.verdict(criteria)
    stage, where = stage_of(h.config, job, mine)
    target = target_stage(stage, verdict)
    m.update({'timeout-seconds': timeout, 'labels': labels,
              'providers': served,
              # JSON has no infinity: a request never served is 'inf',
              # as capacity simulate prints it.
              'simulated-gate-wait-minutes': None if wait is None else
              round(wait, 2) if math.isfinite(wait) else 'inf'})
    return {
        'job': job, 'counterpart': counterpart, 'stage': stage,
        'verdict': verdict,
        'failed': [c.name for c in criteria if not c.passed],
        'metrics': m,
        'criteria': {c.name: c.as_dict() for c in criteria},
        'next-stage': target,
        'change': zc.change_line(h.config, job, stage, target, where)
        if h.config else None,
    }


def findings(jobs):
    """The jobs readiness objects to: not ready at all, or gating while
    not ready for gate."""
    return [job for job in jobs
            if job['verdict'] == crit.NOT_READY or
            zc.stage_rank(job['stage']) > zc.stage_rank(
                crit.verdict_stage(job['verdict']))]
