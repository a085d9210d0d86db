"""A discrete-event simulation of node requests against providers.

Each request asks for one node of a label.  Providers launch nodes while
they run fewer servers than the schedule's max-servers at that moment;
a launch takes a random time and may fail (the provider retries up to
its launch-retries, then the request fails, as Nodepool's NODE_FAILURE).
Waiting requests are served in Zuul's precedence order: a lower
precedence number first (gate before check before check-arm64 and
experimental), then first come, first served; min-ready launches come
after all of them.  A lowered max-servers does not kill nodes in use; it
only stops new launches.

A plan runs this loop many times, so it keeps plain tuples on one heap
and column lists for the requests.  ``_Run`` holds one run's state and
has one handler per kind of ``Event``.
"""

import collections
import enum
import heapq
import math
import random

from nodepool_aarch64.capacity.schedule import WEEK
from nodepool_aarch64.stats import percentile

# Zuul pipeline precedence mapped to a sort key (lower is served first).
PRECEDENCE = {'gate': 0, 'check': 1, 'check-arm64': 2, 'experimental': 2}
DEFAULT_PRECEDENCE = 1


class Event(enum.IntEnum):
    """What a heap entry ``(time, seq, event, a, b)`` stands for.

    Launches and releases carry their own increasing ``seq``; changes of
    the schedules carry -1, so when both schedules change at one instant
    these values decide: max-servers first, then min-ready.
    """

    CAPACITY = 0      # max-servers change: a = step number
    READY = 1         # a request's node is ready: a = pool, b = request
    RELEASE = 2       # a build gives its node back: a = pool
    FAILED = 3        # a request's launch failed: a = pool, b = request
    MIN_READY = 4     # min-ready change: a = step number
    WARM_READY = 5    # a min-ready node is ready: a = pool, b = label
    WARM_FAILED = 6   # a min-ready launch failed: a = pool, b = label


# Looked up once: the loop below runs them millions of times.
_READY, _FAILED = Event.READY, Event.FAILED
_WARM_READY, _WARM_FAILED = Event.WARM_READY, Event.WARM_FAILED
_RELEASE = Event.RELEASE
_heappush, _heappop = heapq.heappush, heapq.heappop


class Pool:
    """One provider as the simulator sees it.

    ``labels`` are the label names it can launch; ``launch_mean`` and
    ``launch_sd`` (seconds) describe a log-normal launch-to-ready time;
    ``failure_rate`` is the chance that one launch attempt fails, which
    it does after the same launch time.
    """

    def __init__(self, name, labels, launch_mean=0.0, launch_sd=0.0,
                 failure_rate=0.0, launch_retries=3):
        self.name = name
        self.labels = frozenset(labels)
        self.launch_mean = float(launch_mean)
        self.launch_sd = float(launch_sd)
        self.failure_rate = float(failure_rate)
        self.launch_retries = max(1, int(launch_retries))


def pools_from_inventory(inv, launch_mean=300.0, launch_sd=120.0,
                         failure_rate=0.02):
    """Pools for each provider of an inventory, serving its labels."""
    pools = []
    for provider in inv.providers:
        labels = [label.name for label in inv.labels
                  if provider.name in label.providers]
        pools.append(Pool(provider.name, labels, launch_mean, launch_sd,
                          failure_rate, provider.launch_retries))
    return pools


