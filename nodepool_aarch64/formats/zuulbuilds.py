"""Zuul's builds API: the one reader of its JSON.

``/api/tenant/T/builds`` returns a list of build objects (zuul-web's
BuildConverter); saved copies of it and live pages are read here, and
every command that needs builds (capacity demand, readiness) takes them
from this module.

``check_list`` only checks that a document is a list of objects;
``request_fields``, ``ran`` and ``request_times`` read what capacity
demand needs of each object; ``parse`` checks every field readiness
uses and returns ``Build`` records with times parsed.  Either way a
build's node request arrives at the same moment (``arrival``).
"""

import dataclasses
import datetime
import json

from nodepool_aarch64 import timeutil
from nodepool_aarch64.errors import InputError
from nodepool_aarch64.formats import readfile


# A year of builds of a busy tenant is a few hundred MB of JSON; a file
# larger than this is a mistake (or hostile), not history.
MAX_BYTES = 512 * 1024 * 1024

# Results Zuul 14 records for a build (zuul.model, zuul.scheduler,
# zuul.executor); tests/unit/test_zuulbuilds.py fails when the pinned
# Zuul records one that is missing here.
PASSED = frozenset({'SUCCESS'})
# The job itself failed: what a developer must look at.
JOB_FAILURES = frozenset({'FAILURE', 'SECRET_EXPOSURE'})
# The node, the cloud or the executor failed: nothing the change did.
INFRA_FAILURES = frozenset({
    'NODE_FAILURE', 'RETRY_LIMIT', 'TIMED_OUT', 'POST_FAILURE',
    'DISK_FULL', 'ERROR', 'LOST', 'EXCEPTION', 'SNAPSHOT_FAILURE',
    'RETRY'})
# Never ran to a verdict: not a run of the job.
NOT_RUN = frozenset({
    'SKIPPED', 'ABORTED', 'CANCELED', 'DEQUEUED', 'MERGE_CONFLICT',
    'MERGE_FAILURE', 'CONFIG_ERROR'})
RESULTS = PASSED | JOB_FAILURES | INFRA_FAILURES | NOT_RUN


@dataclasses.dataclass(slots=True)
class Build:
    """One build as readiness needs it; times are aware UTC datetimes."""

    uuid: str
    job: str
    result: str | None
    voting: bool
    pipeline: str
    start: datetime.datetime | None
    end: datetime.datetime | None
    nodeset: str
    error_detail: str | None
    final: bool
    enqueued: datetime.datetime | None
    buildset: str
    project: str
    branch: str
    change: str | None
    patchset: str | None

    @property
    def duration(self):
        if self.start is None or self.end is None:
            return None
        return (self.end - self.start).total_seconds()

    @property
    def node_wait(self):
        """Seconds from the enqueue event until the build started."""
        if self.enqueued is None or self.start is None:
            return None
        return max(0.0, (self.start - self.enqueued).total_seconds())

    @property
    def arrival(self):
        """When the build's node request arrived (``arrival``)."""
        return arrival(self.start, self.enqueued)

    @property
    def when(self):
        """The moment that places the build in a window."""
        return self.start or self.enqueued or self.end


def parse_time(text, path, line, key):
    """A time from Zuul (naive, which is UTC) as an aware UTC datetime,
    through the project's one time parser."""
    if not isinstance(text, str):
        raise InputError(path, line, key,
                         f'expected an ISO 8601 time, got {text!r}')
    try:
        return timeutil.parse_utc(text)
    except ValueError as e:
        raise InputError(path, line, key, f'expected an ISO 8601 time: {e}')


def arrival(start, enqueued):
    """When a node request arrived: at the enqueue event where there is
    one, else at the build's start (and never after the start: a clock
    that puts the event later is wrong about it)."""
    if enqueued is None or start is None:
        return start
    return min(enqueued, start)


def _ordered(start, end, path, key):
    if start is not None and end is not None and end < start:
        raise InputError(path, None, f'{key}.end_time',
                         'expected a time after start_time')


def request_fields(build, path, key):
    """(job, nodeset, pipeline) of a build object, each a string or None:
    all that capacity demand reads besides the times, so a saved file
    of other origin (a history exported from a database) need not carry
    every field ``parse`` insists on."""
    values = []
    for field in ('job_name', 'nodeset', 'pipeline'):
        value = build.get(field)
        if not isinstance(value, (str, type(None))):
            raise InputError(path, None, f'{key}.{field}',
                             'expected a string')
        values.append(value)
    return tuple(values)


def ran(build):
    """Whether a build object held a node: it has a start and an end."""
    return bool(build.get('start_time')) and bool(build.get('end_time'))


def request_times(build, path, key):
    """(arrival, start, end) of a build object that ``ran``."""
    start = parse_time(build['start_time'], path, None, f'{key}.start_time')
    end = parse_time(build['end_time'], path, None, f'{key}.end_time')
    enqueued = None
    if build.get('event_timestamp'):
        enqueued = parse_time(build['event_timestamp'], path, None,
                              f'{key}.event_timestamp')
    _ordered(start, end, path, key)
    return arrival(start, enqueued), start, end


