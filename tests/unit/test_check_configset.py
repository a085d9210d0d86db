"""Reading config sets: telling files apart, walking directories, and
running Nodepool's own validator on each Nodepool file."""

import copy
import os

import fixtures
import testtools
import yaml

from nodepool_aarch64.check import runner
from nodepool_aarch64.check import validate
from nodepool_aarch64.errors import InputError
from nodepool_aarch64.formats import configset
from tests.unit import test_check_rules as base


class TestClassify(testtools.TestCase):

    def test_nodepool_by_content(self):
        for key in ('providers', 'labels', 'diskimages',
                    'zookeeper-servers'):
            self.assertEqual('nodepool', configset.classify({key: []}))

    def test_zuul_by_content(self):
        self.assertEqual('zuul', configset.classify(base.ZUUL))
        self.assertEqual('zuul', configset.classify(
            [{'project': {'check': {'jobs': []}}}]))

    def test_neither(self):
        for data in ({'clouds': {}}, [{'hosts': 'all', 'tasks': []}],
                     [{'job': {}, 'nodeset': {}}], [], 'text', None):
            self.assertIsNone(configset.classify(data))


class TestLoad(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.dir = self.useFixture(fixtures.TempDir()).path

    def write(self, rel, data):
        path = os.path.join(self.dir, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, 'w') as f:
            f.write(data if isinstance(data, str) else yaml.safe_dump(data))
        return path

    def test_directories_are_walked_and_others_skipped(self):
        self.write('nodepool/nl01.yaml', base.LAUNCHER)
        self.write('nodepool/nb01.yaml', base.BUILDER)
        self.write('project/.zuul.yaml', base.ZUUL)
        self.write('project/zuul.d/more.yaml', base.ZUUL[1:])
        self.write('nodepool/clouds.yaml', {'clouds': {}})
        self.write('playbooks/run.yaml', [{'hosts': 'all', 'tasks': []}])
        self.write('nodepool/README', 'not yaml: [')
        self.write('.git/config.yaml', 'broken: [')
        self.write('empty.yaml', '')
        cs = configset.load([self.dir])
        self.assertEqual(['nb01', 'nl01'],
                         sorted(f.name for f in cs.nodepool))
        self.assertEqual(2, len(cs.zuul))
        self.assertEqual(['nl01'], [f.name for f in cs.launchers])
        self.assertEqual(['nb01'], [f.name for f in cs.builders])
        skipped = ' '.join(cs.notes)
        self.assertIn('clouds.yaml: neither', skipped)
        self.assertIn('run.yaml: neither', skipped)
        self.assertIn('empty.yaml: empty', skipped)

    def test_same_file_twice_is_read_once(self):
        path = self.write('nl01.yaml', base.LAUNCHER)
        cs = configset.load([path, self.dir, path])
        self.assertEqual(1, len(cs.nodepool))

    def test_multi_document_file_is_unusable(self):
        path = self.write('nl.yaml', 'labels: []\n---\nlabels: []\n')
        e = self.assertRaises(InputError, configset.load, [path])
        self.assertIn('expected a Nodepool config', str(e))

    def test_positions_are_line_and_column(self):
        path = self.write('nl.yaml', (
            'labels:\n'
            '  - name: a\n'
            'providers:\n'
            '  - name: p\n'
            '    cloud: c\n'
            '    pools:\n'
            '      - name: main\n'
            '        labels:\n'
            '          - name: a\n'
            '            "flavor-name": x\n'))
        f, = configset.load([path]).nodepool
        label, = f.providers[0].pool_labels
        self.assertEqual((9, 13), f.position(label.data))
        self.assertEqual((10, 13), f.position(label.data, 'flavor-name'))
        self.assertEqual((4, 5), f.position(f.providers[0].data, 'name'))

    def test_nodeset_alternatives_and_label_lists(self):
        self.write('zuul.yaml', [{'nodeset': {'name': 'n', 'alternatives': [
            {'nodes': [{'name': 'a', 'label': 'x-arm64'}]},
            'other-nodeset',
            {'nodes': {'name': 'b', 'label': 'y-arm64'}}]}}])
        cs = configset.load([self.dir])
        self.assertEqual(['x-arm64', 'y-arm64'],
                         sorted(r.label for r in cs.node_refs()))


class TestValidate(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.dir = self.useFixture(fixtures.TempDir()).path

    def run_on(self, data):
        path = os.path.join(self.dir, 'nl.yaml')
        with open(path, 'w') as f:
            f.write(data if isinstance(data, str) else yaml.safe_dump(
                data, sort_keys=False))
        f, = configset.load([path]).nodepool
        return validate.validate(f)

    def test_clean_file_has_no_validator_findings(self):
        self.assertEqual([], self.run_on(base.LAUNCHER))
        self.assertEqual([], self.run_on(base.BUILDER))

    def test_validator_never_sees_the_callers_environment(self):
        # Nodepool fills %(NODEPOOL_*)s placeholders from the environment;
        # a finding quoting the key would print the value.
        self.useFixture(fixtures.EnvironmentVariable(
            'NODEPOOL_TOKEN', 'CANARY-S3CRET'))
        data = copy.deepcopy(base.LAUNCHER)
        data['providers'][0]['pools'][0]['labels'][0][
            '%(NODEPOOL_TOKEN)s'] = 1
        found = self.run_on(data)
        self.assertTrue(found)
        self.assertNotIn('CANARY', ' '.join(f.message for f in found))

    def test_provider_schema_error_points_at_that_provider(self):
        data = copy.deepcopy(base.LAUNCHER)
        second = copy.deepcopy(data['providers'][0])
        second['name'] = 'other'
        second['pools'][0]['labels'][1]['flavour-name'] = 'typo'
        data['providers'].append(second)
        found, = self.run_on(data)
        self.assertEqual('NPA001', found.code)
        self.assertIn('extra keys not allowed at '
                      'providers[1].pools[0].labels[1].flavour-name',
                      found.message)
        with open(found.path) as f:
            line = f.read().splitlines()[found.line - 1]
        self.assertTrue(line[found.col - 1:].startswith('flavour-name:'))

    def test_top_level_schema_error(self):
        found, = self.run_on('labels:\n  - name: a\n    min-ready: lots\n')
        self.assertEqual(3, found.line)
        self.assertIn('labels[0].min-ready', found.message)

    def test_validator_crash_is_a_finding(self):
        # Nodepool's validator indexes label names it never required.
        found, = self.run_on('labels:\n  - min-ready: 1\nproviders: []\n')
        self.assertEqual('NPA001', found.code)
        self.assertIn("crashed: KeyError: 'name'", found.message)

    def test_cross_references_left_to_rules(self):
        data = copy.deepcopy(base.LAUNCHER)
        data['labels'].pop()
        self.assertEqual([], self.run_on(data))
        path = os.path.join(self.dir, 'nl.yaml')
        codes = {f.code for f in runner.run([path]).findings}
        self.assertEqual({'NPA011'}, codes)

    def test_parent_error_is_kept_with_position(self):
        found, = self.run_on('diskimages:\n  - name: a\n  - name: b\n'
                             '    parent: nowhere\n')
        self.assertEqual((3, 5), (found.line, found.col))
        self.assertIn('non-existant parent', found.message)

    def test_driver_registry_is_restored(self):
        from nodepool.driver import Drivers
        before = dict(Drivers.drivers)
        path = os.path.join(self.dir, 'nl.yaml')
        with open(path, 'w') as f:
            yaml.safe_dump(base.LAUNCHER, f)
        runner.run([path])
        self.assertEqual(before, Drivers.drivers)
        # Other Nodepool code in the process still gets every driver.
        self.assertIsNotNone(Drivers.get('fake'))

    def test_logging_is_restored(self):
        import logging
        logger = logging.getLogger('nodepool.cmd.config_validator')
        before = (list(logger.handlers), logger.propagate)
        self.run_on('labels:\n  - min-ready: x\n')
        self.assertEqual(before, (list(logger.handlers), logger.propagate))
