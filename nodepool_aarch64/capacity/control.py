"""The capacity controller: forecast, error budget, guarded actions.

Each step sees only the past: the ``History`` of demand and the
``ErrorBudget`` of the wait objective.  From the forecast of the next
hours it sizes each hour as the planner does (square-root staffing:
load L gets L + z * sqrt(L) servers, plus warm nodes for the requests
that arrive while one node boots) and feeds the measured wait back:

- an hour of the day whose requests burnt the budget faster than
  planned gets a higher load factor, which carries to the same hour of
  the following days; hours that stop burning decay back to 1;
- z grows as the window's budget runs out.

Labels are grouped by the providers that serve them (the -large labels
only fit on one region), and each group is placed, most constrained
first, on its providers in proportion to the room each has left.  The
guards then bound what one action may do: no provider or label moves
by more than ``max_step`` at once, none goes above quota, and actions
are ``min_interval`` apart.  To reach a coming peak despite the step
limit, the controller aims at the most it will need over the next
hours less one step per hour to go.
"""

import dataclasses
import math

from nodepool_aarch64.capacity import forecast as fc
from nodepool_aarch64.capacity import plan as pl
from nodepool_aarch64.capacity.schedule import HOUR


@dataclasses.dataclass(frozen=True)
class Guards:
    """What one action may do: ``max_step`` servers (or warm nodes) per
    provider (label), actions ``min_interval`` seconds apart, never more
    than ``quotas`` (provider -> servers)."""

    quotas: dict
    max_step: int = 10
    min_interval: float = 3600.0


@dataclasses.dataclass(frozen=True)
class Policy:
    """How much capacity a forecast load asks for (see the module)."""

    safety: float = 1.0          # z at a full budget
    budget_safety: float = 2.0   # added to z as the budget runs out
    warm: float = 2.0            # warm nodes per request arriving in a boot
    launch_seconds: float = 300.0
    burn_hours: int = 3          # recent hours that judge the burn
    boost_step: float = 0.25     # load factor added per burning hour
    boost_max: float = 2.0
    boost_decay: float = 0.8     # per quiet pass of an hour of the day
    floor: int = 1               # never fewer servers in total
    # Like AWS predictive scaling: no forecast from less than a day.
    min_history_hours: int = 24
    # Lowering by fewer servers than this in total waits for more, so
    # the launcher config is not rewritten for every small dip.
    lower_deadband: int = 3


@dataclasses.dataclass(frozen=True)
class State:
    """The capacity in force: provider -> max-servers, label ->
    min-ready, and when it was last changed (seconds; None: never)."""

    max_servers: dict
    min_ready: dict
    since: float | None = None

    def same(self, other):
        return self.max_servers == other.max_servers and \
            self.min_ready == other.min_ready


@dataclasses.dataclass(frozen=True)
class Decision:
    """One step's outcome.  ``target`` is what the guards allow now;
    ``act`` whether it differs from the state and may be applied."""

    target: State
    act: bool
    reason: str
    forecast: list      # total busy nodes per coming hour
    budget_left: float
    burn: float


def groups(label_providers):
    """Labels grouped by the providers serving them, most constrained
    (fewest providers) first: [(providers tuple, labels tuple)]."""
    found = {}
    for label, providers in label_providers.items():
        found.setdefault(tuple(sorted(providers)), []).append(label)
    return sorted(((p, tuple(sorted(labels))) for p, labels in
                   found.items()), key=lambda g: (len(g[0]), g[0]))


def labels_asked(demand, objective):
    """The labels the objective's pipeline asked for in ``demand``: the
    only ones whose warm nodes shorten its waits."""
    return {demand.labels[la] for p, la in zip(demand.pipeline,
                                               demand.label)
            if demand.pipelines[p] == objective.pipeline}


def allocate(needs, quotas):
    """Provider -> servers for each group's need, never above quota.

    ``needs`` is [(providers, servers)], most constrained first; each
    is shared over its providers in proportion to the room left.
    """
    room = dict(quotas)
    out = {name: 0 for name in quotas}
    for providers, need in needs:
        served = {p: room.get(p, 0) for p in providers}
        share = pl.split_total(need, served)
        for p, n in zip(served, share):
            out[p] += n
            room[p] -= n
    return out


