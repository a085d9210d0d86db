"""Reading files named by users: regular files only, bounded, never blocking.

A FIFO or a device given as an input (or found where an output goes)
would block a reader forever or feed it without end (/dev/zero), and a
size taken from stat() is 0 for both.  So files are opened without
blocking, checked to be regular files, and read up to a limit.
"""

import os
import stat

from nodepool_aarch64.errors import InputError

# Real Nodepool and zuul.d files are tens to a few hundred KB.
MAX_FILE_BYTES = 2 * 1024 * 1024


def read_bytes(path, limit=MAX_FILE_BYTES):
    """The bytes of the regular file ``path``; InputError otherwise."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as e:
        raise InputError(path, None, '', f'cannot read: {e.strerror}')
    # fdopen() itself refuses a directory (IsADirectoryError), so the
    # kind of file is checked on the bare descriptor first.
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise InputError(path, None, '',
                         'not a regular file (a FIFO, device or '
                         'directory cannot be read as input)')
    with os.fdopen(fd, 'rb') as f:
        try:
            data = f.read(limit + 1)
        except OSError as e:
            raise InputError(path, None, '', f'cannot read: {e.strerror}')
    if len(data) > limit:
        raise InputError(path, None, '',
                         f'file too large: the limit is {limit} bytes')
    return data


def decode_utf8(raw, path, encoding='utf-8'):
    """``raw`` as text; InputError naming the line of the first bad byte.

    ``encoding`` is ``utf-8-sig`` where a byte-order mark is allowed.
    """
    try:
        return raw.decode(encoding)
    except UnicodeDecodeError as e:
        line = raw[:e.start].count(b'\n') + 1
        raise InputError(path, line, '', 'not UTF-8 text')


def is_regular_or_absent(path):
    """True when ``path`` is missing or (through symlinks) a regular file."""
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except FileNotFoundError:
        return True
