"""The machine-wide caches start from nothing.

On a fresh machine the cache directory does not exist yet, and with the
suite on two workers any test may be the first to use it.
"""

import os

import fixtures
import testtools

from tests.functional.harness import region_mirrors as rm


class TestFreshCache(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.cache = os.path.join(
            self.useFixture(fixtures.TempDir()).path, 'absent')
        self.useFixture(fixtures.MonkeyPatch(
            'tests.functional.harness.region_mirrors.CACHE_DIR', self.cache))

    def test_pip_wheel_is_fetched_into_a_missing_cache(self):
        wheel = rm.current_pip_wheel()
        self.assertEqual(os.path.join(self.cache, 'pip-wheel'),
                         os.path.dirname(wheel))
        self.assertTrue(os.path.basename(wheel).startswith('pip-'))
        self.assertTrue(wheel.endswith('.whl'))

    def test_a_lock_below_the_cache_makes_its_directories(self):
        with rm.cache_lock(os.path.join('uefi-images', '.lock')):
            self.assertTrue(os.path.isfile(
                os.path.join(self.cache, 'uefi-images', '.lock')))