class Result:
    """What one run measured.

    ``wait[i]`` is the seconds from request i's arrival until its node was
    ready (``inf`` if it never got one: failed or still queued when the
    run ended).
    """

    def __init__(self, demand, wait, failed, used_node_seconds,
                 capacity_node_seconds, span, launches, events):
        self.demand = demand
        self.wait = wait
        self.failed = failed
        self.used_node_seconds = used_node_seconds
        self.capacity_node_seconds = capacity_node_seconds
        self.span = span
        self.launches = launches
        self.events = events
        self.idle_ready_seconds = 0.0

    def waits(self, pipeline=None, label=None):
        d = self.demand
        pi = None if pipeline is None else d.pipelines.index(pipeline) \
            if pipeline in d.pipelines else -1
        li = None if label is None else d.labels.index(label) \
            if label in d.labels else -1
        return [w for w, p, la in zip(self.wait, d.pipeline, d.label)
                if (pi is None or p == pi) and (li is None or la == li)]

    def percentile(self, q, pipeline=None, label=None):
        return percentile(self.waits(pipeline, label), q)

    def mean_wait(self, pipeline=None, label=None):
        values = self.waits(pipeline, label)
        return sum(values) / len(values) if values else float('nan')

    @property
    def utilisation(self):
        if not self.capacity_node_seconds:
            return float('nan')
        return self.used_node_seconds / self.capacity_node_seconds

    @property
    def used_node_hours(self):
        return self.used_node_seconds / 3600.0

    @property
    def capacity_node_hours(self):
        return self.capacity_node_seconds / 3600.0

    def summary(self, quantiles=(50, 95, 99)):
        """A JSON-friendly digest: waits in minutes."""
        def block(values):
            out = {'requests': len(values),
                   'unserved': sum(1 for v in values if v == math.inf)}
            for q in quantiles:
                out[f'p{q}'] = _minutes(percentile(values, q))
            finite = [v for v in values if v != math.inf]
            out['mean'] = _minutes(sum(finite) / len(finite)) \
                if finite else None
            return out
        d = self.demand
        return {
            'requests': len(d),
            'failed': self.failed,
            'launches': self.launches,
            'utilisation': round(self.utilisation, 4),
            'used-node-hours': round(self.used_node_hours, 1),
            'idle-ready-node-hours': round(self.idle_ready_seconds / 3600, 1),
            'capacity-node-hours': round(self.capacity_node_hours, 1),
            'wait-minutes': {
                'all': block(self.wait),
                'pipeline': {p: block(self.waits(pipeline=p))
                             for p in d.pipelines},
                'label': {la: block(self.waits(label=la))
                          for la in d.labels},
            },
        }


def _minutes(seconds):
    if seconds is None or seconds != seconds:
        return None
    if seconds == math.inf:
        return 'inf'
    return round(seconds / 60.0, 2)


def simulate(demand, pools, schedule, precedence=None, seed=0,
             drain=4 * WEEK, min_ready=None):
    """Run the demand against pools whose max-servers follow a schedule.

    ``min_ready`` is an optional MinReadySchedule: that many idle ready
    nodes are kept per label (Nodepool's min-ready).  A request that
    finds one gets it at once and a replacement is launched; these
    launches come after every pipeline's requests, as Nodepool's
    min-ready requests do.  Idle ready time counts as used node time.

    Runs until every request is served or failed, or ``drain`` seconds
    after the last arrival, whichever comes first.
    """
    run = _Run(demand, pools, schedule, min_ready,
               PRECEDENCE if precedence is None else precedence, seed)
    run.run(drain)
    return run.result(schedule)


class _Steps:
    """A weekly schedule walked through simulated time.

    ``current[i]`` is the value in force for ``keys[i]`` (0 for a key the
    schedule does not name); ``columns[i]`` is that key's column in the
    schedule, or None.
    """

    def __init__(self, weekly, keys):
        column = {name: i for i, name in enumerate(weekly.names)}
        self.columns = [column.get(key) for key in keys]
        self.breaks = weekly.breaks
        self.values = weekly.values
        self.current = [0] * len(keys)
        self.set(0)

    def set(self, step):
        values = self.values[step % len(self.breaks)]
        current = self.current
        for i, col in enumerate(self.columns):
            current[i] = values[col] if col is not None else 0

    def time_of(self, step):
        """When step ``step`` (counted on from week 0) begins."""
        week, segment = divmod(step, len(self.breaks))
        return week * WEEK + self.breaks[segment]


