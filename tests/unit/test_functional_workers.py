"""The functional suite's worker file runs every test exactly once.

stestr drops a test that no worker's regexes match, and runs twice one
that two workers match, both without a word; this keeps the file honest
as test modules come and go.
"""

import glob
import os
import re

import testtools
import yaml

from tests import base

ROOT = base.REPO
WORKERS = os.path.join(ROOT, 'tests', 'functional', 'workers.yaml')


def functional_modules():
    pattern = os.path.join(ROOT, 'tests', 'functional', 'test_*.py')
    return sorted(os.path.basename(p)[:-3] for p in glob.glob(pattern))


class TestFunctionalWorkers(testtools.TestCase):

    def test_each_test_module_lands_on_exactly_one_worker(self):
        with open(WORKERS) as f:
            workers = [[re.compile(r) for r in w['worker']]
                       for w in yaml.safe_load(f)]
        self.assertEqual(2, len(workers))
        modules = functional_modules()
        self.assertIn('test_job_path', modules)
        for module in modules:
            test_id = f'tests.functional.{module}.TestCase.test_it'
            owners = [i for i, regexes in enumerate(workers)
                      if any(r.search(test_id) for r in regexes)]
            self.assertEqual(1, len(owners), f'{module}: workers {owners}')

    def test_tox_runs_the_suite_with_the_worker_file(self):
        with open(os.path.join(ROOT, 'tox.ini')) as f:
            tox = f.read()
        self.assertIn('--worker-file tests/functional/workers.yaml', tox)
