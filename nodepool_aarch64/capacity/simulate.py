"""A discrete-event simulation of node requests against providers.

Each request asks for one node of a label.  Providers launch nodes while
they run fewer servers than the schedule's max-servers at that moment;
a launch takes a random time and may fail (the provider retries up to
its launch-retries, then the request fails, as Nodepool's NODE_FAILURE).
Waiting requests are served in Zuul's precedence order: a lower
precedence number first (gate before check before check-arm64 and
experimental), then first come, first served.  A lowered max-servers
does not kill nodes in use; it only stops new launches.

The event loop uses plain tuples on one heap and column lists for the
requests, because a plan runs this loop many times.
"""

import heapq
import math
import random

from nodepool_aarch64.capacity.schedule import WEEK

# Zuul pipeline precedence mapped to a sort key (lower is served first).
PRECEDENCE = {'gate': 0, 'check': 1, 'check-arm64': 2, 'experimental': 2}
DEFAULT_PRECEDENCE = 1

_CAPACITY, _READY, _RELEASE, _FAILED, _MIN_READY = 0, 1, 2, 3, 4


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


def percentile(values, q):
    """Nearest-rank percentile; ``inf`` counts as the largest value."""
    if not values:
        return float('nan')
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100.0 * len(ordered)))
    return ordered[rank - 1]


