"""Capacity over the hours of a week.

A ``Schedule`` says how many servers each provider may run at each moment
of a week (Monday 00:00 UTC is second 0), and a ``MinReadySchedule`` how
many idle ready nodes each label keeps.  The simulator, the planner and
the report only see these objects, so they do not depend on how windows
are written in the inventory; ``from_windows`` turns inventory windows
into a schedule, asking the model when each window holds and which one
wins.
"""

from nodepool_aarch64 import model
from nodepool_aarch64 import sizing
from nodepool_aarch64 import timeutil
from nodepool_aarch64.timeutil import DAY, HOUR, WEEK, week_start  # noqa

_DAYS = tuple(day.capitalize() for day in timeutil.WEEKDAYS)


class WeeklyValues:
    """Piecewise-constant whole numbers per name over one week.

    ``breaks`` are the start seconds of each segment (the first is 0) and
    ``values[i]`` is a tuple, one number per name in ``names``, that
    holds from ``breaks[i]`` up to the next break (or the end of the
    week).  Equal neighbouring segments are merged.
    """

    def __init__(self, names, breaks, values):
        if not breaks or breaks[0] != 0:
            raise ValueError('a schedule starts at second 0 of the week')
        if len(breaks) != len(values):
            raise ValueError('one capacity tuple per segment')
        self.names = tuple(names)
        merged_breaks, merged_values = [], []
        for start, row in zip(breaks, values):
            row = tuple(int(c) for c in row)
            if len(row) != len(self.names):
                raise ValueError('one value per name in each segment')
            if merged_values and merged_values[-1] == row:
                continue
            merged_breaks.append(int(start))
            merged_values.append(row)
        self.breaks = tuple(merged_breaks)
        self.values = tuple(merged_values)

    @classmethod
    def static(cls, values):
        """The same numbers all week: ``values`` maps name -> int."""
        names = tuple(values)
        return cls(names, [0], [tuple(values[n] for n in names)])

    @classmethod
    def from_hourly(cls, names, hourly):
        """``hourly`` is 168 tuples, Monday 00:00 first."""
        if len(hourly) != 168:
            raise ValueError('an hourly schedule has 168 entries')
        return cls(names, [h * HOUR for h in range(168)], hourly)

    def segments(self):
        """Yield (start, end, values) for each segment of the week."""
        ends = self.breaks[1:] + (WEEK,)
        yield from zip(self.breaks, ends, self.values)

    def at(self, second_of_week):
        """The values tuple in force at a second of the week."""
        second_of_week %= WEEK
        values = self.values[0]
        for start, row in zip(self.breaks, self.values):
            if start > second_of_week:
                break
            values = row
        return values

    def hourly_totals(self):
        """Mean total in each of the 168 hours of the week."""
        totals = [0.0] * 168
        for start, end, values in self.segments():
            total = sum(values)
            t = start
            while t < end:
                hour = t // HOUR
                upto = min(end, (hour + 1) * HOUR)
                totals[hour] += total * (upto - t) / HOUR
                t = upto
        return totals

    def node_hours(self):
        """Nodes held for a week: the totals integrated over time."""
        return sum(sum(values) * (end - start)
                   for start, end, values in self.segments()) / HOUR

    def peak(self):
        return max(sum(values) for values in self.values)

    def as_dict(self):
        return {
            'providers': list(self.names),
            'segments': [
                {'start': _week_label(start), 'end': _week_label(end),
                 'max-servers': dict(zip(self.names, values))}
                for start, end, values in self.segments()],
            'node-hours-per-week': round(self.node_hours(), 1),
        }


class Schedule(WeeklyValues):
    """Max-servers per provider over one week."""

    @property
    def providers(self):
        return self.names

    @property
    def caps(self):
        return self.values


class MinReadySchedule(WeeklyValues):
    """Min-ready (idle ready nodes kept) per label over one week.

    ``as_dict`` keeps the keys max-servers schedules use ("providers",
    "max-servers"): ``capacity plan --format json`` has printed min-ready
    that way from the start, and readers of it rely on the shape.
    """

    @property
    def labels(self):
        return self.names


def _week_label(second):
    if second >= WEEK:
        return 'Mon 00:00 (next week)'
    day, rest = divmod(second, DAY)
    return f'{_DAYS[day]} {rest // HOUR:02d}:{rest % HOUR // 60:02d}'


def from_windows(base, windows, week0=None, field='max_servers'):
    """Build a schedule from base values and capacity windows.

    ``base`` maps provider -> max-servers outside any window (with
    ``field='min_ready'``: label -> min-ready, giving a
    MinReadySchedule).  When each window holds is the model's
    ``Window.intervals`` (one-off windows only in the week that begins at
    ``week0``), and which wins where they overlap its ``in_force``.
    """
    names = tuple(base)
    spans = []
    cuts = {0}
    for window in windows:
        for a, b in window.intervals(week0):
            # Schedules change on whole seconds.
            a, b = int(a), int(b)
            if a < b:
                spans.append((a, b, window))
                cuts.update((a, b))
    cuts = sorted(c for c in cuts if c < WEEK)
    rows = []
    for cut in cuts:
        # Spans are in window order, so later windows win.
        active = [w for a, b, w in spans if a <= cut < b]
        current = model.in_force(base, active, field)
        rows.append(tuple(current[n] for n in names))
    cls = MinReadySchedule if field == 'min_ready' else Schedule
    return cls(names, cuts, rows)


def from_inventory(inv, week0=None):
    """The schedule an inventory's windows give (one-off windows only
    when ``week0`` names the week)."""
    return from_windows(sizing.max_servers(inv), inv.windows, week0)


def min_ready_from_inventory(inv, week0=None):
    """Label -> min-ready over the week, windows applied."""
    base = {label.name: label.min_ready for label in inv.labels}
    return from_windows(base, inv.windows, week0, field='min_ready')