class _Run:
    """One simulation run: its state, and one handler per event."""

    def __init__(self, demand, pools, schedule, min_ready, precedence,
                 seed):
        rng = random.Random(seed)
        self.lognorm = rng.lognormvariate
        self.uniform = rng.random
        labels = list(demand.labels)
        if min_ready is not None:
            # Labels nobody asked for still hold their min-ready nodes.
            labels += [name for name in min_ready.labels
                       if name not in labels]
        self.nlabels = len(labels)
        self.npool = len(pools)
        self.caps = _Steps(schedule, [pool.name for pool in pools])
        self.cap = self.caps.current
        self.ready_steps = None if min_ready is None else \
            _Steps(min_ready, labels)
        self._serving(pools, labels)
        self._launch_model(pools)
        self._requests(demand, precedence)
        self.busy = [0] * self.npool
        # Waiting requests per label: a heap of (precedence, arrival,
        # request); waiting min-ready launches: their times, oldest first.
        self.queues = [[] for _ in labels]
        self.warm = [collections.deque() for _ in labels]
        self.idle = [[] for _ in labels]     # (pool, ready since)
        self.inflight = [0] * self.nlabels   # min-ready launches
        self.events = []
        self.seq = 0
        self.used = self.idle_seconds = 0.0
        self.launches = self.failed = self.nevents = self.outstanding = 0
        self.now = 0.0

    def _serving(self, pools, labels):
        self.label_pools = [[] for _ in labels]
        self.pool_labels = []
        for p, pool in enumerate(pools):
            served = [li for li, name in enumerate(labels)
                      if name in pool.labels]
            self.pool_labels.append(served)
            for li in served:
                self.label_pools[li].append(p)

    def _launch_model(self, pools):
        # Log-normal parameters per pool; mean 0 means an instant launch.
        self.launch_mu, self.launch_sigma = [], []
        for pool in pools:
            m, s = pool.launch_mean, pool.launch_sd
            if m > 0:
                sigma2 = math.log(1 + (s / m) ** 2)
                self.launch_mu.append(math.log(m) - sigma2 / 2)
                self.launch_sigma.append(math.sqrt(sigma2))
            else:
                self.launch_mu.append(None)
                self.launch_sigma.append(0.0)
        self.fail_rate = [pool.failure_rate for pool in pools]
        self.retries = [pool.launch_retries for pool in pools]

    def _requests(self, demand, precedence):
        self.demand = demand
        self.arrival = demand.arrival
        self.hold = demand.hold
        self.plabel = demand.label
        prio = [precedence.get(name, DEFAULT_PRECEDENCE)
                for name in demand.pipelines]
        self.rprio = [prio[p] for p in demand.pipeline]
        n = len(self.arrival)
        self.wait = [math.inf] * n
        self.attempts = [0] * n

    # -- starting launches ---------------------------------------------

    def _launch(self, p, who, warm, now):
        """Launch on pool p for request ``who``, or (``warm``) a
        min-ready node of label ``who``; its end is an event."""
        self.launches += 1
        mu = self.launch_mu[p]
        duration = self.lognorm(mu, self.launch_sigma[p]) \
            if mu is not None else 0.0
        self.used += duration
        rate = self.fail_rate[p]
        failed = rate and self.uniform() < rate
        if warm:
            event = _WARM_FAILED if failed else _WARM_READY
        else:
            event = _FAILED if failed else _READY
        self.seq += 1
        _heappush(self.events, (now + duration, self.seq, event, p, who))

    def _ask(self, li, who, warm, now):
        """Launch for label li at once on the pool with most room, or
        queue the launch."""
        # Anyone already waiting for this label means no pool that serves
        # it has room (_fill keeps that true).
        if not (self.queues[li] or self.warm[li]):
            chosen, room = -1, 0
            cap, busy = self.cap, self.busy
            for p in self.label_pools[li]:
                free = cap[p] - busy[p]
                if free > room:
                    chosen, room = p, free
            if chosen >= 0:
                busy[chosen] += 1
                self._launch(chosen, who, warm, now)
                return
        if warm:
            self.warm[li].append(now)
        else:
            _heappush(self.queues[li], (self.rprio[who], now, who))

    def _top_up(self, li, now):
        """Ask for min-ready nodes until label li has its target."""
        target = self.ready_steps.current[li]
        for _ in range(target - len(self.idle[li]) - self.inflight[li]):
            self.inflight[li] += 1
            self._ask(li, li, True, now)

    def _fill(self, p, now):
        """Start launches on pool p while it has room and work."""
        served = self.pool_labels[p]
        queues, busy, cap = self.queues, self.busy, self.cap
        while busy[p] < cap[p]:
            best = None
            best_li = -1
            for li in served:
                q = queues[li]
                if q and (best is None or q[0] < best):
                    best = q[0]
                    best_li = li
            warm = best is None
            if warm:
                best_li = self._oldest_warm(served)
                if best_li < 0:
                    return
                self.warm[best_li].popleft()
            else:
                _heappop(queues[best_li])
            busy[p] += 1
            self._launch(p, best_li if warm else best[2], warm, now)

    def _oldest_warm(self, served):
        """The label among ``served`` whose min-ready launch has waited
        longest (ties: the label listed later), or -1."""
        oldest = None
        chosen = -1
        for li in served:
            waiting = self.warm[li]
            if waiting and (oldest is None or waiting[0] <= oldest):
                oldest = waiting[0]
                chosen = li
        return chosen

    # -- events ----------------------------------------------------------

    def _serve(self, p, rid, now, held=0.0):
        """Request rid gets its node on pool p (``held``: seconds the
        node already sat ready) and keeps it for its hold time."""
        self.wait[rid] = now - self.arrival[rid]
        h = self.hold[rid]
        self.used += held + h
        self.seq += 1
        _heappush(self.events, (now + h, self.seq, _RELEASE, p, 0))

    def on_arrival(self, rid, now):
        li = self.plabel[rid]
        ready = self.idle[li]
        if not ready:
            self._ask(li, rid, False, now)
            return
        p, since = ready.pop()
        self.idle_seconds += now - since
        self._serve(p, rid, now, now - since)
        self._top_up(li, now)

    def on_ready(self, p, rid, now):
        self._serve(p, rid, now)

    def on_warm_ready(self, p, li, now):
        self.inflight[li] -= 1
        if self.queues[li]:
            # A request arrived while this node booted: it takes the
            # node, and another is launched.
            self._serve(p, heapq.heappop(self.queues[li])[2], now)
            self._top_up(li, now)
        else:
            self.idle[li].append((p, now))

    def _free(self, p, now):
        self.busy[p] -= 1
        self._fill(p, now)

    def on_release(self, p, _, now):
        self.outstanding -= 1
        self._free(p, now)

    def on_failed(self, p, rid, now):
        self.attempts[rid] += 1
        if self.attempts[rid] < self.retries[p]:
            self._launch(p, rid, False, now)
        else:
            self.failed += 1
            self.outstanding -= 1
            self._free(p, now)

    def on_warm_failed(self, p, li, now):
        # The next top-up asks again.
        self.inflight[li] -= 1
        self._free(p, now)

    def _next_step(self, steps, event, step):
        # One pending event per periodic change keeps the heap small.
        if len(steps.breaks) > 1:
            heapq.heappush(self.events,
                           (steps.time_of(step), -1, event, step, 0))

    def on_capacity(self, step, _, now):
        self.caps.set(step)
        for p in range(self.npool):
            self._fill(p, now)
        self._next_step(self.caps, Event.CAPACITY, step + 1)

    def on_min_ready(self, step, _, now):
        self.ready_steps.set(step)
        for li in range(self.nlabels):
            self._top_up(li, now)
        self._next_step(self.ready_steps, Event.MIN_READY, step + 1)

    # -- the loop --------------------------------------------------------

    def handler_list(self):
        """The handler of each Event, indexed by its value (faster than
        hashing an Enum)."""
        handlers = {
            Event.CAPACITY: self.on_capacity, Event.READY: self.on_ready,
            Event.RELEASE: self.on_release, Event.FAILED: self.on_failed,
            Event.MIN_READY: self.on_min_ready,
            Event.WARM_READY: self.on_warm_ready,
            Event.WARM_FAILED: self.on_warm_failed}
        return [handlers[event] for event in sorted(Event)]

    def run(self, drain):
        arrival, events = self.arrival, self.events
        n = len(arrival)
        end_time = (arrival[-1] if n else 0.0) + drain
        handlers = self.handler_list()
        self._next_step(self.caps, Event.CAPACITY, 1)
        if self.ready_steps is not None:
            for li in range(self.nlabels):
                self._top_up(li, 0.0)
            self._next_step(self.ready_steps, Event.MIN_READY, 1)
        i = 0
        now = 0.0
        while i < n or self.outstanding:
            if i < n and (not events or arrival[i] <= events[0][0]):
                now = arrival[i]
                self.nevents += 1
                self.outstanding += 1
                self.on_arrival(i, now)
                i += 1
                continue
            if not events:
                break
            now, _, event, a, b = _heappop(events)
            if now > end_time:
                break
            self.nevents += 1
            handlers[event](a, b, now)
        self.now = now

    def result(self, schedule):
        # Nodes still idle and ready at the end held capacity until then.
        now = self.now
        for ready in self.idle:
            for _, since in ready:
                self.idle_seconds += now - since
                self.used += now - since
        arrival = self.arrival
        span = max(now, arrival[-1] if arrival else 0.0)
        capacity = _capacity_seconds(schedule, self.caps.columns, span)
        result = Result(self.demand, self.wait, self.failed, self.used,
                        capacity, span, self.launches, self.nevents)
        result.idle_ready_seconds = self.idle_seconds
        return result


def _capacity_seconds(schedule, cap_index, span):
    """Max-servers integrated from 0 to ``span`` seconds."""
    indexes = [ci for ci in cap_index if ci is not None]
    total = 0.0
    weeks, rest = divmod(span, WEEK)
    per_week = 0.0
    for start, end, caps in schedule.segments():
        servers = sum(caps[ci] for ci in indexes)
        per_week += servers * (end - start)
        if start < rest:
            total += servers * (min(end, rest) - start)
    return total + weeks * per_week
