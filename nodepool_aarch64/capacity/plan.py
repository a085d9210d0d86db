"""Choose max-servers and min-ready per hour to meet a wait SLO cheaply.

Hours are planned one by one or in blocks (``block`` hours share one
value, so the plan has fewer windows).

The cost of a plan is the capacity it holds: max-servers integrated over
the week, in node-hours.  A plan never exceeds any provider's quota.
Warm nodes (min-ready) sit inside max-servers, so they cost node-hours
too; they are the only way below the launch-time floor.

Max-servers follow square-root staffing (Halfin and Whitt): an hour whose
offered load is L busy nodes gets about L + z * sqrt(L) servers, plus its
warm nodes.  For each warm level, z is found by bisection against the
simulator, and the cheapest level wins.  A candidate must meet the
objectives on every fitted week, and the load, z and the objective carry
margins for weeks not seen (see ``Planner``).  An optional trim pass
lowers single hours while the fitted weeks still pass.  Hours with equal
values are merged into windows.
"""

import dataclasses
import math

from nodepool_aarch64 import timeutil
from nodepool_aarch64.capacity import schedule as sc
from nodepool_aarch64.capacity import simulate as sim
from nodepool_aarch64.formats import yamltext


class ObjectiveError(ValueError):
    """A wait objective that is malformed, or that the demand cannot
    measure (the command line names the option it came from)."""


class BlockError(ValueError):
    """Hours per planned block that do not divide the week."""


@dataclasses.dataclass(frozen=True)
class Objective:
    """"pipeline p95 wait at most N minutes" (label None: all labels)."""

    pipeline: str
    quantile: float
    minutes: float
    label: str | None = None

    def measure(self, result):
        """The measured wait in minutes (0 when nothing was asked)."""
        values = result.waits(pipeline=self.pipeline, label=self.label)
        if not values:
            return 0.0
        return sim.percentile(values, self.quantile) / 60.0

    def met(self, result):
        return self.measure(result) <= self.minutes

    def __str__(self):
        where = self.pipeline + (f'/{self.label}' if self.label else '')
        return f'{where} p{self.quantile:g} <= {self.minutes:g} min'


MAX_SLO_MINUTES = 7 * 24 * 60


def parse_objective(text):
    """'gate:p95:10' or 'gate:p95<=10' -> Objective."""
    spec = text.replace('<=', ':')
    parts = spec.split(':')
    try:
        if len(parts) != 3 or not parts[1].startswith('p'):
            raise ValueError
        pipeline, quantile, minutes = parts[0], float(parts[1][1:]), \
            float(parts[2])
        # A week bounds any wait worth planning for; NaN fails every
        # comparison, so it is refused here too.
        if not 0 < quantile <= 100 or not 0 <= minutes <= MAX_SLO_MINUTES \
                or not pipeline:
            raise ValueError
    except ValueError:
        raise ObjectiveError(f'{text!r}: expected '
                             'PIPELINE:pQUANTILE:MINUTES, e.g. gate:p95:10')
    label = None
    if '/' in pipeline:
        pipeline, label = pipeline.split('/', 1)
    return Objective(pipeline, quantile, minutes, label)


def check_objectives(objectives, demand):
    """ObjectiveError unless each objective names a pipeline (and label)
    the demand has: an objective over no requests is always met, so it
    would plan for nothing."""
    for o in objectives:
        if o.pipeline not in demand.pipelines:
            raise ObjectiveError(
                f'{o}: no demand from pipeline {o.pipeline!r}; pipelines '
                f'in the demand: {", ".join(demand.pipelines)}')
        if o.label is None:
            continue
        if o.label not in demand.labels:
            raise ObjectiveError(
                f'{o}: no demand for label {o.label!r}; labels in the '
                f'demand: {", ".join(demand.labels)}')
        if not _asks(demand, o.pipeline, o.label):
            raise ObjectiveError(f'{o}: pipeline {o.pipeline!r} never '
                                 f'asked for {o.label!r}')


