"""readiness on input at the edges: malformed options, windows as long
as the contract allows, and job names that try to forge lines."""

import json
import os
import time

from tests import base
from tests import readinessdata as rd


class TestReadinessBounds(base.TestCase):

    def setUp(self):
        super().setUp()
        self.builds = rd.write(
            os.path.join(self.tempdir(), 'builds.json'),
            rd.history('tox-py3-arm64', 'tox-py3', ['SUCCESS'] * 20))

    def assertUnusable(self, option, *argv):
        code, out, err = self.run_cli('readiness', '--builds', self.builds,
                                      *argv)
        self.assertEqual(2, code, err)
        self.assertEqual('', out)
        self.assertEqual(1, len(err.splitlines()), err)
        self.assertIn(option, err)
        return err

    def test_malformed_slo(self):
        for slo in ('x', 'gate:p95', 'gate:pX:1', 'gate:p200:1', ':::'):
            self.assertUnusable('--slo', '--slo', slo)

    def test_days_back_past_1970(self):
        for since in ('999999999d', '9' * 30 + 'd', '30000d'):
            err = self.assertUnusable('--since', '--since', since)
            self.assertIn('more days back than to 1970-01-01', err)

    def test_the_longest_window_costs_what_its_builds_cost(self):
        started = time.process_time()
        code, out, err = self.run_cli(
            'readiness', '--builds', self.builds, '--format', 'json',
            '--since', '1970-01-01T00:00Z', '--until', '8999-12-31T00:00Z')
        self.assertIn(code, (0, 1), err)
        # 7,000 years are 2.5 million days: one entry per day of the
        # window took 2.9 GB.  Only days with runs are listed.
        self.assertLess(time.process_time() - started, 5.0)
        job = json.loads(out)['jobs'][0]
        daily = job['metrics']['daily']
        self.assertLessEqual(len(daily), job['metrics']['runs'])
        self.assertEqual(job['metrics']['runs'],
                         sum(d['runs'] for d in daily))

    def test_job_names_cannot_forge_lines(self):
        forged = 'tox-py3-arm64\n  ok   runs: forged\x1b[2K\r'
        builds = rd.history(forged, 'tox-py3', ['FAILURE'] * 3)
        path = rd.write(os.path.join(self.tempdir(), 'forged.json'), builds)
        code, out, err = self.run_cli('readiness', '--builds', path)
        self.assertEqual(1, code, err)
        self.assertNotIn('\x1b', out)
        self.assertNotIn('\r', out)
        self.assertFalse([line for line in out.splitlines()
                          if line.startswith('  ok   runs: forged')], out)


class TestPlots(base.TestCase):

    def setUp(self):
        super().setUp()
        tmp = self.tempdir()
        self.builds = rd.write(os.path.join(tmp, 'builds.json'), (
            rd.history('tox-py3-arm64', 'tox-py3', ['SUCCESS'] * 3) +
            rd.history('tox-py310-arm64', 'tox-py310', ['SUCCESS'] * 3,
                       first_change=2000)))
        self.plots = os.path.join(tmp, 'plots')
        os.mkdir(self.plots)
        self.victim = os.path.join(tmp, 'victim')
        with open(self.victim, 'w') as f:
            f.write('not a plot\n')

    def test_a_link_at_a_predictable_name_is_not_followed(self):
        for job in ('tox-py3-arm64', 'tox-py310-arm64'):
            os.symlink(self.victim,
                       os.path.join(self.plots, job + '.png.tmp'))
        code, _, err = self.run_cli('readiness', '--builds', self.builds,
                                    '--plot', self.plots)
        self.assertIn(code, (0, 1), err)
        with open(self.victim) as f:
            self.assertEqual('not a plot\n', f.read())
        with open(os.path.join(self.plots, 'tox-py3-arm64.png'), 'rb') as f:
            self.assertEqual(b'\x89PNG', f.read(4))

    def test_plots_are_replaced_as_a_set(self):
        old = os.path.join(self.plots, 'tox-py3-arm64.png')
        with open(old, 'wb') as f:
            f.write(b'old plot')
        # The other job's plot cannot be written: nothing is replaced.
        os.mkdir(os.path.join(self.plots, 'tox-py310-arm64.png'))
        code, out, err = self.run_cli('readiness', '--builds', self.builds,
                                      '--plot', self.plots)
        self.assertEqual(2, code, err)
        self.assertEqual(1, len(err.splitlines()), err)
        with open(old, 'rb') as f:
            self.assertEqual(b'old plot', f.read())
        self.assertEqual(['tox-py3-arm64.png', 'tox-py310-arm64.png'],
                         sorted(os.listdir(self.plots)))
