"""The one UTC time parser."""

import datetime

import testtools

from nodepool_aarch64 import timeutil


class TestParseUtc(testtools.TestCase):

    def test_forms_users_and_zuul_write(self):
        want = datetime.datetime(2026, 12, 1, 14, 0,
                                 tzinfo=datetime.timezone.utc)
        for text in ('2026-12-01T14:00Z', '2026-12-01 14:00:00',
                     '2026-12-01T15:00+01:00', '2026-12-01T14:00'):
            self.assertEqual(want, timeutil.parse_utc(text), text)

    def test_out_of_range_is_a_value_error_not_an_overflow(self):
        for text in ('9999-12-31T23:59-23:59', '0001-01-01T00:00+01:00',
                     '9999-12-31T00:00Z', '1000-01-01T00:00Z'):
            e = self.assertRaises(ValueError, timeutil.parse_utc, text)
            self.assertIn('out of range', str(e))

    def test_a_week_either_side_of_any_accepted_time_is_representable(self):
        week = datetime.timedelta(days=7)
        for text in ('1970-01-01T00:00Z', '9000-12-31T23:59Z'):
            at = timeutil.parse_utc(text)
            at + week, at - week

    def test_garbage(self):
        e = self.assertRaises(ValueError, timeutil.parse_utc, 'soon')
        self.assertIn('not an ISO 8601 time', str(e))
