"""The one reader of Zuul's builds API JSON, and who shares it."""

import datetime
import json
import os
import re

from nodepool_aarch64.capacity import demand
from nodepool_aarch64.errors import InputError
from nodepool_aarch64.formats import zuulbuilds
from tests import base
from tests import readinessdata as rd


class TestZuulResults(base.TestCase):
    """The results this project knows are the ones the pinned Zuul uses."""

    def test_every_result_zuul_records_is_known(self):
        import zuul
        root = os.path.dirname(zuul.__file__)
        found = set()
        pattern = re.compile(r"result\s*=\s*['\"]([A-Z_]{4,})['\"]")
        for directory in ('', 'executor', 'manager'):
            folder = os.path.join(root, directory)
            for name in os.listdir(folder):
                if name.endswith('.py'):
                    with open(os.path.join(folder, name)) as f:
                        found |= set(pattern.findall(f.read()))
        # Merger results that never become a build's result.
        found -= {'TREE_OID', 'COMMIT_OID'}
        self.assertIn('NODE_FAILURE', found)
        self.assertLessEqual(found, zuulbuilds.RESULTS)
        self.assertEqual(zuulbuilds.RESULTS, zuulbuilds.PASSED |
                         zuulbuilds.JOB_FAILURES |
                         zuulbuilds.INFRA_FAILURES | zuulbuilds.NOT_RUN)

    def test_a_saved_page_reads_back(self):
        path = rd.write(os.path.join(self.tempdir(), 'b.json'),
                        [rd.build('x', result='NODE_FAILURE',
                                  error_detail='no node')])
        build, = zuulbuilds.load([path, path])
        self.assertEqual(0.0, build.duration)
        self.assertEqual('no node', build.error_detail)
        self.assertEqual('1', build.patchset)
        self.assertEqual(60.0, build.node_wait)
        self.assertEqual(json.loads(open(path).read())[0]['uuid'],
                         build.uuid)


class TestShared(base.TestCase):
    """Capacity demand reads builds files through the same reader."""

    def test_demand_takes_the_readers_checks(self):
        d = self.tempdir()
        path = os.path.join(d, 'latin1.json')
        with open(path, 'wb') as f:
            f.write(b'[{"job_name": "caf\xe9"}]')
        e = self.assertRaises(InputError, demand.from_zuul_builds, path)
        self.assertIn('not UTF-8 text', str(e))
        path = os.path.join(d, 'bom.json')
        with open(path, 'w', encoding='utf-8-sig') as f:
            json.dump([rd.build('tox-py3-arm64',
                                nodeset='ubuntu-noble-arm64')], f)
        self.assertEqual(1, len(demand.from_zuul_builds(path)))

    def test_both_readings_agree_on_each_arrival(self):
        builds = rd.history('tox-py3-arm64', 'tox-py3', ['SUCCESS'] * 3)
        # One enqueue event after its start: a clock wrong about it.
        builds[0]['event_timestamp'] = rd.stamp(
            rd.T0 + datetime.timedelta(hours=1))
        path = os.path.join(self.tempdir(), 'builds.json')
        with open(path, 'w') as f:
            json.dump(builds, f)
        rows = demand.from_zuul_builds(path)
        records = zuulbuilds.load([path])
        self.assertEqual(
            sorted((b.arrival - rows.origin).total_seconds()
                   for b in records),
            rows.arrival)
        self.assertEqual(records[0].start, records[0].arrival)

    def test_one_timestamp_parser(self):
        at = zuulbuilds.parse_time('2026-11-02T08:00:00Z', 'f', 1, 'k')
        self.assertEqual(at, zuulbuilds.parse_time('2026-11-02T08:00:00',
                                                   'f', 1, 'k'))
        self.assertEqual(at, zuulbuilds.parse_time(
            '2026-11-02T10:00:00+02:00', 'f', 1, 'k'))
        e = self.assertRaises(InputError, zuulbuilds.parse_time, 1700000000,
                              'f', 3, 'k')
        self.assertEqual('f:3: k: expected an ISO 8601 time, got '
                         '1700000000', str(e))
