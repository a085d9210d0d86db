"""Capacity over the hours of a week.

A ``Schedule`` says how many servers each provider may run at each moment
of a week (Monday 00:00 UTC is second 0).  The simulator, the planner and
the report only see this object, so they do not depend on how windows are
written in the inventory; ``from_windows`` is the one place that turns
inventory windows into a schedule.
"""

import datetime

from nodepool_aarch64 import timeutil

WEEK = 7 * 24 * 3600
HOUR = 3600
DAY = 24 * 3600


class Schedule:
    """Piecewise-constant max-servers per provider over one week.

    ``breaks`` are the start seconds of each segment (the first is 0) and
    ``caps[i]`` is a tuple of max-servers, one per provider, that holds
    from ``breaks[i]`` up to the next break (or the end of the week).
    """

    def __init__(self, providers, breaks, caps):
        if not breaks or breaks[0] != 0:
            raise ValueError('a schedule starts at second 0 of the week')
        if len(breaks) != len(caps):
            raise ValueError('one capacity tuple per segment')
        self.providers = tuple(providers)
        merged_breaks, merged_caps = [], []
        for start, cap in zip(breaks, caps):
            cap = tuple(int(c) for c in cap)
            if len(cap) != len(self.providers):
                raise ValueError('one max-servers value per provider')
            if merged_caps and merged_caps[-1] == cap:
                continue
            merged_breaks.append(int(start))
            merged_caps.append(cap)
        self.breaks = tuple(merged_breaks)
        self.caps = tuple(merged_caps)

    @classmethod
    def static(cls, caps):
        """The same max-servers all week: ``caps`` maps provider -> int."""
        providers = tuple(caps)
        return cls(providers, [0], [tuple(caps[p] for p in providers)])

    @classmethod
    def from_hourly(cls, providers, hourly):
        """``hourly`` is 168 tuples of max-servers, Monday 00:00 first."""
        if len(hourly) != 168:
            raise ValueError('an hourly schedule has 168 entries')
        return cls(providers, [h * HOUR for h in range(168)], hourly)

    def segments(self):
        """Yield (start, end, caps) for each segment of the week."""
        ends = self.breaks[1:] + (WEEK,)
        yield from zip(self.breaks, ends, self.caps)

    def at(self, second_of_week):
        """The caps tuple in force at a second of the week."""
        second_of_week %= WEEK
        caps = self.caps[0]
        for start, cap in zip(self.breaks, self.caps):
            if start > second_of_week:
                break
            caps = cap
        return caps

    def hourly_totals(self):
        """Mean total max-servers in each of the 168 hours of the week."""
        totals = [0.0] * 168
        for start, end, caps in self.segments():
            total = sum(caps)
            t = start
            while t < end:
                hour = t // HOUR
                upto = min(end, (hour + 1) * HOUR)
                totals[hour] += total * (upto - t) / HOUR
                t = upto
        return totals

    def node_hours(self):
        """Capacity held for a week: max-servers integrated over time."""
        return sum(sum(caps) * (end - start)
                   for start, end, caps in self.segments()) / HOUR

    def peak(self):
        return max(sum(caps) for caps in self.caps)

    def as_dict(self):
        return {
            'providers': list(self.providers),
            'segments': [
                {'start': _week_label(start), 'end': _week_label(end),
                 'max-servers': dict(zip(self.providers, caps))}
                for start, end, caps in self.segments()],
            'node-hours-per-week': round(self.node_hours(), 1),
        }


_DAYS = tuple(day.capitalize() for day in timeutil.WEEKDAYS)


def _week_label(second):
    if second >= WEEK:
        return 'Mon 00:00 (next week)'
    day, rest = divmod(second, DAY)
    return f'{_DAYS[day]} {rest // HOUR:02d}:{rest % HOUR // 60:02d}'


def week_start(moment):
    """Monday 00:00 UTC of the week holding a timezone-aware datetime."""
    moment = moment.astimezone(datetime.timezone.utc)
    monday = moment.date() - datetime.timedelta(days=moment.weekday())
    return datetime.datetime.combine(
        monday, datetime.time(0), tzinfo=datetime.timezone.utc)


def _seconds(t):
    return t.hour * HOUR + t.minute * 60 + t.second


def _window_intervals(window, week0):
    """Intervals [start, end) in seconds of the week when a window holds.

    A weekly window whose end is not after its start runs past midnight
    into the next day (and past Sunday into Monday 00:00).  One-off
    windows (``starts``/``ends``) are clipped to the week that begins at
    ``week0``; without ``week0`` they are left out, since a recurring
    week cannot hold them.
    """
    if window.starts is not None:
        if week0 is None:
            return []
        lo = max(0, int((window.starts - week0).total_seconds()))
        hi = min(WEEK, int((window.ends - week0).total_seconds()))
        return [(lo, hi)] if lo < hi else []
    start = _seconds(window.start)
    end = _seconds(window.end)
    length = end - start if end > start else end + DAY - start
    intervals = []
    for day in sorted(window.days):
        a = day * DAY + start
        b = a + length
        if b <= WEEK:
            intervals.append((a, b))
        else:
            intervals.append((a, WEEK))
            intervals.append((0, b - WEEK))
    return intervals


def from_windows(base, windows, week0=None, field='max_servers'):
    """Build a schedule from base values and capacity windows.

    ``base`` maps provider -> max-servers outside any window.  Each window
    sets max-servers for the providers it names while it holds; where
    windows overlap, the one listed later wins for the providers it names,
    as in the inventory model.  With ``field='min_ready'`` the keys are
    labels and the values min-ready.
    """
    providers = tuple(base)
    spans = []
    cuts = {0}
    for order, window in enumerate(windows):
        for a, b in _window_intervals(window, week0):
            spans.append((a, b, order, window))
            cuts.update((a, b))
    cuts = sorted(c for c in cuts if c < WEEK)
    caps = []
    for cut in cuts:
        current = dict(base)
        active = sorted(((order, w) for a, b, order, w in spans
                         if a <= cut < b), key=lambda item: item[0])
        for _, window in active:
            for provider, value in getattr(window, field).items():
                if provider in current:
                    current[provider] = value
        caps.append(tuple(current[p] for p in providers))
    return Schedule(providers, cuts, caps)


def base_caps(inv, full_quota=False):
    """Provider -> max-servers outside any window.

    With ``full_quota`` an explicit max-servers cap is ignored: the most
    the quota allows after reserved servers and headroom.
    """
    from nodepool_aarch64 import sizing
    caps = {}
    for provider in inv.providers:
        sized = sizing.allowed_servers(
            provider.quota, inv.flavors_for(provider), provider.reserved,
            headroom=inv.headroom,
            cap=None if full_quota else provider.max_servers)
        caps[provider.name] = sized.max_servers
    return caps


def from_inventory(inv, week0=None):
    """The schedule an inventory's windows give (one-off windows only
    when ``week0`` names the week)."""
    return from_windows(base_caps(inv), inv.windows, week0)


def min_ready_from_inventory(inv, week0=None):
    """Label -> min-ready over the week, windows applied."""
    base = {label.name: label.min_ready for label in inv.labels}
    return from_windows(base, inv.windows, week0, field='min_ready')
