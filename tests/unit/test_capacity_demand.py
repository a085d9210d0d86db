"""Demand from Zuul's builds API, from CSV, and synthetic."""

import csv
import datetime
import json
import os

import fixtures
import testtools

from nodepool_aarch64.capacity import demand as dm
from nodepool_aarch64.capacity.schedule import HOUR, WEEK
from nodepool_aarch64.errors import InputError


def zuul_build(job, pipeline, nodeset, start, end, enqueued=None):
    # The shape Zuul's /api/tenant/T/builds serves (BuildConverter).
    return {
        '_id': 1, 'uuid': 'a' * 32, 'job_name': job, 'result': 'SUCCESS',
        'held': False, 'execute_time': start, 'start_time': start,
        'end_time': end,
        'duration': None, 'voting': True, 'log_url': None,
        'nodeset': nodeset, 'error_detail': None, 'final': True,
        'artifacts': [], 'provides': [],
        'ref': {'project': 'openstack/kolla', 'branch': 'master',
                'change': 1, 'patchset': '1', 'ref': 'refs/changes/1/1/1',
                'oldrev': None, 'newrev': None, 'ref_url': None},
        'pipeline': pipeline, 'event_id': 'e', 'event_timestamp': enqueued,
        'queue_item_uuid': 'q', 'buildset': {'uuid': 'b' * 32, 'refs': []},
    }


def write_csv(demand, path):
    """Write ``demand`` as the CSV ``from_csv`` reads (for tests)."""
    with open(path, 'w', encoding='utf-8', newline='') as f:
        writer = csv.writer(f)
        writer.writerow(('enqueue_time', 'pipeline', 'label', 'start_time',
                         'end_time'))
        for arrival, pipeline, label, hold in demand.records():
            at = demand.origin + datetime.timedelta(seconds=arrival)
            end = at + datetime.timedelta(seconds=hold)
            writer.writerow((at.isoformat(), pipeline, label, at.isoformat(),
                             end.isoformat()))


