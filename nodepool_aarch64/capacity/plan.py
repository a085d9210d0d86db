"""Choose max-servers per hour of the week to meet a wait SLO cheaply.

Hours are planned one by one or in blocks (``block`` hours share one
value, so the plan has fewer windows).

The cost of a plan is the capacity it holds: max-servers integrated over
the week, in node-hours.  A plan never exceeds any provider's quota.

The search follows square-root staffing (Halfin and Whitt): an hour whose
offered load is L busy nodes gets about L + z * sqrt(L) servers, so one
safety factor z serves quiet and busy hours alike.  z is found by
bisection against the simulator; a trim pass then lowers single hours
while the SLO still holds.  Hours with equal capacity are merged into
windows.
"""

import dataclasses
import math

from nodepool_aarch64.capacity import schedule as sc
from nodepool_aarch64.capacity import simulate as sim
from nodepool_aarch64.errors import InputError


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


def parse_objective(text):
    """'gate:p95:10' or 'gate:p95<=10' -> Objective."""
    spec = text.replace('<=', ':')
    parts = spec.split(':')
    try:
        if len(parts) != 3 or not parts[1].startswith('p'):
            raise ValueError
        pipeline, quantile, minutes = parts[0], float(parts[1][1:]), \
            float(parts[2])
        if not 0 < quantile <= 100 or minutes < 0 or not pipeline:
            raise ValueError
    except ValueError:
        raise InputError('--slo', None, '', f'{text!r}: expected '
                         'PIPELINE:pQUANTILE:MINUTES, e.g. gate:p95:10')
    label = None
    if '/' in pipeline:
        pipeline, label = pipeline.split('/', 1)
    return Objective(pipeline, quantile, minutes, label)


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
    schedule: sc.Schedule
    result: sim.Result
    feasible: bool
    safety: float
    simulations: int


class Planner:

    def __init__(self, demand, pools, quotas, objectives, seed=0,
                 launch_overhead=None, trim_budget=400, block=1, floor=1,
                 min_ready=None):
        if block < 1 or 168 % block:
            raise InputError('--block', None, '', f'{block}: expected a '
                             'divisor of 168 hours (1, 2, 3, 4, 6, 8, 12, '
                             '24, ...)')
        self.block = block
        self.min_ready = min_ready
        # Never plan fewer servers than this, so a request at a quiet
        # hour is served within the hour, not at the next busy one.
        self.floor = floor
        self.demand = demand
        self.pools = pools
        self.quotas = dict(quotas)
        self.objectives = list(objectives)
        self.seed = seed
        self.trim_budget = trim_budget
        self.simulations = 0
        self.full = sum(self.quotas.values())
        if launch_overhead is None:
            means = [p.launch_mean for p in pools] or [0.0]
            launch_overhead = sum(means) / len(means)
        self.load = self._offered_load(launch_overhead)

    def _offered_load(self, launch_overhead):
        # Busy nodes per hour if nobody waited, plus nodes booting.
        busy = self.demand.hourly_node_demand()
        weeks = self.demand.weeks() or 1
        arrivals = [0] * 168
        for t in self.demand.arrival:
            arrivals[int(t % sc.WEEK) // sc.HOUR] += 1
        hourly = [b + a / weeks * launch_overhead / sc.HOUR
                  for b, a in zip(busy, arrivals)]
        # A block of hours is sized for its busiest hour.
        return [max(hourly[i:i + self.block])
                for i in range(0, 168, self.block)]

    def schedule(self, totals):
        hourly = [t for t in totals for _ in range(self.block)]
        return schedule_from_totals(hourly, self.quotas)

    def run(self, schedule):
        self.simulations += 1
        return sim.simulate(self.demand, self.pools, schedule,
                            seed=self.seed, min_ready=self.min_ready)

    def met(self, result):
        return all(o.met(result) for o in self.objectives)

    def totals_for(self, z):
        out = []
        for load in self.load:
            need = math.ceil(load + z * math.sqrt(load)) if load > 0 else 0
            out.append(min(self.full, max(self.floor, need)))
        return out

    def plan(self):
        full = static_schedule(self.full, self.quotas)
        best = self.run(full)
        if not self.met(best):
            return Plan(full, best, False, math.inf, self.simulations)
        lo, hi = -1.0, 1.0
        totals = self.totals_for(hi)
        result = self.run(self.schedule(totals))
        while not self.met(result):
            lo, hi = hi, hi * 2
            if hi > 64:
                return Plan(full, best, True, math.inf, self.simulations)
            totals = self.totals_for(hi)
            result = self.run(self.schedule(totals))
        # Bisection on the safety factor, to a tenth.
        while hi - lo > 0.1:
            mid = (lo + hi) / 2
            candidate = self.totals_for(mid)
            r = self.run(self.schedule(candidate))
            if self.met(r):
                hi, totals, result = mid, candidate, r
            else:
                lo = mid
        totals, result = self._trim(totals, result)
        return Plan(self.schedule(totals), result, True,
                    hi, self.simulations)

    def _trim(self, totals, result):
        """Lower single hours, most spare capacity first, while the SLO
        holds; stops after ``trim_budget`` simulations."""
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
                r = self.run(self.schedule(trial))
                if self.met(r):
                    totals, result, improved = trial, r, True
        return totals, result


def equal_cost_static(schedule, quotas):
    """The smallest static total holding at least a schedule's node-hours
    (rounding up favours the static config in comparisons)."""
    return min(math.ceil(schedule.node_hours() / 168.0 - 1e-9),
               sum(quotas.values()))


def windows_yaml(schedule, base):
    """Inventory ``capacity.windows`` entries for a schedule.

    Segments that differ from ``base`` become weekly windows; identical
    hours on several days share one window.
    """
    providers = schedule.providers
    groups = {}
    for start, end, caps in schedule.segments():
        changed = {p: c for p, c in zip(providers, caps) if base.get(p) != c}
        if not changed:
            continue
        t = start
        while t < end:
            day = t // sc.DAY
            upto = min(end, (day + 1) * sc.DAY)
            key = (t % sc.DAY, upto - day * sc.DAY,
                   tuple(sorted(changed.items())))
            groups.setdefault(key, []).append(day)
            t = upto
    days = ('mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun')
    lines = ['capacity:', '  windows:']
    for n, ((a, b, changed), ds) in enumerate(sorted(
            groups.items(), key=lambda kv: (kv[1][0], kv[0][0]))):
        end = '00:00' if b == sc.DAY else \
            f'{b // sc.HOUR:02d}:{b % sc.HOUR // 60:02d}'
        lines.append(f'    - name: plan-{n + 1}')
        lines.append(f'      days: [{", ".join(days[d] for d in ds)}]')
        lines.append(f'      start: "{a // sc.HOUR:02d}:'
                     f'{a % sc.HOUR // 60:02d}"')
        lines.append(f'      end: "{end}"')
        lines.append('      max-servers:')
        for provider, value in changed:
            lines.append(f'        {provider}: {value}')
    return '\n'.join(lines) + '\n'
