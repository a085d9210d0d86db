"""Put the launcher config for an instant in place, safely.

Nodepool reloads its config file when it changes, so the file a launcher
reads must always be complete and valid.  ``apply`` takes the launcher
file for an instant (``render.launcher_file``, with the capacity windows
active then), validates the text with Nodepool's own ConfigValidator,
and replaces the file atomically only when it is valid and different.
An unchanged render does not touch the file, so its mtime and inode
stay the same and Nodepool does not reload for nothing.
"""

import os

from nodepool_aarch64.engines.nodepool import validate_text
from nodepool_aarch64.errors import InputError
from nodepool_aarch64.formats.write import (atomic_write, remove_stale,
                                            unchanged)
from nodepool_aarch64.render import launcher_file

UNCHANGED, REPLACED, INVALID = 'unchanged', 'replaced', 'invalid'
# A temporary file this old was left by a killed run, not by one still
# writing (a write takes well under a second).
STALE_SECONDS = 300


def check_output(path, what='output'):
    """A file we may write: its directory exists and it is no directory.

    A missing directory is a typo (in a cron line, say); creating it
    would put the config where no launcher reads it.
    """
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise InputError(path, None, '', f'no directory {directory}: '
                         f'the {what} file must go in an existing one')
    if os.path.isdir(path):
        raise InputError(path, None, '', f'is a directory; the {what} '
                         'must name a file')


def apply(inv, launcher, at, output):
    """(status, errors): put ``launcher``'s file for the instant ``at`` in
    place at ``output`` if it is valid and new."""
    return apply_text(launcher_file(inv, launcher, at), output)


def apply_text(text, output):
    """(status, errors): write ``text`` to ``output`` if valid and new."""
    check_output(output)
    remove_stale(output, STALE_SECONDS)
    errors = validate_text(text)
    if errors:
        return INVALID, errors
    if unchanged(output, text):
        return UNCHANGED, []
    atomic_write(output, text)
    return REPLACED, []
