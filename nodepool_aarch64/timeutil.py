"""UTC instants: the one parser for every time the project reads.

Times come from users (--at, inventory windows) and from Zuul (build
start and end times, which Zuul serves as naive UTC).  All are held as
aware UTC datetimes.  Years are bounded well inside what datetime can
hold, so that a week added or subtracted later can never overflow.

Capacity repeats every week, so the week is here too: its seconds
count from Monday 00:00 UTC.
"""

import datetime

UTC = datetime.timezone.utc
# In datetime.weekday() order; the inventory's "days" are these names.
WEEKDAYS = ('mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun')
HOUR = 3600
DAY = 24 * HOUR
WEEK = 7 * DAY
MIN_YEAR = 1970
MAX_YEAR = 9000


def as_utc(at):
    """``at`` as an aware UTC datetime; a naive one is taken as UTC."""
    if at.tzinfo is None:
        return at.replace(tzinfo=UTC)
    return at.astimezone(UTC)


def parse_utc(text):
    """An ISO 8601 time as aware UTC; ValueError says what is wrong.

    "Z" and a space between date and time are accepted, as Zuul and
    YAML users write them; a time without an offset is UTC.
    """
    text = str(text).strip()
    try:
        at = as_utc(datetime.datetime.fromisoformat(
            text.replace(' ', 'T', 1).replace('Z', '+00:00')))
    except OverflowError:
        raise ValueError(f'{text!r} is out of range')
    except ValueError:
        raise ValueError(f'{text!r} is not an ISO 8601 time, '
                         'e.g. 2026-12-01T14:00Z')
    if not MIN_YEAR <= at.year <= MAX_YEAR:
        raise ValueError(f'{text!r} is out of range (years {MIN_YEAR} '
                         f'to {MAX_YEAR})')
    return at


def week_start(moment):
    """Monday 00:00 UTC of the week holding a timezone-aware datetime."""
    moment = moment.astimezone(UTC)
    monday = moment.date() - datetime.timedelta(days=moment.weekday())
    return datetime.datetime.combine(monday, datetime.time(0), tzinfo=UTC)


def second_of_week(moment):
    """Seconds since Monday 00:00 UTC of ``moment``'s week (a float)."""
    return (as_utc(moment) - week_start(as_utc(moment))).total_seconds()
