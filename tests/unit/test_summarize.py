"""tools/summarize.py: the closing line, and skips failing a CI run."""

import os
import subprocess
import sys

import fixtures
import testtools

from tests import base

SCRIPT = os.path.join(base.REPO, 'tools', 'summarize.py')


class TestSummarize(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.logdir = self.useFixture(fixtures.TempDir()).path

    def env_log(self, env, text, rc):
        with open(os.path.join(self.logdir, env + '.log'), 'w') as f:
            f.write(text)
        with open(os.path.join(self.logdir, env + '.rc'), 'w') as f:
            f.write(str(rc))

    def run_summary(self, fail_on_skip):
        env = dict(os.environ)
        env.pop('NODEPOOL_AARCH64_FAIL_ON_SKIP', None)
        if fail_on_skip:
            env['NODEPOOL_AARCH64_FAIL_ON_SKIP'] = '1'
        return subprocess.run(
            [sys.executable, SCRIPT, self.logdir, 'py3', 'pep8'],
            capture_output=True, text=True, env=env)

    def test_a_skip_fails_only_where_asked(self):
        self.env_log('py3', ' - Passed: 7\n - Failed: 0\n - Skipped: 1\n', 0)
        self.env_log('pep8', 'ok\n', 0)
        relaxed = self.run_summary(fail_on_skip=False)
        self.assertEqual(0, relaxed.returncode)
        self.assertEqual('8 passed, 0 failed, 1 skipped',
                         relaxed.stdout.splitlines()[-1])
        strict = self.run_summary(fail_on_skip=True)
        self.assertEqual(1, strict.returncode)
        self.assertIn('a skipped test fails this run', strict.stdout)
        self.assertEqual('8 passed, 0 failed, 1 skipped',
                         strict.stdout.splitlines()[-1])

    def test_no_skip_passes_under_ci(self):
        self.env_log('py3', ' - Passed: 7\n - Failed: 0\n - Skipped: 0\n', 0)
        self.env_log('pep8', 'broken\n', 1)
        result = self.run_summary(fail_on_skip=True)
        self.assertEqual(0, result.returncode)
        self.assertEqual('7 passed, 1 failed, 0 skipped',
                         result.stdout.splitlines()[-1])
