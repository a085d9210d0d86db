"""The window of builds readiness judges: its default length and how its
ends are read from the --since and --until options."""

import datetime
import re

from nodepool_aarch64 import timeutil
from nodepool_aarch64.errors import InputError

DEFAULT_DAYS = 14
EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)


def parse_time(option, text, end=None):
    """``text`` of ``option`` as aware UTC; with ``end``, ``Nd`` is N days
    before it.  None stays None (the option was not given)."""
    if text is None:
        return None
    days = re.fullmatch(r'(\d+)d', text.strip())
    if days and end is not None:
        # Times are between 1970 and 9000: further back is a typo, and
        # past about 2.7 million years timedelta overflows.
        back = int(days.group(1)) if len(days.group(1)) < 10 else None
        if back is None or back > (end - EPOCH).days:
            raise InputError(option, None, '', 'more days back than to '
                             '1970-01-01')
        return end - datetime.timedelta(days=back)
    try:
        return timeutil.parse_utc(text)
    except ValueError as e:
        raise InputError(option, None, '', f'{e}' +
                         (' (or Nd: days back)' if end else ''))
