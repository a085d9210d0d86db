"""Node demand: who asked for which label, when, and for how long.

Demand comes from Zuul's builds API (JSON as ``/api/tenant/T/builds``
serves it), from CSV, or from a synthetic week with a weekday peak.  It
is held column-wise (plain lists) because the simulator walks it hundreds
of thousands of times per second.
"""

import codecs
import csv
import datetime
import io
import math
import random

from nodepool_aarch64.capacity.schedule import HOUR, WEEK, week_start
from nodepool_aarch64.errors import InputError
from nodepool_aarch64.formats import zuulbuilds
from nodepool_aarch64.formats.readfile import read_bytes

UTC = datetime.timezone.utc


class Demand:
    """Node requests sorted by arrival.

    ``arrival`` is in seconds since ``origin`` (a Monday 00:00 UTC), so
    ``arrival % WEEK`` is the second of the week.  ``pipeline`` and
    ``label`` are indexes into ``pipelines`` and ``labels``; ``hold`` is
    how long the build keeps its node, in seconds.  ``waited`` is how
    long each request waited for its node where the history says so
    (builds and CSV do; None for synthetic demand), an optional fifth
    item of each record.
    """

    def __init__(self, origin, records):
        self.origin = origin
        records = sorted(records, key=lambda r: r[0])
        self.pipelines = sorted({r[1] for r in records})
        self.labels = sorted({r[2] for r in records})
        pidx = {p: i for i, p in enumerate(self.pipelines)}
        lidx = {label: i for i, label in enumerate(self.labels)}
        self.arrival = [float(r[0]) for r in records]
        self.pipeline = [pidx[r[1]] for r in records]
        self.label = [lidx[r[2]] for r in records]
        self.hold = [float(r[3]) for r in records]
        self.waited = [float(r[4]) if len(r) > 4 and r[4] is not None
                       else None for r in records]
        self.skipped = {}

    def __len__(self):
        return len(self.arrival)

    def records(self):
        for i in range(len(self)):
            yield (self.arrival[i], self.pipelines[self.pipeline[i]],
                   self.labels[self.label[i]], self.hold[i])

    def _waited_records(self):
        for record, waited in zip(self.records(), self.waited):
            yield record + (waited,)

    def weeks(self):
        if not self.arrival:
            return 0
        return max(1, math.ceil(self.arrival[-1] / WEEK))

    def hourly_node_demand(self):
        """Mean busy nodes per hour of the week if nobody ever waited."""
        busy = [0.0] * 168
        for start, hold in zip(self.arrival, self.hold):
            t, end = start, start + hold
            while t < end:
                hour_start = math.floor(t / HOUR) * HOUR
                upto = min(end, hour_start + HOUR)
                busy[int(t % WEEK) // HOUR] += (upto - t) / HOUR
                t = upto
        weeks = self.weeks() or 1
        return [b / weeks for b in busy]

    def node_hours(self):
        return sum(self.hold) / HOUR

    def week_slice(self, first, stop=None):
        """The requests that arrive in weeks [first, stop), as a Demand
        whose origin is the Monday of week ``first``."""
        lo = first * WEEK
        hi = math.inf if stop is None else stop * WEEK
        shift = datetime.timedelta(seconds=lo)
        part = Demand(self.origin + shift, [
            (a - lo, p, la, h, w) for a, p, la, h, w in
            self._waited_records() if lo <= a < hi])
        part.skipped = self.skipped
        return part

    def split(self, holdout):
        """(fitted, held out): the last ``holdout`` weeks held out."""
        weeks = self.weeks()
        if holdout <= 0:
            return self, None
        cut = weeks - holdout
        return self.week_slice(0, cut), self.week_slice(cut, weeks)

    def each_week(self):
        """One Demand per week of the span (weeks without requests too)."""
        return [self.week_slice(w, w + 1) for w in range(self.weeks())]


def combine(demands):
    """Several demands (files) as one, on a common origin."""
    demands = list(demands)
    if len(demands) == 1:
        return demands[0]
    rows = Rows()
    for d in demands:
        for arrival, pipeline, label, hold, waited in d._waited_records():
            rows.rows.append((d.origin + datetime.timedelta(
                seconds=arrival), pipeline, label, hold, waited))
        for reason, count in d.skipped.items():
            rows.skip(reason, count)
    return rows.demand()


# Byte-order marks, longest first: a UTF-32 mark begins with UTF-16's.
_BOMS = ((codecs.BOM_UTF32_LE, None), (codecs.BOM_UTF32_BE, None),
         (codecs.BOM_UTF8, 'utf-8-sig'), (codecs.BOM_UTF16_LE, 'utf-16'),
         (codecs.BOM_UTF16_BE, 'utf-16'))
_ENCODINGS = ('expected UTF-8 (with or without a byte-order mark) or '
              'UTF-16 with a byte-order mark')


def read_text(path):
    """The text of a demand file.

    Spreadsheets export CSV as UTF-8 with a byte-order mark or as UTF-16;
    both are accepted, as is plain UTF-8.  Anything else is refused in
    one line rather than read as garbage.
    """
    data = read_bytes(path, zuulbuilds.MAX_BYTES)
    encoding = 'utf-8'
    for bom, name in _BOMS:
        if data.startswith(bom):
            if name is None:
                raise InputError(path, None, '', f'UTF-32 text: '
                                 f'{_ENCODINGS}')
            encoding = name
            break
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as e:
        name = 'UTF-16' if encoding == 'utf-16' else 'UTF-8'
        raise InputError(path, None, '', f'not {name} text (byte '
                         f'{e.start}): {_ENCODINGS}')
    if '\x00' in text:
        raise InputError(path, None, '', f'NUL characters (UTF-16 without '
                         f'a byte-order mark?): {_ENCODINGS}')
    return text


class Rows:
    """Node requests as every reader and replay makes them: (arrival
    datetime, pipeline, label, hold seconds, waited seconds) rows, and
    how many builds were skipped for each reason.

    The one way builds become demand, with the one filter: Zuul builds
    and CSV for capacity, and readiness' replay of a promoted job.
    """

    def __init__(self):
        self.rows = []
        self.skipped = {}

    def __len__(self):
        return len(self.rows)

    def skip(self, reason, count=1):
        self.skipped[reason] = self.skipped.get(reason, 0) + count

    def add(self, arrival, start, end, pipeline, label, *scale):
        """A build that held a node from start to end (times each factor
        of ``scale``: a share of it, a ratio of run times), unless it
        cannot be demand (``_implausible``), which is counted as skipped.
        True when it was added."""
        odd = _implausible(arrival, start, end)
        if odd:
            self.skip(odd)
            return False
        hold = (end - start).total_seconds()
        for factor in scale:
            hold *= factor
        self.rows.append((arrival, pipeline, label, hold,
                          (start - arrival).total_seconds()))
        return True

    def demand(self):
        rows = self.rows
        if rows:
            origin = week_start(min(r[0] for r in rows))
        else:
            origin = week_start(datetime.datetime.now(UTC))
        demand = Demand(origin, [((r[0] - origin).total_seconds(),)
                                 + tuple(r[1:]) for r in rows])
        demand.skipped = self.skipped
        return demand


def _label_for(nodeset, labels):
    if labels is None:
        return nodeset
    return labels.get(nodeset)


# No node request waits, and no build holds its node, for days: Zuul's
# job timeouts are hours.  A record beyond this is damaged or forged, and
# simulating it would cost time in proportion to its length.
MAX_HOLD = datetime.timedelta(days=2)


def _implausible(arrival, start, end):
    """Why a build cannot be demand (counted as skipped), or None."""
    if end - start > MAX_HOLD:
        return f'held a node over {MAX_HOLD.days} days'
    if start - arrival > MAX_HOLD:
        return f'waited over {MAX_HOLD.days} days'
    return None


def from_zuul_builds(path, labels=None, text=None, shares=None):
    """Read Zuul builds API JSON (a list of build objects).

    The node request is taken to arrive at the buildset's
    ``event_timestamp`` (the enqueue event) where present, else at the
    build's start; the node is held from start to end.  ``labels`` maps
    nodeset names to labels (nodesets not in it are counted in
    ``skipped`` and left out); None keeps every nodeset as its own label.
    Builds that never ran (no start or end time) are skipped too.
    ``shares`` maps job names to the share of their node time they would
    hold (a Kolla build job building only the images a change affects).
    """
    shares = shares or {}
    if text is None:
        # Any encoding a demand file may come in; the document itself is
        # checked by the one reader of the builds API.
        text = read_text(path)
    builds = zuulbuilds.check_list(text, path)
    rows = Rows()
    for n, build in enumerate(builds):
        key = f'[{n}]'
        job, nodeset, pipeline = zuulbuilds.request_fields(build, path, key)
        if not zuulbuilds.ran(build):
            rows.skip('not run')
            continue
        label = _label_for(nodeset or '', labels)
        if not label:
            rows.skip(nodeset or '(no nodeset)')
            continue
        arrival, start, end = zuulbuilds.request_times(build, path, key)
        rows.add(arrival, start, end, pipeline or 'unknown', label,
                 shares.get(job, 1.0))
    return rows.demand()


def from_csv(path, labels=None):
    """Read CSV with a header row.

    Required columns: pipeline, label (or nodeset), start_time, end_time;
    optional: enqueue_time (the node request's arrival; defaults to
    start_time).  Times are ISO 8601, UTC when no offset is given.
    """
    text = read_text(path)
    rows = Rows()
    with io.StringIO(text, newline='') as f:
        # strict: an unterminated quote is an error, not a field that
        # swallows the rest of the file.
        reader = csv.DictReader(f, strict=True)
        try:
            # Reading the header parses CSV too: a bad quote there is
            # the same one-line error as in any row.
            label_column = _label_column(path, reader.fieldnames or [])
            for row in reader:
                _csv_row(rows, path, reader.line_num, row, label_column,
                         labels)
        except csv.Error as e:
            # The csv module's own count: DictReader's lags a row behind
            # (and is 0 in the header) when a row fails to parse.
            raise InputError(path, reader.reader.line_num, '',
                             f'invalid CSV: {e}')
    return rows.demand()


def _label_column(path, header):
    label_column = 'nodeset' if 'nodeset' in header and \
        'label' not in header else 'label'
    for column in ('pipeline', label_column, 'start_time', 'end_time'):
        if column not in header:
            raise InputError(path, 1, column,
                             'missing column; expected pipeline, label '
                             '(or nodeset), start_time, end_time')
    return label_column


def _csv_row(rows, path, line, row, label_column, labels):
    label = _label_for(row[label_column] or '', labels)
    if not label:
        rows.skip(row[label_column] or '(no label)')
        return
    start = zuulbuilds.parse_time(row['start_time'], path, line,
                                  'start_time')
    end = zuulbuilds.parse_time(row['end_time'], path, line, 'end_time')
    if end < start:
        raise InputError(path, line, 'end_time',
                         'expected a time after start_time')
    enqueued = None
    if row.get('enqueue_time'):
        enqueued = zuulbuilds.parse_time(row['enqueue_time'], path, line,
                                         'enqueue_time')
    rows.add(zuulbuilds.arrival(start, enqueued), start, end,
             row['pipeline'] or 'unknown', label)


# The weekly shape of CI demand: busy on weekday working hours across
# Europe and the Americas, quiet at night and at weekends.  Values are
# relative arrival rates per hour of the day (UTC).
WEEKDAY_SHAPE = (0.3, 0.25, 0.2, 0.2, 0.25, 0.35, 0.6, 0.9, 1.2, 1.5, 1.7,
                 1.8, 1.9, 2.0, 2.1, 2.1, 2.0, 1.8, 1.5, 1.2, 0.9, 0.7, 0.5,
                 0.4)
WEEKEND_FACTOR = 0.25

DEFAULT_MIX = {'gate': 0.25, 'check': 0.45, 'check-arm64': 0.2,
               'experimental': 0.1}


def hourly_shape():
    """Relative arrival rate for each of the 168 hours of the week."""
    shape = []
    for day in range(7):
        factor = 1.0 if day < 5 else WEEKEND_FACTOR
        shape.extend(v * factor for v in WEEKDAY_SHAPE)
    mean = sum(shape) / len(shape)
    return [v / mean for v in shape]


# Kolla image builds on the large labels hold a node for about 3 hours;
# unit and functional jobs on the other labels about an hour.
LARGE_SHARE = 0.25
LARGE_HOLD = 3 * 3600.0
NORMAL_HOLD = 3600.0


def shifted_shape(hours):
    """``hourly_shape`` with every peak ``hours`` later."""
    shape = hourly_shape()
    return shape[-hours:] + shape[:-hours] if hours % 168 else shape


def label_mix(inv):
    """Label -> (share, mean hold) for an inventory's labels.

    Labels on the largest flavor are taken to be the long Kolla builds.
    """
    biggest = max(inv.flavors[label.flavor].ram for label in inv.labels)
    large = [label.name for label in inv.labels
             if inv.flavors[label.flavor].ram == biggest]
    normal = [label.name for label in inv.labels if label.name not in large]
    if not normal or not large:
        return {label.name: (1.0, NORMAL_HOLD) for label in inv.labels}
    mix = {name: ((1 - LARGE_SHARE) / len(normal), NORMAL_HOLD)
           for name in normal}
    mix.update({name: (LARGE_SHARE / len(large), LARGE_HOLD)
                for name in large})
    return mix


def synthetic(requests_per_week, labels, weeks=1, mix=None,
              mean_hold=3600.0, hold_sd=0.6, seed=0,
              origin=datetime.datetime(2026, 1, 5, tzinfo=UTC),
              week_factors=None, shape=None):
    """A reproducible demand with a weekly peak.

    Arrivals are a Poisson process whose rate follows ``shape`` (168
    relative rates, Monday 00:00 UTC first; default ``hourly_shape``),
    scaled in week w by ``week_factors[w]`` (default 1: every week alike);
    the pipeline is drawn from ``mix`` (name -> share) and the label from
    ``labels`` (name -> share or name -> (share, mean hold seconds)); hold
    times are log-normal with that mean and log-sd ``hold_sd``.
    """
    rng = random.Random(seed)
    mix = mix or DEFAULT_MIX
    pipelines, pweights = zip(*mix.items())
    names, lweights, holds = [], [], []
    for name, spec in labels.items():
        share, hold = spec if isinstance(spec, tuple) else (spec, mean_hold)
        names.append(name)
        lweights.append(share)
        holds.append(hold)
    shape = hourly_shape() if shape is None else list(shape)
    if len(shape) != 168:
        raise ValueError('one rate per hour of the week')
    rows = []
    sigma = hold_sd
    factors = list(week_factors or [1.0] * weeks)
    if len(factors) != weeks:
        raise ValueError('one factor per week')
    for week in range(weeks):
        for hour, rel in enumerate(shape):
            rate = requests_per_week * factors[week] / 168.0 * rel / HOUR
            t = 0.0
            while True:
                t += rng.expovariate(rate) if rate > 0 else HOUR
                if t >= HOUR:
                    break
                li = rng.choices(range(len(names)), lweights)[0]
                mu = math.log(holds[li]) - sigma * sigma / 2
                rows.append((week * WEEK + hour * HOUR + t,
                             rng.choices(pipelines, pweights)[0],
                             names[li], rng.lognormvariate(mu, sigma)))
    return Demand(origin, rows)
