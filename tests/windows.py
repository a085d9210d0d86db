"""Instants against the shipped inventory's capacity windows (UTC).

nodepool_aarch64/data/linaro.yaml opens linaro-us to 40 servers (and
keeps an ubuntu-bionic-arm64 node warm) on weekdays 13:00-21:00
(``weekday-peak``), and takes linaro-cn1 to no servers on 2026-12-05
00:00-08:00 (``linaro-cn1-maintenance``).  Tests that put a window in
force take their instants from here; tests/unit/test_windows.py keeps
each one where its name says it is.
"""

import datetime

# Monday 10:00: no window.
QUIET = '2026-12-07T10:00Z'
# Tuesday 14:00: weekday-peak.
PEAK = '2026-12-08T14:00Z'
# Saturday 03:00: linaro-cn1-maintenance.
MAINTENANCE = '2026-12-05T03:00Z'
# The Monday 00:00 of the week that holds the maintenance.
MAINTENANCE_WEEK = datetime.datetime(2026, 11, 30,
                                     tzinfo=datetime.timezone.utc)
