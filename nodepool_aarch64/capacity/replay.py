"""A history replayed with the controller acting hour by hour.

The simulator runs the whole history as the world, and stops at every
hour.  There the controller sees only what had happened by then: the
requests that had arrived, the waits of those served (and how long the
others had waited so far), and the node time of builds that had ended.
What it decides is put in force at once, as ``capacity apply`` would.

Per week it reports gate's p95 wait, the node-hours held (max-servers
integrated over time: warm nodes sit inside max-servers, so their idle
time is part of it) and the idle time of warm nodes alone.
"""

import datetime
import math

from nodepool_aarch64.capacity import audit
from nodepool_aarch64.capacity import budget as bg
from nodepool_aarch64.capacity import control
from nodepool_aarch64.capacity import demand as dm
from nodepool_aarch64.capacity import forecast as fc
from nodepool_aarch64.capacity import schedule as sc
from nodepool_aarch64.capacity import simulate as sim
from nodepool_aarch64.capacity.schedule import HOUR, WEEK

# After the last hour, running builds finish with the capacity as left.
DRAIN = 2 * 24 * HOUR


class Stepped(sim._Run):
    """The simulator advanced hour by hour, its max-servers and
    min-ready set from outside between steps (static schedules, so no
    periodic change of its own interferes).  It is the simulator's own
    run, event handlers and all, so a replay and ``capacity simulate``
    cannot drift apart."""

    def __init__(self, demand, pools, labels, seed=0):
        ready = sc.MinReadySchedule.static({name: 0 for name in labels})
        schedule = sc.Schedule.static({pool.name: 0 for pool in pools})
        super().__init__(demand, pools, schedule, ready, sim.PRECEDENCE,
                         seed)
        # The label order _Run uses: the demand's, then the others.
        order = list(demand.labels) + [name for name in ready.labels
                                       if name not in demand.labels]
        self.label_at = {name: i for i, name in enumerate(order)}
        self.pool_at = {pool.name: i for i, pool in enumerate(pools)}
        self.handlers = self.handler_list()
        self.next = 0

    def advance(self, until):
        """Handle every arrival and event before ``until``."""
        arrival, events, handlers = self.arrival, self.events, \
            self.handlers
        n = len(arrival)
        i = self.next
        while True:
            if i < n and arrival[i] < until and \
                    (not events or arrival[i] <= events[0][0]):
                self.nevents += 1
                self.outstanding += 1
                self.on_arrival(i, arrival[i])
                i += 1
            elif events and events[0][0] < until:
                now, _, event, a, b = sim._heappop(events)
                self.nevents += 1
                handlers[event](a, b, now)
            else:
                break
        self.next = i
        self.now = until

    def put(self, state, now):
        for name, servers in state.max_servers.items():
            if name in self.pool_at:
                self.cap[self.pool_at[name]] = servers
        current = self.ready_steps.current
        for name, ready in state.min_ready.items():
            if name in self.label_at:
                current[self.label_at[name]] = ready
        for p in range(self.npool):
            self._fill(p, now)
        for li in range(self.nlabels):
            self._top_up(li, now)

    def idle_so_far(self, now):
        """Idle ready node-seconds up to ``now``, nodes still idle
        included."""
        return self.idle_seconds + sum(now - since for ready in self.idle
                                       for _, since in ready)


class _Observer:
    """What the controller may know at each hour, fed from the run."""

    def __init__(self, run, demand, history, budget, objective):
        self.run, self.demand = run, demand
        self.history, self.budget = history, budget
        self.seen = 0
        self.pending = []
        d = demand
        self.judged = [objective.pipeline != d.pipelines[p] or (
            objective.label is not None and
            objective.label != d.labels[la])
            for p, la in zip(d.pipeline, d.label)]

    def observe(self, now):
        d, run = self.demand, self.run
        for i in range(self.seen, run.next):
            self.history.arrive(d.arrival[i], d.labels[d.label[i]])
            self.pending.append(i)
        self.seen = run.next
        still = []
        for i in self.pending:
            arrival, wait = d.arrival[i], run.wait[i]
            served = wait != math.inf
            if not self.judged[i]:
                bad = self.budget.judge(arrival, wait if served else None,
                                        now)
                if bad is not None:
                    self.budget.record(arrival, bad)
                    self.judged[i] = True
            if served and arrival + wait + d.hold[i] <= now:
                self.history.held(arrival, d.hold[i],
                                  d.labels[d.label[i]])
                if self.judged[i]:
                    continue
            elif not served and self.judged[i] and \
                    now - arrival > dm.MAX_HOLD.total_seconds():
                continue    # failed: its node never comes
            still.append(i)
        self.pending = still


def replay(demand, pools, label_providers, objective, guards, initial,
           policy=None, forecast=None, seed=0):
    """Simulate ``demand`` with the controller in charge; returns the
    JSON-ready output of ``capacity control --simulate``."""
    labels = sorted(set(demand.labels) | set(label_providers))
    run = Stepped(demand, pools, labels, seed)
    history = fc.History(labels)
    budget = bg.ErrorBudget(objective)
    controller = control.Controller(
        label_providers, guards, policy, forecast,
        control.labels_asked(demand, objective))
    observer = _Observer(run, demand, history, budget, objective)
    state = initial
    run.put(state, 0.0)
    weeks = demand.weeks()
    held, idle, actions = [], [], []
    for week in range(weeks):
        node_seconds = 0.0
        idle_before = run.idle_so_far(week * WEEK)
        for hour in range(168):
            now = week * WEEK + hour * HOUR
            run.advance(now)
            observer.observe(now)
            decision = controller.step(history, budget, state, now)
            if decision.act:
                moment = demand.origin + datetime.timedelta(seconds=now)
                actions.append(audit.record(moment, decision, state,
                                            audit.DRY_RUN))
                state = decision.target
                run.put(state, now)
            node_seconds += sum(state.max_servers.values()) * HOUR
        end = (week + 1) * WEEK
        run.advance(end)
        held.append(node_seconds / HOUR)
        idle.append((run.idle_so_far(end) - idle_before) / HOUR)
    run.advance(weeks * WEEK + DRAIN)
    return {
        'weeks': [{'week': k + 1,
                   'gate-p95': _week_p95(demand, run.wait, objective, k),
                   'node-hours': round(held[k], 1),
                   'idle-ready-node-hours': round(idle[k], 1)}
                  for k in range(weeks)],
        'full-quota-node-hours-per-week': sum(guards.quotas.values()) * 168,
        'actions': actions,
    }


def _week_p95(demand, wait, objective, week):
    d = demand
    values = [w for a, p, la, w in zip(d.arrival, d.pipeline, d.label,
                                       wait)
              if int(a // WEEK) == week and
              d.pipelines[p] == objective.pipeline and
              (objective.label is None or d.labels[la] == objective.label)]
    if not values:
        return None
    value = sim.percentile(values, objective.quantile)
    return 'inf' if value == math.inf else round(value / 60.0, 2)
