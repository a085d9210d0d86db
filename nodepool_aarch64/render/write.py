"""Atomic writes: a reader never sees a half-written file.

Nodepool reloads its config when the file changes, so a launcher must see
either the old file or the new one, never a prefix.  Each file is written
to a temporary file in its own directory, flushed to disk and renamed over
the target.  For a set of files, every temporary file is complete before
the first rename.
"""

import glob
import os
import tempfile
import time


def _stage(path, text):
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix='.' + os.path.basename(path) + '.',
                               suffix='.tmp', dir=directory)
    try:
        with os.fdopen(fd, 'w') as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        if os.path.exists(path):
            os.chmod(tmp, os.stat(path).st_mode & 0o7777)
        else:
            os.chmod(tmp, 0o644)
    except BaseException:
        os.unlink(tmp)
        raise
    return tmp


def atomic_write(path, text):
    """Replace ``path`` with ``text`` atomically."""
    tmp = _stage(path, text)
    try:
        os.replace(tmp, path)
    except BaseException:
        # The target is a directory, or vanished with its directory:
        # no temporary file may outlive the error.
        os.unlink(tmp)
        raise


def remove_stale(path, age=300):
    """Remove temporary files that a killed writer of ``path`` left.

    Only files named as ``_stage`` names them and untouched for ``age``
    seconds go: a writer still running finishes within that.  Returns
    the paths removed.
    """
    directory = os.path.dirname(os.path.abspath(path))
    pattern = os.path.join(glob.escape(directory),
                           '.' + glob.escape(os.path.basename(path)) +
                           '.*.tmp')
    removed = []
    now = time.time()
    for tmp in glob.glob(pattern):
        try:
            if now - os.lstat(tmp).st_mtime > age:
                os.unlink(tmp)
                removed.append(tmp)
        except FileNotFoundError:
            pass
    return removed


def unchanged(path, text):
    try:
        with open(path) as f:
            return f.read() == text
    except OSError:
        return False


def write_files(root, files):
    """Write {relative path: text} under root; returns the paths changed.

    Files whose content is already right are not touched, so their mtime
    (what Nodepool watches) does not move.
    """
    staged = []
    try:
        for rel, text in files.items():
            path = os.path.join(root, rel)
            if os.path.isdir(path):
                # Found now, not at rename time, when earlier files of
                # the set would already be replaced.
                raise IsADirectoryError(21, 'Is a directory', path)
            if not unchanged(path, text):
                staged.append((_stage(path, text), path))
    except BaseException:
        for tmp, _ in staged:
            os.unlink(tmp)
        raise
    for tmp, path in staged:
        os.replace(tmp, path)
    return [path for _, path in staged]
