"""kolla-images on real Kolla commits, from the history bundle next to
the repo (../shared/realworld/kolla, read in place: cloned to a
temporary folder, never copied into the project)."""

import os
import subprocess

import fixtures

from nodepool_aarch64.kolla import affected
from tests import base

BUNDLE = os.path.join(base.REALWORLD, 'kolla', 'kolla-2026-04-01.bundle')

# "Add NVME CLI to Glance API container": one Dockerfile.j2 and a
# release note.
GLANCE_API_LEAF = '1636abcfe1f877e78ffe4207f95e84c46da7cdba'


class TestRealKolla(base.TestCase):

    def setUp(self):
        super().setUp()
        base.require_realworld(self, BUNDLE)
        self.kolla = os.path.join(self.tempdir(), 'kolla')
        subprocess.run(['git', 'clone', '-q', '--no-checkout', BUNDLE,
                        self.kolla], check=True)
        self.useFixture(fixtures.EnvironmentVariable('GIT_DIR'))

    def test_a_leaf_change_builds_only_the_leaf(self):
        result = affected.affected(self.kolla, f'{GLANCE_API_LEAF}^',
                                   GLANCE_API_LEAF)
        self.assertEqual(('glance-api',), result.build)
        self.assertEqual({'glance-api': 'Dockerfile changed'}, result.why)
        self.assertIsNone(result.fallback)
        # Against the whole Debian aarch64 set of that revision.
        self.assertGreater(len(result.reuse), 150)
        self.assertIn('base', result.reuse)
