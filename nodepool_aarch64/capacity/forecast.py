"""Node demand for the next hours, from the weeks just past.

``History`` keeps, for every hour since the demand's origin (a Monday
00:00 UTC), the requests that arrived and the node-hours they held per
label, as far as they are known at the moment of asking: a build still
running adds its node time when it ends.

``Forecast`` is a rolling seasonal fit.  An hour ahead is forecast as the
weighted mean of the same hour of the week in the last ``weeks`` weeks
(each older week weighing ``decay`` times the next newer one), so a
change in demand is fully learnt after ``weeks`` weeks and mostly after
one.  Until a week of history exists the same hour of the days before
stands in.  A level per label then scales the seasonal values by how
much more (or less) arrived in the last ``level_hours`` hours than the
same rule forecast for them: arrivals are known at once, node time only
when builds end, so the level reacts within the day to a project that
starts sending jobs.
"""

import dataclasses

from nodepool_aarch64.capacity.schedule import HOUR

HORIZON = 48
WEEK_HOURS = 168


class History:
    """Hourly arrivals and node-hours per label, hour 0 at the origin."""

    def __init__(self, labels):
        self.labels = tuple(labels)
        self.index = {name: i for i, name in enumerate(self.labels)}
        self.arrivals = []
        self.load = []

    def _grow(self, hour):
        width = len(self.labels)
        while len(self.arrivals) <= hour:
            self.arrivals.append([0.0] * width)
            self.load.append([0.0] * width)

    def arrive(self, second, label):
        hour = int(second // HOUR)
        self._grow(hour)
        self.arrivals[hour][self.index[label]] += 1

    def held(self, start, seconds, label):
        """A node of ``label`` held for ``seconds`` from ``start`` (the
        request's arrival: the load as if nobody had waited)."""
        li = self.index[label]
        t, end = start, start + seconds
        self._grow(int(end // HOUR))
        while t < end:
            hour = int(t // HOUR)
            upto = min(end, (hour + 1) * HOUR)
            self.load[hour][li] += (upto - t) / HOUR
            t = upto


@dataclasses.dataclass(frozen=True)
class Prediction:
    """``load[h][i]``: busy nodes of label i in hour ``first + h``;
    ``arrivals[h][i]``: its requests; ``level[i]``: the recent scale."""

    first: int
    labels: tuple
    load: list
    arrivals: list
    level: list

    def total_load(self):
        return [sum(row) for row in self.load]


class Forecast:
    """A rolling seasonal fit of the last ``weeks`` weeks."""

    def __init__(self, weeks=2, decay=0.5, level_hours=24,
                 level_bounds=(0.75, 2.5), level_prior=4.0):
        if weeks < 1:
            raise ValueError('fit at least one week')
        self.weeks = weeks
        self.decay = decay
        self.level_hours = level_hours
        self.level_bounds = level_bounds
        # Pseudo-arrivals added to both sides of the level's ratio, so
        # a label with a handful of requests a day is not scaled by noise.
        self.level_prior = level_prior

    def _sources(self, hour, now):
        """(past hour, weight) pairs standing for ``hour``."""
        found = [(hour - w * WEEK_HOURS, self.decay ** (w - 1))
                 for w in range(1, self.weeks + 1)
                 if 0 <= hour - w * WEEK_HOURS < now]
        if found:
            return found
        # Less than a week of history: the same hour on earlier days.
        return [(hour - d * 24, self.decay ** (d - 1)) for d in range(1, 8)
                if 0 <= hour - d * 24 < now]

    def seasonal(self, series, hour, now, width):
        sources = self._sources(hour, now)
        out = [0.0] * width
        weight = sum(w for _, w in sources)
        for past, w in sources:
            if past < len(series):
                row = series[past]
                for i in range(width):
                    out[i] += row[i] * w
        return [v / weight for v in out] if weight else out

    def levels(self, history, now):
        width = len(history.labels)
        seen = [0.0] * width
        expected = [0.0] * width
        for hour in range(max(0, now - self.level_hours), now):
            if hour < len(history.arrivals):
                for i, v in enumerate(history.arrivals[hour]):
                    seen[i] += v
            for i, v in enumerate(self.seasonal(history.arrivals, hour,
                                                hour, width)):
                expected[i] += v
        low, high = self.level_bounds
        prior = self.level_prior
        return [min(high, max(low, (s + prior) / (e + prior)))
                for s, e in zip(seen, expected)]

    def predict(self, history, now, horizon=HORIZON):
        """The ``horizon`` hours from hour ``now`` on, seeing only the
        hours before it."""
        width = len(history.labels)
        level = self.levels(history, now)
        load, arrivals = [], []
        for hour in range(now, now + horizon):
            load.append([v * s for v, s in zip(
                self.seasonal(history.load, hour, now, width), level)])
            arrivals.append([v * s for v, s in zip(
                self.seasonal(history.arrivals, hour, now, width), level)])
        return Prediction(now, history.labels, load, arrivals, level)
