"""The controller's audit log: one JSON line per action.

Each line says when, what changed (from and to), why, the forecast it
acted on and the budget left, and how it was applied::

    {"time": "2026-03-02T14:00:00Z", "action": "raise",
     "reason": "raise to the forecast (budget burning at 3.2x)",
     "max-servers": {"linaro-us": 24, ...}, "min-ready": {...},
     "previous": {"max-servers": {...}, "min-ready": {...}},
     "forecast": [17.4, 19.0, ...], "budget-left": 0.62, "burn": 3.2,
     "applied": "dry-run"}

The log is also the controller's memory: a restart reads its last line
for the capacity in force and the time of the last action, so it
neither repeats that action nor acts again before the guard's interval.
A line is appended whole and synced; a last line without its newline (a
write cut short by a crash) is ignored, as the action it would have
recorded is re-decided and re-applied, which is harmless because
applying is idempotent.
"""

import datetime
import json
import os

from nodepool_aarch64 import timeutil
from nodepool_aarch64.capacity import control
from nodepool_aarch64.errors import InputError

DRY_RUN = 'dry-run'
# An audit log grows by at most one line an hour; this bounds a year.
MAX_BYTES = 64 * 1024 * 1024


def time_text(moment):
    return moment.astimezone(timeutil.UTC).strftime('%Y-%m-%dT%H:%M:%SZ')


def record(moment, decision, previous, applied):
    """The audit line (a dict) for an action taken at ``moment``."""
    up = sum(decision.target.max_servers.values()) - \
        sum(previous.max_servers.values())
    return {
        'time': time_text(moment),
        'action': 'raise' if up > 0 else 'lower' if up < 0 else 'change',
        'reason': decision.reason,
        'max-servers': dict(sorted(decision.target.max_servers.items())),
        'min-ready': dict(sorted(decision.target.min_ready.items())),
        'previous': {
            'max-servers': dict(sorted(previous.max_servers.items())),
            'min-ready': dict(sorted(previous.min_ready.items()))},
        'forecast': decision.forecast,
        'budget-left': round(decision.budget_left, 3),
        'burn': round(decision.burn, 2),
        'applied': applied,
    }


def append(path, line):
    """Append one record, whole, and sync it to disk."""
    text = json.dumps(line, sort_keys=False) + '\n'
    try:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, text.encode('utf-8'))
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError as e:
        raise InputError(path, None, '', f'cannot append: {e.strerror}')


def _records(path):
    try:
        with open(path, 'rb') as f:
            data = f.read(MAX_BYTES + 1)
    except FileNotFoundError:
        return []
    except OSError as e:
        raise InputError(path, None, '', f'cannot read: {e.strerror}')
    if len(data) > MAX_BYTES:
        raise InputError(path, None, '', f'over {MAX_BYTES} bytes: '
                         'rotate the audit log')
    lines = data.split(b'\n')
    # The piece after the last newline is empty, or a torn write.
    out = []
    for n, raw in enumerate(lines[:-1], 1):
        if not raw.strip():
            continue
        try:
            item = json.loads(raw.decode('utf-8'))
        except (UnicodeDecodeError, ValueError):
            raise InputError(path, n, '', 'not a JSON audit record')
        if not isinstance(item, dict):
            raise InputError(path, n, '', 'expected a JSON object')
        out.append((n, item))
    return out


def _mapping(path, n, item, key):
    value = item.get(key)
    if not isinstance(value, dict) or not all(
            isinstance(k, str) and isinstance(v, int) and
            not isinstance(v, bool) and v >= 0 for k, v in value.items()):
        raise InputError(path, n, key, 'expected names mapped to whole '
                         'numbers')
    return dict(value)


def last_state(path, live):
    """The State the last action of this mode (live or dry run) left in
    force, with its time as seconds since the epoch; None without one.
    """
    for n, item in reversed(_records(path)):
        if (item.get('applied') == DRY_RUN) == live:
            continue
        try:
            moment = datetime.datetime.strptime(
                item.get('time', ''), '%Y-%m-%dT%H:%M:%SZ').replace(
                    tzinfo=timeutil.UTC)
        except (TypeError, ValueError):
            raise InputError(path, n, 'time', 'expected '
                             'YYYY-MM-DDTHH:MM:SSZ')
        return control.State(_mapping(path, n, item, 'max-servers'),
                             _mapping(path, n, item, 'min-ready'),
                             moment.timestamp())
    return None


def count_actions(path, live):
    """(actions of this mode in the log, the last one's time as seconds
    since the epoch or None)."""
    items = [item for _, item in _records(path)
             if (item.get('applied') == DRY_RUN) != live]
    last = last_state(path, live)
    return len(items), None if last is None else last.since
