"""The simulator against queueing theory and Zuul's precedence rules."""

import datetime
import math
import random

import testtools

from nodepool_aarch64.capacity import demand as demand_mod
from nodepool_aarch64.capacity import schedule as schedule_mod
from nodepool_aarch64.capacity import simulate as sim

ORIGIN = datetime.datetime(2026, 1, 5, tzinfo=datetime.timezone.utc)


def erlang_c(lam, mu, c):
    """(probability of waiting, mean wait) of an M/M/c queue."""
    a = lam / mu
    term = 1.0
    below = 1.0
    for k in range(1, c):
        term *= a / k
        below += term
    top = term * a / c * c / (c - a)
    p_wait = top / (below + top)
    return p_wait, p_wait / (c * mu - lam)


def poisson_demand(lam, mu, n, seed, pipelines=('check',), label='x'):
    rng = random.Random(seed)
    t = 0.0
    rows = []
    for _ in range(n):
        t += rng.expovariate(lam)
        rows.append((t, rng.choice(pipelines), label, rng.expovariate(mu)))
    return demand_mod.Demand(ORIGIN, rows)


def run_static(demand, servers, **pool):
    return sim.simulate(demand, [sim.Pool('p', ['x'], **pool)],
                        schedule_mod.Schedule.static({'p': servers}))


class TestErlangC(testtools.TestCase):
    """Poisson arrivals, exponential holds, instant launches: M/M/c.

    Tolerance: the simulated mean wait is within 8% of Erlang C and the
    share of requests that wait within 0.02 of it, averaged over 3 runs
    of 100,000 requests at each load (the run-to-run spread at load 0.8
    is about 4% of the mean).
    """

    TOLERANCE = 0.08
    RUNS = 3
    REQUESTS = 100_000

    def check_load(self, servers, load):
        mu = 1 / 1800.0
        lam = load * servers * mu
        p_theory, w_theory = erlang_c(lam, mu, servers)
        means, waited = [], []
        for seed in range(self.RUNS):
            result = run_static(
                poisson_demand(lam, mu, self.REQUESTS, seed), servers)
            means.append(result.mean_wait())
            waited.append(sum(1 for w in result.wait if w > 0)
                          / len(result.wait))
        mean = sum(means) / len(means)
        p_wait = sum(waited) / len(waited)
        self.assertLess(abs(mean / w_theory - 1), self.TOLERANCE,
                        f'c={servers} load={load}: mean wait {mean:.1f}s, '
                        f'Erlang C {w_theory:.1f}s')
        self.assertLess(abs(p_wait - p_theory), 0.02,
                        f'c={servers} load={load}: P(wait) {p_wait:.3f}, '
                        f'Erlang C {p_theory:.3f}')

    def test_one_server(self):
        for load in (0.3, 0.6):
            self.check_load(1, load)

    def test_four_servers(self):
        for load in (0.5, 0.8):
            self.check_load(4, load)

    def test_sixteen_servers(self):
        for load in (0.85,):
            self.check_load(16, load)


class TestPrecedence(testtools.TestCase):

    def test_gate_never_waits_longer_than_check(self):
        mu = 1 / 3600.0
        for load in (0.6, 0.8, 0.95, 1.1):
            servers = 8
            lam = load * servers * mu
            demand = poisson_demand(
                lam, mu, 20_000, seed=7,
                pipelines=('gate', 'check', 'check-arm64', 'experimental'))
            result = run_static(demand, servers)
            for q in (50, 95, 99):
                gate = result.percentile(q, pipeline='gate')
                check = result.percentile(q, pipeline='check')
                low = result.percentile(q, pipeline='check-arm64')
                self.assertLessEqual(gate, check, f'load {load} p{q}')
                self.assertLessEqual(check, low, f'load {load} p{q}')
            self.assertLessEqual(result.mean_wait(pipeline='gate'),
                                 result.mean_wait(pipeline='check'))

    def test_overload_starves_low_precedence_first(self):
        mu = 1 / 3600.0
        demand = poisson_demand(2 * 4 * mu, mu, 2000, seed=3,
                                pipelines=('gate', 'experimental'))
        result = run_static(demand, 4)
        self.assertLess(result.mean_wait(pipeline='gate') * 5,
                        result.mean_wait(pipeline='experimental'))