class TestZuulBuilds(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.dir = self.useFixture(fixtures.TempDir()).path

    def write(self, data, name='builds.json'):
        path = os.path.join(self.dir, name)
        with open(path, 'w') as f:
            f.write(data if isinstance(data, str) else json.dumps(data))
        return path

    def test_import(self):
        path = self.write([
            zuul_build('kolla-build-debian-aarch64', 'check',
                       'debian-bookworm-arm64-large', '2026-01-07T10:05:00',
                       '2026-01-07T13:05:00', '2026-01-07T10:00:00'),
            zuul_build('tox-py311-arm64', 'gate', 'ubuntu-noble-arm64',
                       '2026-01-06T09:00:00', '2026-01-06T09:30:00'),
            zuul_build('tox-py311', 'gate', 'ubuntu-noble',
                       '2026-01-06T09:00:00', '2026-01-06T09:30:00'),
            zuul_build('queued', 'check', 'ubuntu-noble-arm64', None, None),
        ])
        labels = {'debian-bookworm-arm64-large': 'debian-bookworm-arm64-large',
                  'ubuntu-noble-arm64': 'ubuntu-noble-arm64'}
        demand = dm.from_zuul_builds(path, labels)
        self.assertEqual(2, len(demand))
        # Monday 2026-01-05 is the origin; sorted by arrival.
        self.assertEqual(['gate', 'check'],
                         [demand.pipelines[p] for p in demand.pipeline])
        self.assertEqual(1 * 86400 + 9 * HOUR, demand.arrival[0])
        self.assertEqual(2 * 86400 + 10 * HOUR, demand.arrival[1])
        self.assertEqual([1800.0, 3 * HOUR], demand.hold)
        self.assertEqual({'ubuntu-noble': 1, 'not run': 1}, demand.skipped)

    def test_affected_share_scales_only_that_job(self):
        # A Kolla build job that builds only what a change affects holds
        # its node for that share of the recorded full build.
        path = self.write([
            zuul_build('kolla-build-debian-aarch64', 'check',
                       'debian-bookworm-arm64', '2026-01-07T10:00:00',
                       '2026-01-07T13:00:00'),
            zuul_build('tox-py311-arm64', 'gate', 'debian-bookworm-arm64',
                       '2026-01-06T09:00:00', '2026-01-06T09:30:00'),
        ])
        labels = {'debian-bookworm-arm64': 'debian-bookworm-arm64'}
        demand = dm.from_zuul_builds(
            path, labels, shares={'kolla-build-debian-aarch64': 0.25})
        self.assertEqual([1800.0, 0.25 * 3 * HOUR], demand.hold)

    def test_builds_spanning_years_are_skipped_not_simulated(self):
        # One such record once kept the planner busy for a minute.
        path = self.write([
            zuul_build('j', 'gate', 'ubuntu-noble-arm64',
                       '1970-01-02T00:00:00', '8999-01-01T00:00:00'),
            zuul_build('j', 'gate', 'ubuntu-noble-arm64',
                       '8999-01-01T00:00:00', '8999-01-01T01:00:00',
                       '1970-01-01T00:00:00'),
            zuul_build('j', 'gate', 'ubuntu-noble-arm64',
                       '2026-01-06T09:00:00', '2026-01-06T09:30:00')])
        demand = dm.from_zuul_builds(path)
        self.assertEqual(1, len(demand))
        self.assertEqual({'held a node over 2 days': 1,
                          'waited over 2 days': 1}, demand.skipped)
        self.assertEqual(1, demand.weeks())

    def test_bad_input_is_one_line(self):
        path = self.write('[{"job_name": 1,', 'broken.json')
        e = self.assertRaises(InputError, dm.from_zuul_builds, path)
        self.assertIn('broken.json:1', str(e))
        path = self.write({'builds': []})
        self.assertRaises(InputError, dm.from_zuul_builds, path)
        path = self.write([zuul_build('j', 'check', 'n', 'yesterday',
                                      '2026-01-06T09:30:00')])
        e = self.assertRaises(InputError, dm.from_zuul_builds, path)
        self.assertIn('[0].start_time', str(e))

    def test_csv_round_trip(self):
        demand = dm.synthetic(500, {'a': 0.5, 'b': (0.5, 7200.0)}, seed=2)
        path = os.path.join(self.dir, 'd.csv')
        write_csv(demand, path)
        again = dm.from_csv(path)
        self.assertEqual(len(demand), len(again))
        self.assertEqual(demand.origin, again.origin)
        for (a1, p1, l1, h1), (a2, p2, l2, h2) in zip(demand.records(),
                                                      again.records()):
            self.assertEqual((p1, l1), (p2, l2))
            self.assertAlmostEqual(a1, a2, delta=1e-3)
            self.assertAlmostEqual(h1, h2, delta=1e-3)

    def test_csv_errors_name_the_line(self):
        path = os.path.join(self.dir, 'bad.csv')
        with open(path, 'w') as f:
            f.write('pipeline,label,start_time,end_time\n'
                    'check,x,2026-01-05T00:00:00,2026-01-05T01:00:00\n'
                    'check,x,2026-01-05T02:00:00,2026-01-05T01:00:00\n')
        e = self.assertRaises(InputError, dm.from_csv, path)
        self.assertEqual(f'{path}:3: end_time: expected a time after '
                         'start_time', str(e))
        with open(path, 'w') as f:
            f.write('pipeline,start_time\n')
        e = self.assertRaises(InputError, dm.from_csv, path)
        self.assertIn(':1: label: missing column', str(e))
        # A bad quote in the header is one line too, not a traceback.
        with open(path, 'w') as f:
            f.write('"pipeline"x,label,start_time,end_time\n')
        e = self.assertRaises(InputError, dm.from_csv, path)
        self.assertIn(':1: invalid CSV:', str(e))
        with open(path, 'w') as f:
            f.write('pipeline,label,start_time,end_time\n'
                    'check,x,2026-01-05T00:00:00,2026-01-05T01:00:00\n'
                    'check,"x"y,2026-01-05T02:00:00,2026-01-05T03:00:00\n')
        e = self.assertRaises(InputError, dm.from_csv, path)
        self.assertIn(':3: invalid CSV:', str(e))


class TestSynthetic(testtools.TestCase):

    def test_weekly_peak(self):
        demand = dm.synthetic(20000, {'x': 1.0}, weeks=2, seed=1)
        self.assertAlmostEqual(40000, len(demand), delta=800)
        counts = [0] * 168
        for t in demand.arrival:
            counts[int(t % WEEK) // HOUR] += 1
        weekday_afternoon = sum(counts[d * 24 + 14] for d in range(5)) / 5
        weekend_night = sum(counts[d * 24 + 3] for d in (5, 6)) / 2
        self.assertGreater(weekday_afternoon, 10 * weekend_night)
        shares = {p: demand.pipeline.count(i) / len(demand)
                  for i, p in enumerate(demand.pipelines)}
        self.assertAlmostEqual(0.25, shares['gate'], delta=0.02)

    def test_hold_means(self):
        demand = dm.synthetic(5000, {'short': (0.5, 1800.0),
                                     'long': (0.5, 10800.0)}, seed=4)
        for name, want in (('short', 1800.0), ('long', 10800.0)):
            li = demand.labels.index(name)
            holds = [h for h, la in zip(demand.hold, demand.label)
                     if la == li]
            self.assertAlmostEqual(want, sum(holds) / len(holds),
                                   delta=want * 0.08)

    def test_hourly_node_demand_conserves_node_hours(self):
        demand = dm.synthetic(3000, {'x': 1.0}, seed=3)
        self.assertAlmostEqual(demand.node_hours(),
                               sum(demand.hourly_node_demand()), delta=1e-6)


class TestWeeks(testtools.TestCase):

    def test_split_and_combine(self):
        demand = dm.synthetic(300, {'x': 1.0}, weeks=3, seed=1,
                              week_factors=[0.5, 1.0, 1.5])
        weeks = demand.each_week()
        self.assertEqual(3, len(weeks))
        self.assertEqual(len(demand), sum(len(w) for w in weeks))
        # Each week starts at its own Monday, hours of the week kept.
        self.assertEqual(demand.origin + datetime.timedelta(days=14),
                         weeks[2].origin)
        self.assertTrue(all(0 <= a < WEEK for a in weeks[2].arrival))
        # The factors shape the weeks.
        self.assertLess(len(weeks[0]) * 2, len(weeks[2]))
        fit, held = demand.split(1)
        self.assertEqual((2, 1), (fit.weeks(), held.weeks()))
        self.assertEqual(list(weeks[2].records()), list(held.records()))
        again = dm.combine([fit, held])
        self.assertEqual(demand.origin, again.origin)
        for a, b in zip(demand.records(), again.records()):
            self.assertAlmostEqual(a[0], b[0], delta=1e-6)
            self.assertEqual(a[1:], b[1:])
