"""kolla-images on real Kolla commits, from the history bundle next to
the repo (../shared/realworld/kolla, read in place: cloned to a
temporary folder, never copied into the project)."""

from nodepool_aarch64.kolla import affected
from tests import base

# "Add NVME CLI to Glance API container": one Dockerfile.j2 and a
# release note.
GLANCE_API_LEAF = '1636abcfe1f877e78ffe4207f95e84c46da7cdba'


class TestRealKolla(base.TestCase):

    def setUp(self):
        super().setUp()
        self.kolla = base.kolla_history(self)

    def test_a_leaf_change_builds_only_the_leaf(self):
        result = affected.affected(self.kolla, f'{GLANCE_API_LEAF}^',
                                   GLANCE_API_LEAF)
        self.assertEqual(('glance-api',), result.build)
        self.assertEqual({'glance-api': 'Dockerfile changed'}, result.why)
        self.assertIsNone(result.fallback)
        # Against the whole Debian aarch64 set of that revision.
        self.assertGreater(len(result.reuse), 150)
        self.assertIn('base', result.reuse)