class TestMechanics(testtools.TestCase):

    def test_single_request_waits_for_launch(self):
        demand = demand_mod.Demand(ORIGIN, [(10.0, 'gate', 'x', 600.0)])
        result = run_static(demand, 1, launch_mean=300, launch_sd=1)
        self.assertAlmostEqual(result.wait[0], 300, delta=5)
        self.assertAlmostEqual(result.used_node_seconds, 900, delta=5)

    def test_queued_request_starts_when_node_released(self):
        rows = [(0.0, 'check', 'x', 100.0), (10.0, 'check', 'x', 50.0)]
        result = run_static(demand_mod.Demand(ORIGIN, rows), 1)
        self.assertEqual([0.0, 90.0], result.wait)

    def test_label_only_served_by_its_providers(self):
        rows = [(0.0, 'check', 'big', 100.0), (1.0, 'check', 'x', 100.0)]
        pools = [sim.Pool('a', ['x']), sim.Pool('b', ['x', 'big'])]
        schedule = schedule_mod.Schedule.static({'a': 5, 'b': 1})
        result = sim.simulate(demand_mod.Demand(ORIGIN, rows), pools,
                              schedule)
        # "x" runs on "a" at once; "big" has only "b" and also starts.
        self.assertEqual([0.0, 0.0], result.wait)
        rows.append((2.0, 'check', 'big', 10.0))
        result = sim.simulate(demand_mod.Demand(ORIGIN, rows), pools,
                              schedule)
        self.assertEqual(98.0, result.wait[2])

    def test_failures_are_retried_then_fail(self):
        rows = [(float(i), 'check', 'x', 60.0) for i in range(200)]
        demand = demand_mod.Demand(ORIGIN, rows)
        always = run_static(demand, 10, launch_mean=60, launch_sd=5,
                            failure_rate=1.0, launch_retries=3)
        self.assertEqual(200, always.failed)
        self.assertEqual(600, always.launches)
        self.assertTrue(all(w == math.inf for w in always.wait))
        some = run_static(demand, 10, launch_mean=60, launch_sd=5,
                          failure_rate=0.3, launch_retries=3)
        self.assertGreater(some.launches, 200)
        self.assertLess(some.failed, 20)

    def test_capacity_window_opens_the_queue(self):
        # No servers until 02:00 Monday, then two.
        schedule = schedule_mod.Schedule(('p',), [0, 7200], [(0,), (2,)])
        rows = [(60.0 * i, 'check', 'x', 600.0) for i in range(4)]
        result = sim.simulate(demand_mod.Demand(ORIGIN, rows),
                              [sim.Pool('p', ['x'])], schedule)
        self.assertEqual([7200.0, 7140.0, 7680.0, 7620.0], result.wait)
        self.assertEqual(0, result.failed)

    def test_lowered_capacity_does_not_kill_running_nodes(self):
        schedule = schedule_mod.Schedule(('p',), [0, 100], [(2,), (0,)])
        rows = [(0.0, 'check', 'x', 500.0), (1.0, 'check', 'x', 500.0),
                (2.0, 'check', 'x', 10.0)]
        result = sim.simulate(demand_mod.Demand(ORIGIN, rows),
                              [sim.Pool('p', ['x'])], schedule,
                              drain=3600)
        self.assertEqual([0.0, 0.0, math.inf], result.wait)
        self.assertAlmostEqual(1000.0, result.used_node_seconds)

    def test_utilisation_and_summary(self):
        rows = [(0.0, 'gate', 'x', 3600.0)]
        demand = demand_mod.Demand(ORIGIN, rows)
        result = run_static(demand, 2)
        self.assertAlmostEqual(1.0, result.used_node_hours)
        self.assertAlmostEqual(2.0, result.capacity_node_hours)
        self.assertAlmostEqual(0.5, result.utilisation)
        summary = result.summary()
        self.assertEqual(0.0, summary['wait-minutes']['pipeline']['gate']
                         ['p95'])

    def test_reproducible(self):
        demand = demand_mod.synthetic(2000, {'x': 1.0}, seed=5)
        pools = [sim.Pool('p', ['x'], 300, 100, 0.05)]
        schedule = schedule_mod.Schedule.static({'p': 20})
        a = sim.simulate(demand, pools, schedule, seed=1)
        b = sim.simulate(demand, pools, schedule, seed=1)
        self.assertEqual(a.wait, b.wait)


class TestMinReady(testtools.TestCase):

    def run_ready(self, rows, servers, ready, **kw):
        demand = demand_mod.Demand(ORIGIN, rows)
        pools = [sim.Pool('p', ['x', 'y'], launch_mean=300, launch_sd=0.001)]
        min_ready = schedule_mod.MinReadySchedule.static(ready)
        return sim.simulate(demand, pools,
                            schedule_mod.Schedule.static({'p': servers}),
                            min_ready=min_ready, **kw)

    def test_ready_node_is_taken_at_once_and_replaced(self):
        rows = [(1000.0, 'check', 'x', 600.0), (5000.0, 'check', 'x', 600.0)]
        result = self.run_ready(rows, 2, {'x': 1})
        self.assertEqual(0.0, result.wait[0])
        self.assertEqual(0.0, result.wait[1])
        # Idle: 300-1000, 1300-5000, then 5300 until the run ends at 5600.
        self.assertAlmostEqual(700 + 3700 + 300, result.idle_ready_seconds,
                               delta=1)
        self.assertEqual(3, result.launches)
        without = self.run_ready(rows, 2, {'x': 0})
        self.assertAlmostEqual(300.0, without.wait[0], delta=1)
        self.assertEqual(0.0, without.idle_ready_seconds)

    def test_requests_come_before_min_ready_launches(self):
        # One server: the ready node goes to the first request; the
        # second request, not the replacement, gets the freed server.
        rows = [(1000.0, 'check', 'x', 600.0), (1001.0, 'check', 'x', 600.0)]
        result = self.run_ready(rows, 1, {'x': 1})
        self.assertEqual(0.0, result.wait[0])
        self.assertAlmostEqual(1600 + 300 - 1001, result.wait[1], delta=1)

    def test_request_takes_a_booting_min_ready_node(self):
        rows = [(100.0, 'gate', 'x', 600.0)]
        result = self.run_ready(rows, 1, {'x': 1})
        self.assertAlmostEqual(200.0, result.wait[0], delta=1)

    def test_label_without_requests_still_holds_its_nodes(self):
        rows = [(0.0, 'check', 'x', 3600.0)]
        result = self.run_ready(rows, 3, {'y': 2})
        self.assertAlmostEqual(2 * (3900 - 300), result.idle_ready_seconds,
                               delta=2)

    def test_inventory_min_ready_window(self):
        from nodepool_aarch64.inventory import load_inventory
        inv = load_inventory()
        ready = schedule_mod.min_ready_from_inventory(inv)
        bionic = ready.labels.index('ubuntu-bionic-arm64')
        tuesday_3pm = 1 * schedule_mod.DAY + 15 * schedule_mod.HOUR
        self.assertEqual(1, ready.at(tuesday_3pm)[bionic])
        self.assertEqual(0, ready.at(tuesday_3pm + 8 * 3600)[bionic])