def simulate(demand, pools, schedule, precedence=None, seed=0,
             drain=4 * WEEK, min_ready=None):
    """Run the demand against pools whose max-servers follow a schedule.

    ``min_ready`` is an optional Schedule keyed by label: that many idle
    ready nodes are kept per label (Nodepool's min-ready).  A request
    that finds one gets it at once and a replacement is launched; these
    launches come after every pipeline's requests, as Nodepool's
    min-ready requests do.  Idle ready time counts as used node time.

    Runs until every request is served or failed, or ``drain`` seconds
    after the last arrival, whichever comes first.
    """
    precedence = PRECEDENCE if precedence is None else precedence
    rng = random.Random(seed)
    lognorm = rng.lognormvariate
    uniform = rng.random
    heappush, heappop = heapq.heappush, heapq.heappop

    labels = list(demand.labels)
    if min_ready is not None:
        # Labels nobody asked for still hold their min-ready nodes.
        labels += [name for name in min_ready.providers
                   if name not in labels]
    npool = len(pools)
    index = {name: i for i, name in enumerate(schedule.providers)}
    cap_index = [index.get(pool.name) for pool in pools]
    nlabels = len(labels)
    label_pools = [[] for _ in range(nlabels)]
    pool_labels = []
    for p, pool in enumerate(pools):
        served = [li for li, name in enumerate(labels) if name in pool.labels]
        pool_labels.append(served)
        for li in served:
            label_pools[li].append(p)

    # Log-normal parameters per pool; mean 0 means an instant launch.
    launch_mu, launch_sigma, fail_rate, retries = [], [], [], []
    for pool in pools:
        m, s = pool.launch_mean, pool.launch_sd
        if m > 0:
            sigma2 = math.log(1 + (s / m) ** 2)
            launch_mu.append(math.log(m) - sigma2 / 2)
            launch_sigma.append(math.sqrt(sigma2))
        else:
            launch_mu.append(None)
            launch_sigma.append(0.0)
        fail_rate.append(pool.failure_rate)
        retries.append(pool.launch_retries)

    arrival = demand.arrival
    hold = demand.hold
    plabel = demand.label
    prio = [precedence.get(name, DEFAULT_PRECEDENCE)
            for name in demand.pipelines]
    rprio = [prio[p] for p in demand.pipeline]
    # Min-ready launches queue behind every pipeline.
    ready_prio = max(list(precedence.values()) + [DEFAULT_PRECEDENCE]) + 1
    n = len(arrival)
    wait = [math.inf] * n
    attempts = [0] * n

    busy = [0] * npool
    cap = [0] * npool
    queues = [[] for _ in range(nlabels)]
    idle = [[] for _ in range(nlabels)]     # (pool, ready since)
    inflight = [0] * nlabels                # min-ready launches
    target = [0] * nlabels
    events = []
    seq = 0
    used = 0.0
    idle_seconds = 0.0
    launches = 0
    failed = 0
    nevents = 0
    outstanding = 0

    breaks = schedule.breaks
    caps_by_segment = schedule.caps
    nseg = len(breaks)

    def set_caps(segment):
        caps = caps_by_segment[segment]
        for p in range(npool):
            ci = cap_index[p]
            cap[p] = caps[ci] if ci is not None else 0

    if min_ready is not None:
        column = {name: i for i, name in enumerate(min_ready.providers)}
        ready_column = [column.get(name) for name in labels]
        ready_breaks = min_ready.breaks
        ready_caps = min_ready.caps
        nready = len(ready_breaks)

    def set_targets(segment):
        values = ready_caps[segment]
        for li in range(nlabels):
            col = ready_column[li]
            target[li] = values[col] if col is not None else 0

    def launch(p, rid, now):
        # Pushes READY or FAILED for a launch on pool p.
        nonlocal seq, launches, used
        launches += 1
        mu = launch_mu[p]
        duration = lognorm(mu, launch_sigma[p]) if mu is not None else 0.0
        used += duration
        seq += 1
        if fail_rate[p] and uniform() < fail_rate[p]:
            heappush(events, (now + duration, seq, _FAILED, p, rid))
        else:
            heappush(events, (now + duration, seq, _READY, p, rid))

    def request(li, key, now):
        # Queue a request (key = (precedence, time, rid)), or launch it
        # at once on the pool with most room.
        q = queues[li]
        if q:
            # Someone already waits for this label, so no pool that
            # serves it has room (fill() keeps that true).
            heappush(q, key)
            return
        chosen = -1
        room = 0
        for p in label_pools[li]:
            free = cap[p] - busy[p]
            if free > room:
                room = free
                chosen = p
        if chosen < 0:
            heappush(q, key)
        else:
            busy[chosen] += 1
            launch(chosen, key[2], now)

    def top_up(li, now):
        deficit = target[li] - len(idle[li]) - inflight[li]
        while deficit > 0:
            deficit -= 1
            inflight[li] += 1
            request(li, (ready_prio, now, -1 - li), now)

    def fill(p, now):
        # Start launches on pool p while it has room and work.
        served = pool_labels[p]
        while busy[p] < cap[p]:
            best = None
            best_li = -1
            for li in served:
                q = queues[li]
                if q and (best is None or q[0] < best):
                    best = q[0]
                    best_li = li
            if best is None:
                return
            heappop(queues[best_li])
            busy[p] += 1
            launch(p, best[2], now)

    set_caps(0)
    end_time = (arrival[-1] if n else 0.0) + drain
    # One pending event per periodic change keeps the heap small.
    if nseg > 1:
        heappush(events, (breaks[1], -1, _CAPACITY, 1, 0))
    if min_ready is not None:
        set_targets(0)
        for li in range(nlabels):
            top_up(li, 0.0)
        if nready > 1:
            heappush(events, (ready_breaks[1], -1, _MIN_READY, 1, 0))

    i = 0
    now = 0.0
    while i < n or outstanding:
        if i < n and (not events or arrival[i] <= events[0][0]):
            now = arrival[i]
            rid = i
            i += 1
            nevents += 1
            outstanding += 1
            li = plabel[rid]
            ready = idle[li]
            if ready:
                p, since = ready.pop()
                idle_seconds += now - since
                wait[rid] = 0.0
                h = hold[rid]
                used += now - since + h
                seq += 1
                heappush(events, (now + h, seq, _RELEASE, p, 0))
                top_up(li, now)
                continue
            request(li, (rprio[rid], now, rid), now)
            continue
        if not events:
            break
        now, _, kind, a, b = heappop(events)
        if now > end_time:
            break
        nevents += 1
        if kind == _READY:
            if b < 0:
                li = -1 - b
                inflight[li] -= 1
                q = queues[li]
                if q and q[0][2] >= 0:
                    # A request arrived while this node booted: it
                    # takes the node, and another is launched.
                    rid = heappop(q)[2]
                    wait[rid] = now - arrival[rid]
                    h = hold[rid]
                    used += h
                    seq += 1
                    heappush(events, (now + h, seq, _RELEASE, a, 0))
                    top_up(li, now)
                else:
                    idle[li].append((a, now))
                continue
            wait[b] = now - arrival[b]
            h = hold[b]
            used += h
            seq += 1
            heappush(events, (now + h, seq, _RELEASE, a, 0))
        elif kind == _RELEASE:
            outstanding -= 1
            busy[a] -= 1
            fill(a, now)
        elif kind == _FAILED:
            if b < 0:
                # The next top-up asks again.
                inflight[-1 - b] -= 1
                busy[a] -= 1
                fill(a, now)
                continue
            attempts[b] += 1
            if attempts[b] < retries[a]:
                launch(a, b, now)
            else:
                failed += 1
                outstanding -= 1
                busy[a] -= 1
                fill(a, now)
        elif kind == _CAPACITY:
            set_caps(a % nseg)
            for p in range(npool):
                fill(p, now)
            nxt = a + 1
            week, segment = divmod(nxt, nseg)
            heappush(events, (week * WEEK + breaks[segment], -1,
                              _CAPACITY, nxt, 0))
        else:
            set_targets(a % nready)
            for li in range(nlabels):
                top_up(li, now)
            nxt = a + 1
            week, segment = divmod(nxt, nready)
            heappush(events, (week * WEEK + ready_breaks[segment], -1,
                              _MIN_READY, nxt, 0))

    # Nodes still idle and ready at the end held capacity until then.
    for ready in idle:
        for _, since in ready:
            idle_seconds += now - since
            used += now - since
    span = max(now, arrival[-1] if n else 0.0)
    capacity = _capacity_seconds(schedule, pools, cap_index, span)
    result = Result(demand, wait, failed, used, capacity, span, launches,
                    nevents)
    result.idle_ready_seconds = idle_seconds
    return result


def _capacity_seconds(schedule, pools, cap_index, span):
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
