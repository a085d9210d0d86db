"""Planning max-servers per hour against a wait SLO."""

import os
import re

import fixtures
import testtools

from nodepool_aarch64.capacity import demand as dm
from nodepool_aarch64.capacity import plan as pl
from nodepool_aarch64.capacity import schedule as sc
from nodepool_aarch64.capacity import simulate as sim
from nodepool_aarch64.errors import InputError
from nodepool_aarch64.inventory import DEFAULT_INVENTORY, load_inventory


class TestObjective(testtools.TestCase):

    def test_parse(self):
        o = pl.parse_objective('gate:p95:10')
        self.assertEqual(('gate', 95.0, 10.0, None),
                         (o.pipeline, o.quantile, o.minutes, o.label))
        o = pl.parse_objective('check/ubuntu-noble-arm64:p50<=30')
        self.assertEqual(('check', 50.0, 30.0, 'ubuntu-noble-arm64'),
                         (o.pipeline, o.quantile, o.minutes, o.label))
        for bad in ('gate', 'gate:95:10', 'gate:p0:1', 'gate:p95:x',
                    ':p95:1'):
            self.assertRaises(InputError, pl.parse_objective, bad)


class TestSplit(testtools.TestCase):

    def test_split_is_proportional_and_within_quota(self):
        quotas = {'us': 40, 'london': 8, 'cn1': 8}
        for total in range(0, 70):
            share = pl.split_total(total, quotas)
            self.assertEqual(min(total, 56), sum(share))
            for value, quota in zip(share, quotas.values()):
                self.assertLessEqual(value, quota)
        self.assertEqual((20, 4, 4), pl.split_total(28, quotas))


class TestPlanner(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.quotas = {'a': 24, 'b': 8}
        self.pools = [sim.Pool('a', ['x', 'y'], 300, 100, 0.02),
                      sim.Pool('b', ['x'], 300, 100, 0.02)]
        self.demand = dm.synthetic(
            500, {'x': (0.7, 3600.0), 'y': (0.3, 10800.0)}, seed=3)

    def test_plan_meets_slo_with_fewer_node_hours(self):
        objective = pl.parse_objective('gate:p95:12')
        planner = pl.Planner(self.demand, self.pools, self.quotas,
                             [objective], trim_budget=60)
        plan = planner.plan()
        self.assertTrue(plan.feasible)
        self.assertTrue(objective.met(plan.result))
        # The plan's own result is what simulating its schedule gives.
        again = sim.simulate(self.demand, self.pools, plan.schedule)
        self.assertEqual(plan.result.wait, again.wait)
        full = pl.static_schedule(32, self.quotas)
        self.assertLess(plan.schedule.node_hours(), full.node_hours())
        for caps in plan.schedule.caps:
            self.assertLessEqual(caps[0], 24)
            self.assertLessEqual(caps[1], 8)
        # Every hour keeps the floor of one server.
        self.assertGreaterEqual(min(sum(c) for c in plan.schedule.caps), 1)
        # Weekday afternoons need more than weekend nights.
        hourly = plan.schedule.hourly_totals()
        self.assertGreater(hourly[2 * 24 + 15], hourly[6 * 24 + 3])
        # A static config with the same node-hours waits longer at gate.
        static = pl.static_schedule(
            pl.equal_cost_static(plan.schedule, self.quotas), self.quotas)
        self.assertGreaterEqual(static.node_hours(),
                                plan.schedule.node_hours())
        static_result = sim.simulate(self.demand, self.pools, static)
        self.assertGreater(static_result.percentile(95, 'gate'),
                           plan.result.percentile(95, 'gate'))

    def test_infeasible_slo(self):
        # Launches take ~5 minutes, so no capacity gets gate p95 to 1 min.
        planner = pl.Planner(self.demand, self.pools, self.quotas,
                             [pl.parse_objective('gate:p95:1')])
        plan = planner.plan()
        self.assertFalse(plan.feasible)
        self.assertEqual(1, plan.simulations)


class TestWindowsYaml(testtools.TestCase):

    def test_round_trip_through_the_inventory(self):
        inv = load_inventory()
        quotas = sc.base_caps(inv, full_quota=True)
        hourly = [pl.split_total(10 + (h % 24), quotas) for h in range(168)]
        schedule = sc.Schedule.from_hourly(tuple(quotas), hourly)
        text = pl.windows_yaml(schedule, sc.base_caps(inv))
        with open(DEFAULT_INVENTORY) as f:
            shipped = f.read()
        head = shipped[:shipped.index('\ncapacity:')]
        path = os.path.join(self.useFixture(fixtures.TempDir()).path,
                            'inv.yaml')
        with open(path, 'w') as f:
            f.write(head + '\n' + text)
        planned = load_inventory(path)
        again = sc.from_inventory(planned)
        self.assertEqual(schedule.breaks, again.breaks)
        self.assertEqual(schedule.caps, again.caps)
        # Identical hours on several days share a window.
        names = re.findall(r'name: (plan-\d+)', text)
        self.assertEqual(24, len(names))
