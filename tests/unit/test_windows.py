"""The shared window instants are where their names say."""

import testtools

from nodepool_aarch64 import timeutil
from nodepool_aarch64.inventory import load_inventory
from tests import windows


class TestWindowInstants(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.inv = load_inventory()

    def active(self, text):
        return [w.name for w in
                self.inv.active_windows(timeutil.parse_utc(text))]

    def test_each_instant_is_in_its_window(self):
        self.assertEqual([], self.active(windows.QUIET))
        self.assertEqual(['weekday-peak'], self.active(windows.PEAK))
        self.assertEqual(['linaro-cn1-maintenance'],
                         self.active(windows.MAINTENANCE))

    def test_the_maintenance_week_starts_on_its_monday(self):
        self.assertEqual(
            windows.MAINTENANCE_WEEK,
            timeutil.week_start(timeutil.parse_utc(windows.MAINTENANCE)))