def _asks(demand, pipeline, label):
    pi, li = demand.pipelines.index(pipeline), demand.labels.index(label)
    return any(p == pi and la == li
               for p, la in zip(demand.pipeline, demand.label))


def split_total(total, quotas):
    """Share a total of servers over providers in proportion to quota.

    Largest remainder rounding, never above a provider's quota, so
    every provider (and so every label) keeps its share of capacity.
    """
    names = list(quotas)
    whole = sum(quotas.values())
    total = max(0, min(int(total), whole))
    if whole == 0:
        return tuple(0 for _ in names)
    exact = [total * quotas[n] / whole for n in names]
    share = [int(math.floor(x)) for x in exact]
    order = sorted(range(len(names)), key=lambda i: share[i] - exact[i])
    for i in order[:total - sum(share)]:
        share[i] += 1
    return tuple(share)


def schedule_from_totals(totals, quotas):
    return sc.Schedule.from_hourly(
        tuple(quotas), [split_total(t, quotas) for t in totals])


def static_schedule(total, quotas):
    return sc.Schedule(tuple(quotas), [0], [split_total(total, quotas)])


@dataclasses.dataclass
class Plan:
    """What the planner chose.

    ``schedule`` is max-servers per provider, ``min_ready`` min-ready per
    label (a Schedule keyed by label names), both over the week.
    ``result`` is the plan simulated on all of the fitted demand with the
    planner's seed.  ``warm`` is the min-ready factor chosen (0: no warm
    nodes beyond the inventory's own) and ``safety`` the square-root
    staffing factor z.
    """

    schedule: sc.Schedule
    result: sim.Result
    feasible: bool
    safety: float
    simulations: int
    min_ready: sc.Schedule | None = None
    warm: float = 0.0
    margin: float = 0.0


# Min-ready factors tried: a label gets round(factor * r) warm nodes in
# an hour where r requests for it arrive, on average, while one node
# boots.  0 is the plan without warm nodes.
WARM_LEVELS = (0.0, 2.0, 4.0, 8.0, 16.0)
# Each candidate must meet the objectives on every fitted week with each
# of these simulator seeds, so the plan does not depend on one draw of
# launch times, and a short history is replayed more than once.
PLAN_RUNS = 3
# A next week's demand stays below mean + PREDICT sd about 90% of the
# time (one-sided normal quantile).
PREDICT = 1.2816
# Safety for weeks not seen.  Fitting to the objective itself leaves a
# plan that just passes the fitted weeks and misses about every other
# new one; the margin and a least z of 2 (a Poisson-loaded hour exceeds
# L + 2 sqrt(L) about 2.5% of the time) held on the held-out weeks of
# benchmarks/capacity_plan.py.
MARGIN = 0.2
MIN_SAFETY = 2.0


def _margins(margin):
    steps = [margin]
    while steps[-1] > 0:
        steps.append(max(0.0, round(steps[-1] - 0.1, 6)))
    return steps


