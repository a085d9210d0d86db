"""The capacity controller's parts: forecast, error budget and guards."""

import testtools

from nodepool_aarch64.capacity import budget as bg
from nodepool_aarch64.capacity import control
from nodepool_aarch64.capacity import forecast as fc
from nodepool_aarch64.capacity import plan as pl
from nodepool_aarch64.capacity.schedule import HOUR

WEEK_HOURS = 168


def history_of(series, labels=('a',)):
    """A History whose hour h had ``series[h]`` busy nodes and as many
    arrivals, all of the first label."""
    history = fc.History(labels)
    for hour, value in enumerate(series):
        history._grow(hour)
        history.load[hour][0] = float(value)
        history.arrivals[hour][0] = float(value)
    return history


def pattern(hour):
    # Busy in the day, quiet at night, a different value every hour.
    return 2 + (hour % 24) if 8 <= hour % 24 < 20 else 1


class TestForecast(testtools.TestCase):

    def test_a_repeating_week_is_forecast_exactly(self):
        history = history_of([pattern(h) for h in range(2 * WEEK_HOURS)])
        p = fc.Forecast(weeks=2).predict(history, 2 * WEEK_HOURS)
        self.assertEqual(48, len(p.load))
        self.assertEqual([pattern(h) for h in range(48)],
                         [round(v, 6) for v in p.total_load()])
        self.assertEqual([1.0], p.level)

    def test_weeks_beyond_the_fit_are_forgotten(self):
        # Week 1 quiet, weeks 2 and 3 twice as busy: a two-week fit
        # sees only the busy weeks.
        series = [1.0] * WEEK_HOURS + [2.0] * (2 * WEEK_HOURS)
        p = fc.Forecast(weeks=2, level_bounds=(1, 1)).predict(
            history_of(series), 3 * WEEK_HOURS)
        self.assertEqual([2.0] * 48, [round(v, 6) for v in p.total_load()])
        p = fc.Forecast(weeks=3, decay=1.0, level_bounds=(1, 1)).predict(
            history_of(series), 3 * WEEK_HOURS)
        self.assertAlmostEqual(5 / 3, p.total_load()[0])

    def test_older_weeks_weigh_less(self):
        series = [4.0] * WEEK_HOURS + [10.0] * WEEK_HOURS
        p = fc.Forecast(weeks=2, decay=0.5, level_bounds=(1, 1)).predict(
            history_of(series), 2 * WEEK_HOURS)
        # (10 + 0.5 * 4) / 1.5
        self.assertAlmostEqual(8.0, p.total_load()[0])

    def test_less_than_a_week_uses_the_days_before(self):
        series = [pattern(h) for h in range(48)]
        p = fc.Forecast(weeks=2, level_bounds=(1, 1)).predict(
            history_of(series), 48)
        self.assertEqual([pattern(h) for h in range(48, 72)],
                         [round(v, 6) for v in p.total_load()[:24]])

    def test_no_history_forecasts_nothing(self):
        p = fc.Forecast().predict(fc.History(['a']), 0)
        self.assertEqual([0.0] * 48, p.total_load())

    def test_it_sees_only_hours_before_now(self):
        series = [pattern(h) for h in range(2 * WEEK_HOURS)]
        now = WEEK_HOURS + 30
        before = fc.Forecast().predict(history_of(series), now)
        series[now:] = [1000.0] * (len(series) - now)
        after = fc.Forecast().predict(history_of(series), now)
        self.assertEqual(before.total_load(), after.total_load())

    def test_a_busier_last_day_scales_the_forecast(self):
        # A new project doubles arrivals in the last day: the level
        # moves towards 2 (shrunk by the prior) and scales the load.
        series = [5.0] * (2 * WEEK_HOURS)
        history = history_of(series)
        for hour in range(2 * WEEK_HOURS - 24, 2 * WEEK_HOURS):
            history.arrivals[hour][0] = 10.0
        f = fc.Forecast(weeks=1, level_prior=0.0)
        p = f.predict(history, 2 * WEEK_HOURS)
        self.assertAlmostEqual(2.0, p.level[0])
        self.assertAlmostEqual(10.0, p.total_load()[0])
        # The bounds keep one odd day from running away with it.
        for hour in range(2 * WEEK_HOURS - 24, 2 * WEEK_HOURS):
            history.arrivals[hour][0] = 500.0
        p = f.predict(history, 2 * WEEK_HOURS)
        self.assertEqual(f.level_bounds[1], p.level[0])

    def test_held_spreads_node_time_over_hours(self):
        history = fc.History(['a', 'b'])
        history.held(0.5 * HOUR, 2 * HOUR, 'b')
        self.assertEqual([[0, 0.5], [0, 1.0], [0, 0.5]],
                         [row for row in history.load[:3]])


