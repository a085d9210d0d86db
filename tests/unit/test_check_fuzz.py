"""Rules never crash on configs that are far from Nodepool's schema.

Hypothesis replaces values anywhere in a valid config set with values of
other types; whatever Nodepool's validator thinks of the result, check
must answer with findings (or, at worst, one InputError line), never a
traceback.
"""

import copy
import os

import fixtures
import hypothesis
from hypothesis import strategies as st
import testtools
import yaml

from nodepool_aarch64.check import runner
from nodepool_aarch64.errors import InputError
from tests.base import key_paths
from tests.unit import test_check_rules as base

JUNK = st.one_of(
    st.none(), st.booleans(), st.integers(-5, 5), st.text(max_size=8),
    st.lists(st.integers(0, 3), max_size=3),
    st.lists(st.text(max_size=4), max_size=3),
    st.dictionaries(st.sampled_from(['name', 'labels', 'diskimage']),
                    st.text(max_size=4), max_size=2),
    st.just([{'name': None}]), st.just({'name': ['x']}))


def _replace(data, path, value):
    if not path:
        return value
    node = data
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    return data


PROJECT = [{'project': {'check': {'jobs': [
    'unit-arm64',
    {'unit-arm64': {'nodeset': 'ubuntu-noble-arm64'}},
    {'other': {'nodeset': {'alternatives': [
        'ubuntu-noble-arm64',
        {'nodes': [{'name': 'a', 'label': 'ubuntu-noble-arm64'}]}]}}}]}}}]
DOCS = {'nl.yaml': base.LAUNCHER, 'nb.yaml': base.BUILDER,
        'zuul.yaml': base.ZUUL + PROJECT + base.ZUUL_LAUNCHER}
TARGETS = [(name, path) for name, doc in sorted(DOCS.items())
           for path in key_paths(doc) if path]


class TestFuzz(testtools.TestCase):

    @hypothesis.settings(max_examples=200, deadline=None,
                         suppress_health_check=list(
                             hypothesis.HealthCheck))
    @hypothesis.given(st.lists(st.tuples(st.sampled_from(TARGETS), JUNK),
                               min_size=1, max_size=4))
    def test_mutated_configs_never_crash(self, mutations):
        tmp = self.useFixture(fixtures.TempDir()).path
        docs = copy.deepcopy(DOCS)
        for (name, path), value in mutations:
            try:
                docs[name] = _replace(docs[name], path, value)
            except (KeyError, IndexError, TypeError):
                pass  # an earlier mutation removed that path
        paths = []
        for name, doc in docs.items():
            paths.append(os.path.join(tmp, name))
            with open(paths[-1], 'w') as f:
                yaml.safe_dump(doc, f)
        try:
            result = runner.run(paths)
        except InputError:
            # Allowed for a file that stopped being config at all.
            return
        self.assertEqual([], [str(c) for c in result.crashes])
        for finding in result.findings:
            self.assertGreaterEqual(finding.line, 1)