class Planner:
    """Max-servers and min-ready per block of hours, fitted to demand.

    ``min_ready`` maps label -> the inventory's own min-ready, which the
    plan never goes below.  ``margin`` tightens every objective while
    fitting (0.2: fit to 80% of the target), and ``min_safety`` is the
    least square-root staffing factor z: both are for weeks the plan has
    not seen.  Where even full quota cannot meet the tightened target,
    the margin is relaxed step by step down to none.
    """

    def __init__(self, demand, pools, quotas, objectives, seed=0,
                 launch_overhead=None, trim_budget=0, block=1, floor=1,
                 min_ready=None, warm_levels=WARM_LEVELS, margin=MARGIN,
                 min_safety=MIN_SAFETY):
        if block < 1 or 168 % block:
            raise BlockError(f'{block}: expected a divisor of 168 hours '
                             '(1, 2, 3, 4, 6, 8, 12, 24, ...)')
        self.block = block
        # Never plan fewer servers than this, so a request at a quiet
        # hour is served within the hour, not at the next busy one.
        self.floor = floor
        self.demand = demand
        self.pools = pools
        self.quotas = dict(quotas)
        self.objectives = list(objectives)
        self.seed = seed
        self.trim_budget = trim_budget
        self.warm_levels = tuple(warm_levels) or (0.0,)
        self.margins = _margins(margin)
        self.margin = self.margins[0]
        self.min_safety = min_safety
        self.simulations = 0
        self.full = sum(self.quotas.values())
        self.base_ready = dict(min_ready or {})
        if launch_overhead is None:
            means = [p.launch_mean for p in pools] or [0.0]
            launch_overhead = sum(means) / len(means)
        self.launch_overhead = launch_overhead
        self.busiest = self._busiest_week()
        self.load = self._offered_load(launch_overhead)
        self.labels = sorted(set(self.base_ready) | set(demand.labels))
        self.warm_rate = self._warm_rate(launch_overhead)
        weeks = demand.each_week() if demand.weeks() > 1 else [demand]
        weeks = [w for w in weeks if len(w)] or [demand]
        seeds = range(max(1, math.ceil(PLAN_RUNS / len(weeks))))
        self.runs = [(w, s) for w in weeks for s in seeds]

    def _blocks(self, hourly):
        # A block of hours is sized for its busiest hour.
        return [max(hourly[i:i + self.block])
                for i in range(0, 168, self.block)]

    def _busiest_week(self):
        """How much busier than the mean fitted week to plan for.

        The weekly shape is the mean of the fitted weeks, scaled up to
        the busiest of them or to a one-sided upper prediction bound for
        a next week's node-hours (normal, ``PREDICT`` standard
        deviations), whichever is more: a plan sized for an average week
        misses on every busier one, and CI weeks differ by a third and
        more.
        """
        weeks = self.demand.weeks()
        if weeks <= 1:
            return 1.0
        hours = [0.0] * weeks
        for t, h in zip(self.demand.arrival, self.demand.hold):
            hours[int(t // sc.WEEK)] += h
        mean = sum(hours) / weeks
        if not mean:
            return 1.0
        sd = math.sqrt(sum((h - mean) ** 2 for h in hours) / (weeks - 1))
        bound = mean + PREDICT * sd * math.sqrt(1 + 1 / weeks)
        return max(max(hours), bound) / mean

    def _offered_load(self, launch_overhead):
        # Busy nodes per hour if nobody waited, plus nodes booting.
        busy = self.demand.hourly_node_demand()
        weeks = self.demand.weeks() or 1
        arrivals = [0] * 168
        for t in self.demand.arrival:
            arrivals[int(t % sc.WEEK) // sc.HOUR] += 1
        return self._blocks([
            (b + a / weeks * launch_overhead / sc.HOUR) * self.busiest
            for b, a in zip(busy, arrivals)])

    def _warm_rate(self, launch_overhead):
        """Label -> per block, requests arriving while one node boots.

        Only labels the objectives ask for are warmed: a warm node of
        another label costs idle time and shortens no objective's wait.
        """
        d = self.demand
        wanted = set()
        for o in self.objectives:
            for p, la in zip(d.pipeline, d.label):
                if d.pipelines[p] == o.pipeline and \
                        (o.label is None or d.labels[la] == o.label):
                    wanted.add(d.labels[la])
        weeks = d.weeks() or 1
        rates = {}
        for name in wanted:
            li = d.labels.index(name)
            hourly = [0.0] * 168
            for t, la in zip(d.arrival, d.label):
                if la == li:
                    hourly[int(t % sc.WEEK) // sc.HOUR] += 1
            rates[name] = self._blocks(
                [a / weeks * launch_overhead / sc.HOUR * self.busiest
                 for a in hourly])
        return rates

    def ready_for(self, warm):
        """Min-ready per block: label -> list of counts."""
        out = {}
        for name in self.labels:
            base = self.base_ready.get(name, 0)
            rates = self.warm_rate.get(name)
            if not rates or warm <= 0:
                out[name] = [base] * len(self.load)
                continue
            out[name] = [max(base, math.floor(warm * r + 0.5))
                         for r in rates]
        return out

    def totals_for(self, z, ready=None):
        out = []
        for b, load in enumerate(self.load):
            need = math.ceil(load + z * math.sqrt(load)) if load > 0 else 0
            if ready:
                need += sum(values[b] for values in ready.values())
            out.append(min(self.full, max(self.floor, need)))
        return out

    def schedule(self, totals):
        hourly = [t for t in totals for _ in range(self.block)]
        return schedule_from_totals(hourly, self.quotas)

    def ready_schedule(self, ready):
        names = tuple(ready)
        hourly = [tuple(ready[n][h // self.block] for n in names)
                  for h in range(168)]
        return sc.MinReadySchedule.from_hourly(names, hourly)

    def run(self, schedule, ready=None):
        """The plan simulated on all fitted demand with the seed."""
        self.simulations += 1
        return sim.simulate(self.demand, self.pools, schedule,
                            seed=self.seed,
                            min_ready=self.ready_schedule(ready or
                                                          self.ready_for(0)))

    def met(self, result):
        return all(o.met(result) for o in self.objectives)

    def robust(self, totals, ready):
        """Whether every fitted week meets every objective (tightened by
        the margin) with each planning seed."""
        schedule = self.schedule(totals)
        ready_schedule = self.ready_schedule(ready)
        for week, seed in self.runs:
            self.simulations += 1
            r = sim.simulate(week, self.pools, schedule, seed=seed,
                             min_ready=ready_schedule)
            for o in self.objectives:
                if o.measure(r) > o.minutes * (1 - self.margin):
                    return False
        return True

    def plan(self):
        top = self.ready_for(max(self.warm_levels))
        full = static_schedule(self.full, self.quotas)
        for margin in self.margins:
            self.margin = margin
            if self.robust([self.full] * len(self.load), top):
                break
        else:
            result = self.run(full, top)
            return Plan(full, result, False, math.inf, self.simulations,
                        self.ready_schedule(top), max(self.warm_levels))
        best = None
        for warm in self.warm_levels:
            found = self._fit(warm)
            if found is None:
                continue
            cost = self.schedule(found[1]).node_hours()
            if best is None or cost < best[0] - 1e-9:
                best = (cost, warm) + found
        if best is None:
            best = (0, max(self.warm_levels), math.inf,
                    [self.full] * len(self.load), top)
        _, warm, z, totals, ready = best
        totals = self._trim(totals, ready)
        schedule = self.schedule(totals)
        return Plan(schedule, self.run(schedule, ready), True, z,
                    self.simulations, self.ready_schedule(ready), warm,
                    self.margin)

    def _fit(self, warm):
        """(z, totals, ready): the least safety factor, to a tenth, at
        which this warm level meets the objectives; None if none does."""
        ready = self.ready_for(warm)
        lo = self.min_safety
        hi = max(1.0, lo + 1.0)
        if self.robust(self.totals_for(lo, ready), ready):
            return lo, self.totals_for(lo, ready), ready
        while not self.robust(self.totals_for(hi, ready), ready):
            lo, hi = hi, hi * 2
            if hi > 64:
                return None
        while hi - lo > 0.1:
            mid = (lo + hi) / 2
            if self.robust(self.totals_for(mid, ready), ready):
                hi = mid
            else:
                lo = mid
        return hi, self.totals_for(hi, ready), ready

    def _trim(self, totals, ready):
        """Lower single blocks, most spare capacity first, while every
        fitted week still meets the objectives; stops after
        ``trim_budget`` candidates."""
        budget = self.trim_budget
        totals = list(totals)
        improved = True
        while improved and budget > 0:
            improved = False
            order = sorted(range(len(totals)),
                           key=lambda h: self.load[h] - totals[h])
            for h in order:
                if budget <= 0 or totals[h] <= self.floor:
                    continue
                step = max(1, min(totals[h] // 8, totals[h] - self.floor))
                trial = list(totals)
                trial[h] -= step
                budget -= 1
                if self.robust(trial, ready):
                    totals, improved = trial, True
        return totals


def equal_cost_static(schedule, quotas):
    """The smallest static total holding at least a schedule's node-hours
    (rounding up favours the static config in comparisons)."""
    return min(math.ceil(schedule.node_hours() / 168.0 - 1e-9),
               sum(quotas.values()))


def windows(schedule, base, min_ready=None, base_ready=None):
    """Weekly capacity windows for a plan, as inventory mappings.

    Hours whose max-servers (or min-ready) differ from ``base`` (or
    ``base_ready``) become weekly windows; identical hours on several
    days share one window.
    """
    groups = {}
    for start, end, caps in _joint_segments(schedule, min_ready):
        servers, ready = caps
        changed = (
            tuple((p, c) for p, c in zip(schedule.providers, servers)
                  if base.get(p) != c),
            tuple((la, c) for la, c in zip(
                min_ready.labels if min_ready else (), ready)
                if (base_ready or {}).get(la, 0) != c))
        if not changed[0] and not changed[1]:
            continue
        t = start
        while t < end:
            day = t // sc.DAY
            upto = min(end, (day + 1) * sc.DAY)
            if upto - t == sc.DAY:
                # A weekly window cannot run from midnight to midnight
                # (start equals end reads as empty): two halves can.
                upto = t + sc.DAY // 2
            key = (t % sc.DAY, upto - day * sc.DAY, changed)
            groups.setdefault(key, []).append(day)
            t = upto
    out = []
    for n, ((a, b, (servers, ready)), ds) in enumerate(sorted(
            groups.items(), key=lambda kv: (kv[1][0], kv[0][0]))):
        window = {'name': f'plan-{n + 1}',
                  'days': [timeutil.WEEKDAYS[d] for d in ds],
                  'start': _clock(a), 'end': _clock(b % sc.DAY)}
        if servers:
            window['max-servers'] = dict(servers)
        if ready:
            window['min-ready'] = dict(ready)
        out.append(window)
    return out


def _clock(second):
    return f'{second // sc.HOUR:02d}:{second % sc.HOUR // 60:02d}'


def _joint_segments(schedule, min_ready):
    """(start, end, (caps, ready)) over the week for two schedules."""
    cuts = set(schedule.breaks)
    if min_ready is not None:
        cuts.update(min_ready.breaks)
    cuts = sorted(cuts)
    for start, end in zip(cuts, cuts[1:] + [sc.WEEK]):
        ready = min_ready.at(start) if min_ready is not None else ()
        yield start, end, (schedule.at(start), ready)


def windows_yaml(schedule, base, min_ready=None, base_ready=None):
    """``capacity.windows`` YAML text for a plan (see ``windows``)."""
    return yamltext.to_text({'capacity': {'windows': [
        _styled(w) for w in windows(schedule, base, min_ready,
                                    base_ready)]}})


def window_lines(items, indent):
    """Block-style YAML lines for weekly windows, each item starting
    with ``indent`` + "- ", to go into a windows list."""
    if not items:
        return []
    text = yamltext.to_text([_styled(w) for w in items])
    return [indent + line for line in text.splitlines()]


def _styled(window):
    # Written as people write windows by hand: days on one line, clock
    # times quoted.
    styled = dict(window)
    styled['days'] = yamltext.Flow(window['days'])
    styled['start'] = yamltext.Quoted(window['start'])
    styled['end'] = yamltext.Quoted(window['end'])
    return styled