class Controller:
    """Decides, step by step, the capacity for the coming hour."""

    def __init__(self, label_providers, guards, policy=None,
                 forecast=None, objective_labels=None):
        self.guards = guards
        self.policy = policy or Policy()
        self.forecast = forecast or fc.Forecast()
        self.groups = [(p, labels) for p, labels in
                       groups(label_providers)
                       if any(q in guards.quotas for q in p)]
        self.labels = sorted(label_providers)
        # Warm nodes only for labels the objective's pipeline asks for.
        self.warm_labels = set(objective_labels or self.labels)
        self.boost = [1.0] * 24
        self.judged_hour = None
        self.boosted = set()

    def feedback(self, budget, now):
        """Raise the load factor of the hours of the day that burnt the
        budget (each hour once, when first seen burning, up to
        ``burn_hours`` late: a request is known late only after the
        limit); the hour just ended decays if it did not burn."""
        p = self.policy
        hour = int(now // HOUR)
        if self.judged_hour == hour:
            return
        self.judged_hour = hour
        burnt = set(budget.bad_hours(now, p.burn_hours)) \
            if budget.burn(now, p.burn_hours) > 1.0 else set()
        for h in sorted(burnt - self.boosted):
            day_hour = h % 24
            self.boost[day_hour] = min(p.boost_max,
                                       self.boost[day_hour] + p.boost_step)
        self.boosted = {h for h in self.boosted | burnt
                        if h >= hour - p.burn_hours}
        if hour - 1 not in burnt:
            day_hour = (hour - 1) % 24
            self.boost[day_hour] = 1.0 + (
                self.boost[day_hour] - 1.0) * p.boost_decay

    def need(self, prediction, left):
        """Provider -> servers and label -> warm nodes for each hour of
        the prediction."""
        p = self.policy
        z = p.safety + p.budget_safety * (1.0 - min(1.0, max(0.0, left)))
        index = {name: i for i, name in enumerate(prediction.labels)}
        hours = []
        for h, (loads, arrivals) in enumerate(zip(prediction.load,
                                                  prediction.arrivals)):
            boost = self.boost[(prediction.first + h) % 24]
            ready = {}
            needs = []
            for providers, labels in self.groups:
                load = boost * sum(loads[index[la]] for la in labels
                                   if la in index)
                warm = 0
                for la in labels:
                    if la in self.warm_labels and la in index:
                        ready[la] = math.floor(
                            p.warm * boost * arrivals[index[la]] *
                            p.launch_seconds / HOUR + 0.5)
                        warm += ready[la]
                    else:
                        ready[la] = 0
                servers = math.ceil(load + z * math.sqrt(load)) \
                    if load > 0 else 0
                needs.append((providers, servers + warm))
            servers = allocate(needs, self.guards.quotas)
            short = p.floor - sum(servers.values())
            if short > 0:
                room = {k: q - servers[k]
                        for k, q in self.guards.quotas.items()}
                extra = allocate([(tuple(room), short)], room)
                servers = {k: v + extra[k] for k, v in servers.items()}
            hours.append((servers, ready))
        return hours

    def _aim(self, hours, key, names):
        """Per name: the most needed over the coming hours, less one
        step per hour to go (what must be in force now to get there)."""
        step = self.guards.max_step
        out = {}
        for name in names:
            out[name] = max(v[key].get(name, 0) - k * step
                            for k, v in enumerate(hours))
        return out

    def _guarded(self, current, aim, cap=None):
        step = self.guards.max_step
        out = {}
        for name, want in aim.items():
            now = current.get(name, 0)
            value = max(now - step, min(now + step, want))
            if cap is not None:
                value = min(value, cap[name])
            out[name] = max(0, value)
        return out

    def step(self, history, budget, state, now):
        """The Decision at second ``now`` (an hour boundary, usually)."""
        self.feedback(budget, now)
        left = budget.left(now)
        burn = budget.burn(now, self.policy.burn_hours)
        first = int(now // HOUR)
        seen = sum(1 for row in history.arrivals[:first] if any(row))
        if seen < self.policy.min_history_hours:
            return Decision(state, False, f'learning: {seen} h of history '
                            f'with demand, {self.policy.min_history_hours}'
                            ' needed', [], left, burn)
        prediction = self.forecast.predict(history, first)
        hours = self.need(prediction, left)
        # Look ahead only as far as the step limit makes matter.
        quotas = self.guards.quotas
        reach = 1 + max(quotas.values() or [0]) // max(1, self.guards.max_step)
        servers = self._guarded(state.max_servers,
                                self._aim(hours[:reach + 1], 0, quotas),
                                quotas)
        ready = self._guarded(state.min_ready,
                              self._aim(hours[:2], 1, self.labels))
        target = State(servers, ready, now)
        forecast = [round(v, 2) for v in prediction.total_load()]
        if target.same(state):
            return Decision(state, False, 'holding: the capacity in force '
                            'meets the forecast', forecast, left, burn)
        if _small_cut(state, target, self.policy.lower_deadband):
            return Decision(state, False, 'holding: the cut the forecast '
                            'allows is too small to act on', forecast,
                            left, burn)
        since = state.since
        if since is not None and now - since < self.guards.min_interval:
            return Decision(state, False, 'waiting: the last action was '
                            f'{int((now - since) // 60)} min ago',
                            forecast, left, burn)
        return Decision(target, True, _reason(state, target, burn, left,
                                              self.boost, first),
                        forecast, left, burn)


def _small_cut(state, target, deadband):
    """Whether ``target`` only lowers, and by fewer than ``deadband``."""
    pairs = [(state.max_servers, target.max_servers),
             (state.min_ready, target.min_ready)]
    cut = 0
    for old, new in pairs:
        for name, value in new.items():
            if value > old.get(name, 0):
                return False
            cut += old.get(name, 0) - value
    return cut < deadband


def _reason(state, target, burn, left, boost, hour):
    up = sum(target.max_servers.values()) - sum(state.max_servers.values())
    why = []
    if burn > 1.0:
        why.append(f'budget burning at {burn:.1f}x')
    if boost[hour % 24] > 1.0:
        why.append(f'load factor {boost[hour % 24]:.2f} for this hour')
    if left < 1.0:
        why.append(f'{max(left, 0):.0%} of the budget left')
    direction = 'raise' if up > 0 else 'lower' if up < 0 else 'rebalance'
    what = f'{direction} to the forecast'
    return what + (f' ({"; ".join(why)})' if why else '')