class TestErrorBudget(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.budget = bg.ErrorBudget(pl.parse_objective('gate:p95:10'))

    def fill(self, total, bad, hour=0):
        for n in range(total):
            self.budget.record(hour * HOUR + n, n < bad)

    def test_five_percent_late_spends_the_whole_budget(self):
        self.fill(100, 5)
        self.assertAlmostEqual(0.0, self.budget.left(HOUR))

    def test_budget_left_and_missed(self):
        self.fill(100, 4)
        self.assertAlmostEqual(0.2, self.budget.left(HOUR))
        self.fill(100, 16, hour=1)
        # 20 late of 200 allowed 10: missed by its whole budget again.
        self.assertAlmostEqual(-1.0, self.budget.left(2 * HOUR))

    def test_nothing_asked_leaves_the_budget_whole(self):
        self.assertEqual(1.0, self.budget.left(0))
        self.assertEqual(0.0, self.budget.burn(0, 3))

    def test_judging_a_request(self):
        judge = self.budget.judge
        self.assertIs(False, judge(0, 599, 600))
        self.assertIs(True, judge(0, 601, 700))
        # Still waiting: not known within the limit, bad beyond it.
        self.assertIsNone(judge(0, None, 599))
        self.assertIs(True, judge(0, None, 601))

    def test_the_window_rolls(self):
        self.fill(100, 50, hour=0)
        self.fill(100, 0, hour=100)
        self.assertLess(self.budget.left(100 * HOUR), 1.0)
        # Eight days on, hour 0 is out of the 7-day window.
        self.assertEqual(1.0, self.budget.left(8 * 24 * HOUR))

    def test_burn_rate_of_recent_hours(self):
        self.fill(100, 0, hour=0)
        self.fill(50, 5, hour=9)
        # 10% late against 5% allowed, in the last 3 hours.
        self.assertAlmostEqual(2.0, self.budget.burn(9 * HOUR + 1, 3))
        self.assertEqual([9], self.budget.bad_hours(9 * HOUR + 1, 3))
        self.assertEqual(0.0, self.budget.burn(13 * HOUR, 3))


QUOTAS = {'big': 40, 'small': 8}
LABELS = {'normal': ('big', 'small'), 'large': ('big',)}


def busy(load, hours=2 * WEEK_HOURS, label='normal'):
    """A history with ``load`` busy nodes (and arrivals) every hour."""
    history = fc.History(sorted(LABELS))
    li = history.index[label]
    for hour in range(hours):
        history._grow(hour)
        history.load[hour][li] = float(load)
        history.arrivals[hour][li] = float(load)
    return history


def controller(**guards):
    policy = control.Policy(warm=0.0)
    return control.Controller(LABELS, control.Guards(QUOTAS, **guards),
                              policy)


def state(big, small, since=None):
    return control.State({'big': big, 'small': small},
                         {'large': 0, 'normal': 0}, since)


class TestGuards(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.budget = bg.ErrorBudget(pl.parse_objective('gate:p95:10'))
        self.now = 2 * WEEK_HOURS * HOUR

    def test_largest_step(self):
        d = controller(max_step=5).step(busy(30), self.budget, state(2, 1),
                                        self.now)
        self.assertTrue(d.act)
        self.assertEqual({'big': 7, 'small': 6}, d.target.max_servers)

    def test_never_above_quota(self):
        d = controller(max_step=1000).step(busy(500), self.budget,
                                           state(0, 0), self.now)
        self.assertEqual(QUOTAS, d.target.max_servers)

    def test_shortest_time_between_actions(self):
        c = controller(max_step=50, min_interval=3600)
        d = c.step(busy(30), self.budget, state(2, 1, self.now - 600),
                   self.now)
        self.assertFalse(d.act)
        self.assertIn('10 min ago', d.reason)
        d = c.step(busy(30), self.budget, state(2, 1, self.now - 3600),
                   self.now)
        self.assertTrue(d.act)

    def test_constrained_labels_go_to_their_providers(self):
        d = controller(max_step=100).step(busy(16, label='large'),
                                          self.budget, state(0, 0),
                                          self.now)
        # 16 + sqrt(16) with z = 1, all on the one provider of -large.
        self.assertEqual({'big': 20, 'small': 0}, d.target.max_servers)

    def test_it_raises_ahead_of_a_peak_the_step_limit_would_miss(self):
        history = busy(2)
        # Three hours from now the load jumps to 30.
        for hour in range(2 * WEEK_HOURS - WEEK_HOURS + 3,
                          2 * WEEK_HOURS - WEEK_HOURS + 10):
            history.load[hour][history.index['normal']] = 30.0
            history.load[hour - WEEK_HOURS][history.index['normal']] = 30.0
        d = controller(max_step=5).step(history, self.budget, state(3, 1),
                                        self.now)
        flat = controller(max_step=5).step(busy(2), self.budget,
                                           state(3, 1), self.now)
        self.assertGreater(sum(d.target.max_servers.values()),
                           sum(flat.target.max_servers.values()))

    def test_no_action_without_a_day_of_history(self):
        d = controller().step(busy(10, hours=20), self.budget, state(0, 0),
                              20 * HOUR)
        self.assertFalse(d.act)
        self.assertIn('learning', d.reason)

    def test_small_cuts_wait(self):
        c = controller(max_step=100)
        target = c.step(busy(10), self.budget, state(0, 0), self.now).target
        big = target.max_servers['big']
        small = target.max_servers['small']
        d = c.step(busy(10), self.budget, state(big + 1, small), self.now)
        self.assertFalse(d.act)
        d = c.step(busy(10), self.budget, state(big + 5, small), self.now)
        self.assertTrue(d.act)
        self.assertIn('lower', d.reason)

    def test_burning_hours_get_more_and_then_decay(self):
        c = controller(max_step=100)
        quiet = c.step(busy(10), self.budget, state(0, 0), self.now)
        # The last two hours were late for a fifth of gate's requests.
        for hour in (-2, -1):
            for n in range(10):
                self.budget.record(self.now + hour * HOUR + n, n < 2)
        c = controller(max_step=100)
        burning = c.step(busy(10), self.budget, state(0, 0), self.now)
        self.assertGreater(burning.burn, 1.0)
        self.assertGreater(sum(burning.target.max_servers.values()),
                           sum(quiet.target.max_servers.values()))
        self.assertIn('burning', burning.reason)
        raised = max(c.boost)
        self.assertEqual(1.25, raised)
        # Days later without a late request, the factor has decayed.
        first = int(self.now // HOUR) + 1
        for hour in range(first, first + 24):
            c.feedback(self.budget, hour * HOUR)
        self.assertLess(max(c.boost), raised)
        for hour in range(first + 24, first + 24 * 7):
            c.feedback(self.budget, hour * HOUR)
        self.assertLess(max(c.boost), 1.1)

    def test_allocate_shares_by_room_left(self):
        out = control.allocate([(('big',), 30), (('big', 'small'), 20)],
                               QUOTAS)
        self.assertEqual({'big': 40, 'small': 8}, out)
        out = control.allocate([(('big', 'small'), 12)], QUOTAS)
        self.assertEqual({'big': 10, 'small': 2}, out)
