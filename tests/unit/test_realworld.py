"""The checker on real incidents: each buggy config is caught, each fix is
clean of that finding.

The cases live in <repo>/../shared/realworld (public project-config
history); they are examples of classes of mistakes, so the categories map
to rule codes, never to case names.
"""

import os

import testtools
import yaml

from nodepool_aarch64.check import runner
from tests import base

REALWORLD = base.REALWORLD

# Which finding codes report each category of defect.
CATEGORY_CODES = {
    'label-not-served': {'NPA012', 'NPA013'},
    'missing-diskimage': {'NPA014', 'NPA015'},
    'flavor-mismatch': {'NPA050', 'NPA051', 'NPA052', 'NPA053', 'NPA054'},
    'timeout': {'NPA040', 'NPA041', 'NPA042'},
    'nodeset-label-missing': {'NPA010'},
    'duplicate': {'NPA002', 'NPA003'},
    # The one "other" case is a pool label missing from the top-level
    # labels, which Nodepool's loader crashes on.
    'other': {'NPA011'},
}


# Checking a case once per process is enough: several tests read it.
_RESULTS = {}


def _cases():
    with open(os.path.join(REALWORLD, 'cases.yaml')) as f:
        return yaml.safe_load(f)


class TestRealWorld(testtools.TestCase):

    def setUp(self):
        super().setUp()
        base.require_realworld(self, os.path.join(REALWORLD, 'cases.yaml'))
        self.cases = _cases()

    def _codes(self, case, version):
        base = os.path.join(REALWORLD, case['id'], version)
        paths = [os.path.join(base, p) for p in case['paths']]
        key = (case['id'], version)
        if key not in _RESULTS:
            _RESULTS[key] = runner.run(paths).findings
        return _RESULTS[key]

    def test_every_category_is_mapped(self):
        for case in self.cases:
            self.assertIn(case['category'], CATEGORY_CODES, case['id'])

    def test_buggy_versions_are_caught(self):
        missed = []
        for case in self.cases:
            codes = CATEGORY_CODES[case['category']]
            found = [f for f in self._codes(case, 'buggy')
                     if f.code in codes]
            if not found:
                missed.append(case['id'])
        self.assertEqual([], missed)

    def test_fixed_versions_are_clean_of_that_finding(self):
        remaining = []
        for case in self.cases:
            if not case.get('fixed_ok', True):
                continue
            codes = CATEGORY_CODES[case['category']]
            remaining += [(case['id'], str(f))
                          for f in self._codes(case, 'fixed')
                          if f.code in codes]
        self.assertEqual([], remaining)

    def test_findings_point_into_the_named_files(self):
        for case in self.cases:
            base = os.path.join(REALWORLD, case['id'], 'buggy')
            paths = {os.path.join(base, p) for p in case['paths']}
            for finding in self._codes(case, 'buggy'):
                self.assertIn(finding.path, paths)
                self.assertGreaterEqual(finding.line, 1)
                self.assertGreaterEqual(finding.col, 1)