def read_text(path):
    """A file's text: UTF-8 (a BOM is allowed), at most MAX_BYTES, from a
    regular file only."""
    return decode(readfile.read_bytes(path, MAX_BYTES), path)


def decode(raw, path):
    """Zuul's JSON as text: UTF-8, a byte-order mark allowed."""
    return readfile.decode_utf8(raw, path, 'utf-8-sig')


def check_list(text, path):
    """The builds in a builds API document, as plain dicts."""
    try:
        builds = json.loads(text)
    except ValueError as e:
        raise InputError(path, getattr(e, 'lineno', None), '',
                         f'invalid JSON: {getattr(e, "msg", e)}')
    except RecursionError:
        raise InputError(path, None, '', 'invalid JSON: nested too deeply')
    if not isinstance(builds, list):
        raise InputError(path, 1, '', 'expected a JSON list of builds, as '
                         'the builds API returns')
    for n, build in enumerate(builds):
        if not isinstance(build, dict):
            raise InputError(path, None, f'[{n}]', 'expected a build object')
    return builds


# field -> (types allowed, may it be missing or null)
_FIELDS = {
    'uuid': (str, False),
    'job_name': (str, False),
    'voting': (bool, False),
    'pipeline': (str, False),
    'start_time': (str, True),
    'end_time': (str, True),
    'nodeset': (str, True),
    'error_detail': (str, True),
    'final': (bool, True),
    'event_timestamp': (str, True),
}
_FIELD_ITEMS = tuple(_FIELDS.items())


def parse(builds, path):
    """Build records from ``check_list``'s dicts; every field checked."""
    return [_build(b, path, f'[{n}]') for n, b in enumerate(builds)]


def _check_fields(build, path, key):
    # One loop over plain dict lookups: this runs for every build of a
    # history of hundreds of thousands.
    for name, (kind, optional) in _FIELD_ITEMS:
        value = build.get(name)
        if value is None:
            if not optional:
                raise InputError(path, None, f'{key}.{name}', 'missing')
        elif type(value) is not kind:
            raise InputError(path, None, f'{key}.{name}',
                             f'expected a {kind.__name__}, got {value!r}')


def _time(build, name, path, key):
    text = build.get(name)
    return None if text is None else parse_time(text, path, None,
                                                f'{key}.{name}')


def _ref(build, path, key):
    ref = build.get('ref')
    if not isinstance(ref, dict):
        raise InputError(path, None, f'{key}.ref', 'missing or not an '
                         'object with project, branch, change, patchset')
    project = ref.get('project')
    if not isinstance(project, str):
        raise InputError(path, None, f'{key}.ref.project',
                         'expected a string')
    out = [project]
    for name in ('branch', 'change', 'patchset'):
        value = ref.get(name)
        if value is not None and (isinstance(value, bool) or
                                  not isinstance(value, (str, int))):
            raise InputError(path, None, f'{key}.ref.{name}',
                             f'expected a string or number, got {value!r}')
        out.append(None if value is None else str(value))
    return out


_STR_OR_NONE = (str, type(None))
_BOOL_OR_NONE = (bool, type(None))


def _build(build, path, key):
    get = build.get
    uuid, job, voting, pipeline = (get('uuid'), get('job_name'),
                                   get('voting'), get('pipeline'))
    nodeset, detail, final = (get('nodeset'), get('error_detail'),
                              get('final'))
    # The common case in one expression; the field-by-field check only
    # runs to name what is wrong.
    if not (type(uuid) is str and type(job) is str and
            type(voting) is bool and type(pipeline) is str and
            type(nodeset) in _STR_OR_NONE and type(detail) in _STR_OR_NONE
            and type(final) in _BOOL_OR_NONE):
        _check_fields(build, path, key)
    result = get('result')
    if result is not None and result not in RESULTS:
        raise InputError(path, None, f'{key}.result',
                         f'unknown result {result!r}; expected one of '
                         f'{", ".join(sorted(RESULTS))} or null')
    buildset = get('buildset')
    if type(buildset) is not dict or type(buildset.get('uuid')) is not str:
        raise InputError(path, None, f'{key}.buildset.uuid',
                         'missing or not a string')
    start = _time(build, 'start_time', path, key)
    end = _time(build, 'end_time', path, key)
    _ordered(start, end, path, key)
    project, branch, change, patchset = _ref(build, path, key)
    return Build(
        uuid, job, result, voting, pipeline, start, end, nodeset or '',
        detail, True if final is None else final,
        _time(build, 'event_timestamp', path, key), buildset['uuid'],
        project, branch or '', change, patchset)


def load(paths):
    """Build records from saved builds API files; duplicates dropped."""
    return list(unique(build for path in paths for build in
                       parse(check_list(read_text(path), path), path)))


def unique(builds):
    """Each build once, the first time it is seen: saved files and
    zuul-web's pages overlap."""
    seen = set()
    for build in builds:
        if build.uuid not in seen:
            seen.add(build.uuid)
            yield build
