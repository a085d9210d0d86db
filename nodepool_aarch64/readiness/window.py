"""The window of builds readiness judges: its default length and how its
ends are read from the --since and --until options."""

import datetime
import re

from nodepool_aarch64 import timeutil
from nodepool_aarch64.errors import InputError

DEFAULT_DAYS = 14


def parse_time(option, text, end=None):
    """``text`` of ``option`` as aware UTC; with ``end``, ``Nd`` is N days
    before it.  None stays None (the option was not given)."""
    if text is None:
        return None
    days = re.fullmatch(r'(\d+)d', text.strip())
    if days and end is not None:
        return end - datetime.timedelta(days=int(days.group(1)))
    try:
        return timeutil.parse_utc(text)
    except ValueError as e:
        raise InputError(option, None, '', f'{e}' +
                         (' (or Nd: days back)' if end else ''))
