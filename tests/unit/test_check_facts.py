"""Cloud facts for check: from the inventory, or from a facts file."""

import os
import subprocess
import sys

import fixtures
import testtools
import yaml

from nodepool_aarch64 import cloudfacts
from nodepool_aarch64 import model
from nodepool_aarch64.check import facts as facts_mod
from nodepool_aarch64.inventory import load_inventory
from tests import base


class TestFacts(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.inv = load_inventory()
        self.facts = facts_mod.from_inventory(self.inv)

    def test_flavors_are_keyed_by_each_cloud_own_name(self):
        for provider in self.inv.providers:
            facts = self.facts.provider(provider.name)
            for logical, flavor in self.inv.flavors.items():
                cloud_flavor = facts.flavors[
                    provider.flavor_names.get(logical, logical)]
                self.assertEqual((flavor.vcpus, flavor.ram),
                                 (cloud_flavor.vcpus, cloud_flavor.ram))

    def test_quota_and_reserved_come_through(self):
        for provider in self.inv.providers:
            facts = self.facts.provider(provider.name)
            self.assertEqual(provider.quota, facts.quota)
            self.assertEqual(provider.reserved, facts.reserved)
            self.assertEqual((provider.cloud, provider.region),
                             (facts.cloud, facts.region))

    def test_match_by_cloud_and_region_when_names_differ(self):
        provider = self.inv.providers[0]
        found = self.facts.provider('site-specific-name', provider.cloud,
                                    provider.region)
        self.assertEqual(provider.name, found.name)
        self.assertIsNone(self.facts.provider('nope', 'no-cloud', 'x'))


# The example doc/source/check.rst shows; the docs test keeps them equal.
FACTS_EXAMPLE = """\
clouds:
  - cloud: linaro          # a Nodepool provider's `cloud:` (clouds.yaml name)
    region: RegionOne      # its `region-name`; omit for a cloud with one region
    flavors:
      - {name: opendev.large, vcpus: 8, ram: 8192}    # ram in MiB
    quota: {instances: 10, cores: 80, ram: 98304, floating-ips: 9, addresses: 29}
"""  # noqa: E501


class TestFactsFile(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.dir = self.useFixture(fixtures.TempDir()).path

    def write(self, text, name='facts.yaml'):
        path = os.path.join(self.dir, name)
        with open(path, 'w') as f:
            f.write(text)
        return path

    def test_the_documented_example(self):
        facts = facts_mod.from_file(self.write(FACTS_EXAMPLE))
        found = facts.provider('linaro-cn1', 'linaro', 'RegionOne')
        self.assertEqual((None, 'linaro', 'RegionOne'),
                         (found.name, found.cloud, found.region))
        self.assertEqual(model.Quota(10, 80, 98304, 9, 29), found.quota)
        self.assertEqual(model.Flavor('opendev.large', 8, 8192),
                         found.flavors['opendev.large'])
        self.assertIsNone(facts.provider('x', 'linaro', 'London'))

    def test_anything_but_the_cloud_may_be_absent(self):
        regions = cloudfacts.load(self.write(
            'clouds:\n  - cloud: a\n  - cloud: b\n    quota: {cores: 8}\n'))
        self.assertEqual((None, None, None),
                         (regions[0].region, regions[0].flavors,
                          regions[0].quota))
        self.assertEqual(model.Quota(cores=8), regions[1].quota)

    def test_round_trip(self):
        regions = cloudfacts.load(self.write(FACTS_EXAMPLE))
        again = cloudfacts.load(self.write(cloudfacts.dump(regions),
                                           'again.yaml'))
        self.assertEqual(regions, again)

    def test_bad_files_name_line_and_key(self):
        for text, line, expect in (
                ('clouds:\n  - cloud: a\n    flavors:\n'
                 '      - {name: x, vcpus: many, ram: 1}\n',
                 4, 'clouds[0].flavors[0].vcpus: expected a whole number'),
                ('clouds:\n  - region: R\n', 2,
                 'clouds[0].cloud: required key is missing'),
                ('clouds:\n  - cloud: a\n    quota: {gpus: 1}\n', 3,
                 'clouds[0].quota.gpus: unknown key'),
                ('clouds:\n  - cloud: a\n  - cloud: a\n', 3,
                 'clouds[1]: cloud a region None already given'),
                ('labels: []\n', 1, 'labels: unknown key')):
            path = self.write(text)
            proc = subprocess.run(
                [sys.executable, '-m', 'nodepool_aarch64.cli', 'check',
                 '--facts', path, path], capture_output=True, text=True)
            self.assertEqual((2, ''), (proc.returncode, proc.stdout))
            self.assertEqual(1, len(proc.stderr.splitlines()), proc.stderr)
            self.assertTrue(proc.stderr.startswith(
                f'nodepool-aarch64: {path}:{line}: {expect}'), proc.stderr)

    def test_a_facts_only_file_is_what_check_reads(self):
        # A hand-written launcher checked against facts alone: no
        # inventory, no labels or launcher keys in the facts.
        launcher = self.write(yaml.safe_dump({
            'labels': [{'name': 'noble-arm64'}],
            'providers': [{
                'name': 'linaro-cn1', 'cloud': 'linaro',
                'region-name': 'RegionOne', 'boot-timeout': 600,
                'launch-timeout': 800, 'cloud-images': [{'name': 'noble'}],
                'pools': [{'name': 'main', 'max-servers': 12, 'labels': [
                    {'name': 'noble-arm64', 'cloud-image': 'noble',
                     'flavor-name': 'opendev.large'}]}]}]}), 'nl.yaml')
        facts = self.write(FACTS_EXAMPLE)
        proc = subprocess.run(
            [sys.executable, '-m', 'nodepool_aarch64.cli', 'check',
             '--facts', facts, launcher], capture_output=True, text=True)
        self.assertEqual(1, proc.returncode, proc.stderr)
        self.assertIn('NPA060 error: provider linaro-cn1 pool main '
                      'max-servers 12 is above the 9 servers the quota of '
                      'linaro RegionOne allows (bound by floating-ips',
                      proc.stdout)
        self.assertNotIn('skipped without cloud facts', proc.stderr)

    def test_the_doc_shows_this_example(self):
        path = os.path.join(base.REPO, 'doc', 'source', 'check.rst')
        with open(path) as f:
            doc = f.read()
        indented = ''.join('    ' + line + '\n'
                           for line in FACTS_EXAMPLE.splitlines())
        self.assertIn(indented, doc)
