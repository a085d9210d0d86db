"""The error budget of a wait objective over a rolling window.

"gate p95 <= 10 min over 7 days" allows 5% of gate's node requests in
any 7 days to wait longer than 10 minutes: that 5% is the budget.  Each
request is judged once, as soon as its outcome is known: good when its
node came within the limit, bad when it came later or when it has waited
longer than the limit and is still waiting (so an outage counts while it
lasts, not when it ends).  Requests are counted in the hour they arrived.

``left`` is the share of the window's budget not yet spent (1: none
spent, 0: the objective is exactly met, below 0: missed).  ``burn`` is
how fast recent hours spend it: 1 spends exactly the budget over the
window, 2 twice as fast.
"""

from nodepool_aarch64.capacity.schedule import HOUR

WINDOW_HOURS = 7 * 24


class ErrorBudget:
    """Good and bad requests per hour for one ``plan.Objective``."""

    def __init__(self, objective, window_hours=WINDOW_HOURS):
        self.objective = objective
        self.limit = objective.minutes * 60.0
        self.allowed = 1.0 - objective.quantile / 100.0
        self.window_hours = window_hours
        self.total = {}
        self.bad = {}

    def judge(self, arrival, waited, now):
        """True (bad), False (good) or None (not known yet) for a
        request that arrived at ``arrival`` and got its node after
        ``waited`` seconds (None: still waiting at ``now``)."""
        if waited is not None:
            return waited > self.limit
        if now - arrival > self.limit:
            return True
        return None

    def record(self, arrival, bad):
        hour = int(arrival // HOUR)
        self.total[hour] = self.total.get(hour, 0) + 1
        if bad:
            self.bad[hour] = self.bad.get(hour, 0) + 1

    def _counts(self, now, hours):
        last = int(now // HOUR)
        total = bad = 0
        for hour in range(last - hours + 1, last + 1):
            total += self.total.get(hour, 0)
            bad += self.bad.get(hour, 0)
        return total, bad

    def left(self, now):
        total, bad = self._counts(now, self.window_hours)
        if not total:
            return 1.0
        if not self.allowed:
            return 0.0 if bad else 1.0
        return 1.0 - bad / (self.allowed * total)

    def burn(self, now, hours):
        """The rate the last ``hours`` hours spent the budget at."""
        total, bad = self._counts(now, hours)
        if not total or not bad:
            return 0.0
        if not self.allowed:
            return float('inf')
        return bad / total / self.allowed

    def bad_hours(self, now, hours):
        """Hours (since the origin) among the last ``hours`` with a bad
        request: the hours the budget burnt in."""
        last = int(now // HOUR)
        return [h for h in range(last - hours + 1, last + 1)
                if self.bad.get(h)]
