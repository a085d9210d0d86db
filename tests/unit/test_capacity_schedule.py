"""Capacity schedules built from inventory windows."""

import datetime
import random

import testtools

from nodepool_aarch64 import model
from nodepool_aarch64 import sizing
from nodepool_aarch64.capacity import schedule as sc
from nodepool_aarch64.inventory import load_inventory
from tests import windows

UTC = datetime.timezone.utc
MONDAY = windows.MAINTENANCE_WEEK


class TestSchedule(testtools.TestCase):

    def test_static(self):
        s = sc.Schedule.static({'a': 3, 'b': 2})
        self.assertEqual((3, 2), s.at(12345))
        self.assertEqual(5 * 168, s.node_hours())
        self.assertEqual([5.0] * 168, s.hourly_totals())

    def test_equal_neighbours_merge(self):
        s = sc.Schedule(('a',), [0, 100, 200], [(1,), (1,), (2,)])
        self.assertEqual((0, 200), s.breaks)

    def test_hourly_totals_split_partial_hours(self):
        s = sc.Schedule(('a',), [0, 1800, 3600], [(0,), (4,), (0,)])
        self.assertEqual(2.0, s.hourly_totals()[0])
        self.assertEqual(2.0, s.node_hours())

    def test_bad_shapes_refused(self):
        self.assertRaises(ValueError, sc.Schedule, ('a',), [5], [(1,)])
        self.assertRaises(ValueError, sc.Schedule, ('a',), [0], [(1, 2)])
        self.assertRaises(ValueError, sc.Schedule.from_hourly, ('a',),
                          [(1,)] * 10)


class TestFromInventory(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.inv = load_inventory()

    def expected(self, at):
        caps = dict(sizing.max_servers(self.inv))
        for window in self.inv.active_windows(at):
            caps.update(window.max_servers)
        return caps

    def test_agrees_with_window_matching(self):
        # The schedule must say what the model's own matching says at
        # every instant, including one-off windows in the chosen week.
        for week0 in (MONDAY, MONDAY + datetime.timedelta(days=7)):
            schedule = sc.from_inventory(self.inv, week0)
            rng = random.Random(1)
            points = [rng.randrange(sc.WEEK) for _ in range(3000)]
            points += [b for b in schedule.breaks] + \
                [b - 1 for b in schedule.breaks if b]
            for t in points:
                at = week0 + datetime.timedelta(seconds=t)
                want = self.expected(at)
                self.assertEqual(
                    tuple(want[p] for p in schedule.providers),
                    schedule.at(t), at.isoformat())

    def test_one_off_window_only_in_its_week(self):
        recurring = sc.from_inventory(self.inv)
        this_week = sc.from_inventory(self.inv, MONDAY)
        self.assertLess(this_week.node_hours(), recurring.node_hours())
        cn1 = this_week.providers.index('linaro-cn1')
        saturday_3am = 5 * sc.DAY + 3 * sc.HOUR
        self.assertEqual(0, this_week.at(saturday_3am)[cn1])
        self.assertEqual(8, recurring.at(saturday_3am)[cn1])

    def test_full_quota_ignores_the_cap(self):
        capped = sizing.max_servers(self.inv)
        full = sizing.max_servers(self.inv, full_quota=True)
        for name in capped:
            self.assertGreaterEqual(full[name], capped[name])
        self.assertGreater(sum(full.values()), sum(capped.values()))

    def test_window_wrapping_midnight_and_week(self):
        window = model.Window(
            name='w', days=frozenset({6}), start=datetime.time(22),
            end=datetime.time(2), starts=None, ends=None,
            max_servers={'a': 0}, min_ready={})
        s = sc.from_windows({'a': 5}, [window])
        self.assertEqual((0,), s.at(6 * sc.DAY + 23 * sc.HOUR))
        self.assertEqual((0,), s.at(1 * sc.HOUR))
        self.assertEqual((5,), s.at(3 * sc.HOUR))
        self.assertEqual(5 * 168 - 5 * 4, s.node_hours())
