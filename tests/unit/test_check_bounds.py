"""check's work on large sets: linear in the files, and no recursion
that a long diskimage parent chain can exhaust."""

import os

import fixtures
import yaml

from nodepool_aarch64.check import archinfo
from nodepool_aarch64.check import runner
from tests import base
from tests.unit.test_realworld import REALWORLD

CHAIN = 3000


def chain_builder(length):
    """A builder whose Arm64 diskimage has ``length`` ancestors."""
    images = [{'name': 'base-0', 'abstract': True,
               'elements': ['ubuntu-minimal'],
               'env-vars': {'DIB_ARCH': 'arm64'}}]
    for i in range(1, length):
        images.append({'name': f'base-{i}', 'parent': f'base-{i - 1}',
                       'abstract': True, 'elements': [f'e{i}']})
    images.append({'name': 'ubuntu-noble-arm64', 'parent':
                   f'base-{length - 1}', 'elements': ['vm']})
    return {'diskimages': images, 'providers': [{
        'name': 'linaro-us', 'driver': 'openstack', 'cloud': 'linaro',
        'diskimages': [{'name': 'ubuntu-noble-arm64'}]}]}


class TestCheckBounds(base.TestCase):

    def test_a_long_parent_chain_is_walked_without_recursion(self):
        # The rules walk the chain; Nodepool's validator (which takes
        # seconds on 3,000 diskimages) is not what is tested here.
        self.useFixture(fixtures.MonkeyPatch(
            'nodepool_aarch64.check.validate.validate', lambda source: []))
        d = self.tempdir()
        with open(os.path.join(d, 'nb01.yaml'), 'w') as f:
            yaml.safe_dump(chain_builder(CHAIN), f)
        result = runner.run([d])
        self.assertEqual([], result.crashes)
        codes = {f.code for f in result.findings}
        # Nothing uploads it with UEFI metadata, and the EFI element is
        # missing from all 3,000 generations.
        self.assertIn('NPA022', codes)
        self.assertIn('NPA023', codes)

    def test_parents_merge_from_the_oldest(self):
        d = self.tempdir()
        with open(os.path.join(d, 'nb01.yaml'), 'w') as f:
            yaml.safe_dump(chain_builder(3), f)
        f, = runner.configset_mod.load([d]).nodepool
        env, _, elements = archinfo.resolved(f, 'ubuntu-noble-arm64')
        self.assertEqual({'DIB_ARCH': 'arm64'}, env)
        self.assertEqual(['ubuntu-minimal', 'e1', 'e2', 'vm'], elements)

    def copies(self, count):
        """``count`` copies of a real launcher file, distinct providers."""
        source = os.path.join(
            REALWORLD, 'nl03-osuosl-bullseye-arm64-linaro-flavor', 'fixed',
            'nodepool', 'nl03.opendev.org.yaml')
        if not os.path.exists(source):
            self.skipTest(f'{source} not present')
        with open(source) as f:
            data = yaml.safe_load(f)
        d = self.tempdir()
        for i in range(count):
            copy = dict(data, providers=[dict(p, name=f'{p["name"]}-{i}')
                                         for p in data['providers']])
            with open(os.path.join(d, f'nl{i:04d}.yaml'), 'w') as f:
                yaml.safe_dump(copy, f)
        return d

    def work(self, directory):
        """How often the architecture of a diskimage is worked out from
        a file: the step that was once done per label per file."""
        calls = []
        real = archinfo.resolved
        self.useFixture(fixtures.MonkeyPatch(
            'nodepool_aarch64.check.archinfo.resolved',
            lambda *a, **k: calls.append(1) or real(*a, **k)))
        # Nodepool's validator is linear and the slowest part; it is not
        # what is measured here.
        self.useFixture(fixtures.MonkeyPatch(
            'nodepool_aarch64.check.validate.validate', lambda source: []))
        runner.run([directory])
        return len(calls)

    def test_work_grows_linearly_with_the_files(self):
        small = self.work(self.copies(5))
        large = self.work(self.copies(20))
        self.assertLessEqual(large, small * 4 * 1.1, (small, large))
