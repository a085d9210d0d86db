"""The Zuul parser helper says what to install when bwrap is missing."""

import fixtures
import testtools

from tests import zuulparse


class TestMissingBwrap(testtools.TestCase):

    def test_one_line_naming_the_package(self):
        self.useFixture(fixtures.MonkeyPatch('shutil.which',
                                             lambda name: None))
        e = self.assertRaises(zuulparse.MissingBwrap,
                              zuulparse.connection_registry)
        self.assertEqual(1, len(str(e).splitlines()))
        self.assertIn('bubblewrap', str(e))
