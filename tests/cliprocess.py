"""The command run as its own process, watched from outside.

Tests of what a command leaves behind when it is stopped (or hangs) need
it in a process of its own: its own session, its own TMPDIR, and the
processes it starts found through /proc, by parent and by process
group, while it runs.
"""

import os
import signal
import subprocess
import sys
import time


def argv(*args):
    return [sys.executable, '-m', 'nodepool_aarch64.cli', *args]


def _stat(pid):
    """(ppid, pgid, state) of ``pid``, or None if it is gone."""
    try:
        with open(f'/proc/{pid}/stat') as f:
            fields = f.read().rsplit(')', 1)[1].split()
    except (OSError, IndexError):
        return None
    return int(fields[1]), int(fields[2]), fields[0]


def parent(pid):
    stat = _stat(pid)
    return stat and stat[0]


def cmdline(pid):
    try:
        with open(f'/proc/{pid}/cmdline', 'rb') as f:
            return f.read().replace(b'\0', b' ').decode(errors='replace')
    except OSError:
        return ''


def _pids():
    return [int(name) for name in os.listdir('/proc') if name.isdigit()]


def alive(pid):
    stat = _stat(pid)
    return stat is not None and stat[2] != 'Z'


def in_groups(pgids):
    """Live processes whose process group is one of ``pgids``."""
    found = []
    for pid in _pids():
        stat = _stat(pid)
        if stat and stat[1] in pgids and stat[2] != 'Z':
            found.append(pid)
    return found


def naming(text):
    """Live processes whose command line contains ``text``."""
    return [pid for pid in _pids()
            if pid != os.getpid() and text in cmdline(pid) and alive(pid)]


def qemu(image):
    """Live qemu processes booting ``image``."""
    return [pid for pid in naming(image)
            if cmdline(pid).startswith('qemu-system-')]


class Run:
    """One run of the command in its own session, with TMPDIR set to a
    directory of its own (``tmpdir``), which must be empty at the end."""

    def __init__(self, args, tmpdir, cwd=None, env=None):
        self.tmpdir = tmpdir
        self.proc = subprocess.Popen(
            argv(*args), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL, start_new_session=True, cwd=cwd,
            env=dict(os.environ, TMPDIR=tmpdir, **(env or {})))
        self.seen = {}

    def descendants(self):
        """{pid: (pgid, command line)} of every live process below the
        command, remembered in ``seen`` for later checks."""
        parents = {}
        for pid in _pids():
            stat = _stat(pid)
            if stat and stat[2] != 'Z':
                parents[pid] = stat
        below, todo = {}, [self.proc.pid]
        while todo:
            parent = todo.pop()
            for pid, (ppid, pgid, _) in parents.items():
                if ppid == parent and pid not in below:
                    below[pid] = (pgid, cmdline(pid))
                    todo.append(pid)
        self.seen.update(below)
        return below

    def wait_for(self, predicate, timeout=120, what='the run to get there'):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            self.descendants()
            if self.proc.poll() is not None:
                raise AssertionError(f'the command ended before {what}: '
                                     + self.proc.stderr.read().decode())
            if predicate():
                return
            time.sleep(0.1)
        raise AssertionError(f'timed out waiting for {what}')

    def stop(self, sig, timeout=60):
        """Send ``sig`` to the command alone (as cron, systemd or
        ``kill`` would); (exit code, stdout, stderr)."""
        self.descendants()
        self.proc.send_signal(sig)
        return self.finish(timeout)

    def finish(self, timeout=60):
        try:
            out, err = self.proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.descendants()
            self.kill()
            raise AssertionError(f'the command did not end within '
                                 f'{timeout}s')
        return self.proc.returncode, out.decode(), err.decode()

    def leftovers(self, marker, settle=15):
        """Processes still alive, after up to ``settle`` seconds: those
        seen below the command, those in any of their process groups,
        and those whose command line names ``marker``."""
        groups = {pgid for pgid, _ in self.seen.values()}
        end = time.monotonic() + settle
        while True:
            left = {pid for pid in self.seen if alive(pid)}
            left.update(in_groups(groups))
            left.update(naming(marker))
            left.discard(self.proc.pid)
            if not left or time.monotonic() > end:
                return {pid: cmdline(pid) for pid in left}
            time.sleep(0.2)

    def kill(self):
        """Last resort for a test that failed: nothing it started stays."""
        if self.proc.poll() is None:
            self.descendants()
        pids = {self.proc.pid, *self.seen}
        groups = {pgid for pgid, _ in self.seen.values()}
        pids.update(in_groups(groups))
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.proc.wait()
