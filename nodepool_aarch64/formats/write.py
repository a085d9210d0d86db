"""Atomic writes: a reader never sees a half-written file.

Nodepool reloads its config when the file changes, so a launcher must see
either the old file or the new one, never a prefix.  Each file is written
to a temporary file in its own directory, flushed to disk and renamed over
the target.  For a set of files, every temporary file is complete before
the first rename.
"""

import glob
import os
import shutil
import tempfile
import time

from nodepool_aarch64.formats.readfile import is_regular_or_absent


def _stage(path, text):
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix='.' + os.path.basename(path) + '.',
                               suffix='.tmp', dir=directory)
    try:
        with os.fdopen(fd, 'wb' if isinstance(text, bytes) else 'w') as f:
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
    """Replace ``path`` with ``text`` atomically.

    A symlink is followed and its target replaced (a launcher's
    /etc/nodepool/nodepool.yaml is often a link into a checkout); only a
    regular file, or nothing, may be at the target; the directory must
    exist; the temporary file never outlives a failure.
    """
    path = os.path.realpath(path)
    if os.path.isdir(path):
        raise IsADirectoryError(21, 'Is a directory', path)
    if not is_regular_or_absent(path):
        raise OSError(0, 'Not a regular file (FIFO or device)', path)
    tmp = _stage(path, text)
    try:
        os.replace(tmp, path)
    except BaseException:
        _remove(tmp)
        raise


def atomic_write_all(outputs):
    """Replace several single files, each as ``atomic_write`` does (a
    symlink followed), all or none: every file is staged and checked
    before the first rename, and a failed rename puts back the files
    already replaced."""
    targets = []
    for path, text in outputs:
        real = os.path.realpath(path)
        if os.path.isdir(real):
            raise IsADirectoryError(21, 'Is a directory', path)
        if not is_regular_or_absent(real):
            raise OSError(0, 'Not a regular file (FIFO or device)', path)
        targets.append((real, text))
    staged = []
    try:
        for real, text in targets:
            staged.append((_stage(real, text), real))
        _replace_all(staged)
    except BaseException:
        for tmp, _ in staged:
            _remove(tmp)
        raise


def remove_stale(path, age=300):
    """Remove temporary files that a killed writer of ``path`` left.

    Only files named as ``_stage`` names them and untouched for ``age``
    seconds go: a writer still running finishes within that.  Returns
    the paths removed.
    """
    # Beside the real file, where atomic_write stages its own.
    path = os.path.realpath(path)
    directory = os.path.dirname(path)
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
    # A FIFO or device in place of the file would block or never end.
    if not is_regular_or_absent(path):
        return False
    try:
        with open(path, 'rb' if isinstance(text, bytes) else 'r') as f:
            return f.read() == text
    except (OSError, UnicodeDecodeError):
        return False


def write_files(root, files):
    """Write {relative path: text or bytes} under root; returns the paths
    changed.

    A symlink found at a path is replaced, never followed: the set is
    this project's output, and a link planted there must not redirect a
    write elsewhere.

    Files whose content is already right are not touched, so their mtime
    (what Nodepool watches) does not move.  Either every changed file is
    replaced or none is: a failed rename puts back the files already
    replaced, and no temporary file or new directory is left behind.
    """
    targets = [(os.path.join(root, rel), text) for rel, text in files.items()]
    # Found now, not at rename time, when earlier files of the set would
    # already be replaced.
    for path, _ in targets:
        if os.path.isdir(path):
            raise IsADirectoryError(21, 'Is a directory', path)
        if not is_regular_or_absent(path):
            raise OSError(0, 'Not a regular file (FIFO or device)', path)
    made, staged = [], []
    try:
        for path, text in targets:
            if not unchanged(path, text):
                made += _makedirs(os.path.dirname(os.path.abspath(path)))
                staged.append((_stage(path, text), path))
        _replace_all(staged)
    except BaseException:
        for tmp, _ in staged:
            _remove(tmp)
        for directory in reversed(made):
            try:
                os.rmdir(directory)
            except OSError:
                pass
        raise
    return [path for _, path in staged]


def _makedirs(directory):
    """Create ``directory`` and its missing parents; returns those created."""
    missing = []
    while directory and not os.path.isdir(directory):
        missing.append(directory)
        directory = os.path.dirname(directory)
    for d in reversed(missing):
        os.mkdir(d)
    return list(reversed(missing))


def _replace_all(staged):
    """Rename each staged file over its target, all or none."""
    done = []
    try:
        for tmp, path in staged:
            backup = _keep_old(path, tmp + '.old')
            try:
                os.replace(tmp, path)
            except BaseException:
                if backup:
                    _remove(backup)
                raise
            done.append((backup, path))
    except BaseException:
        for backup, path in reversed(done):
            if backup:
                os.replace(backup, path)
            else:
                _remove(path)
        raise
    for backup, _ in done:
        if backup:
            _remove(backup)


def _keep_old(path, backup):
    """A second name for the file about to be replaced, or None."""
    if not os.path.exists(path):
        return None
    try:
        os.link(path, backup)
    except OSError:
        # Hard links can be refused (protected_hardlinks in a sticky
        # directory); a copy keeps the content just as well.
        shutil.copy2(path, backup)
    return backup


def _remove(path):
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
