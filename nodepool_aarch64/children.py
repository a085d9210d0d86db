"""Child processes that never outlive the process that started them.

Every program a command runs (qemu, git, xorriso) is started here:

- in its own process group, so stopping it reaches what it started in
  turn (git's hooks, a shell's commands) and nothing else;
- with a parent-death signal (``prctl(PR_SET_PDEATHSIG)``): if this
  process dies, even by SIGKILL, the kernel signals the child;
- registered with a guardian, a small process of its own session that
  holds the read end of a pipe from this process.  When this process
  dies the pipe closes, and the guardian stops every group still
  registered: the parent-death signal reaches only the child itself, not
  a hook git left running.

``stop_all`` stops every group still running; ``signals.handled`` calls
it on the way out of every command, whatever ended it.

The parent-death signal is sent when the *thread* that started the child
ends: start long-lived children from a thread that lives as long as they
should (the main thread, in a command or a test's setUp).
"""

import contextlib
import ctypes
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

# Long enough for git to drop its lock files and for qemu to close its
# files; short enough that a stop is never mistaken for a hang.
STOP_GRACE = 5.0
_PR_SET_PDEATHSIG = 1
# The signals that stop a command (signals.py handles them); held back
# while a child starts.
STOP_SIGNALS = (signal.SIGTERM, signal.SIGHUP, signal.SIGINT)

# The guardian ignores the stop signals (a terminal's Ctrl-C, or
# "timeout" signalling this process's group, must not take it down
# first), reads "+PGID"/"-PGID" lines (groups) and "dHEX"/"DHEX" lines
# (directories, their paths hex-encoded), and at end of input stops the
# groups still registered (SIGTERM, then SIGKILL after the grace), then
# removes the directories still registered.
GUARDIAN_MARK = '# nodepool-aarch64 guardian'
_GUARDIAN = f"""{GUARDIAN_MARK}
import os, shutil, signal, sys, time
for s in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
    signal.signal(s, signal.SIG_IGN)
groups, dirs = set(), set()
for line in sys.stdin:
    kind, value = line[:1], line[1:].strip()
    if kind == '+':
        groups.add(int(value))
    elif kind == '-':
        groups.discard(int(value))
    elif kind == 'd':
        dirs.add(bytes.fromhex(value))
    elif kind == 'D':
        dirs.discard(bytes.fromhex(value))
def alive(g):
    try:
        os.killpg(g, 0)
    except OSError:
        return False
    return True
for sig in (signal.SIGTERM, signal.SIGKILL):
    for g in groups:
        try:
            os.killpg(g, sig)
        except OSError:
            pass
    end = time.monotonic() + {STOP_GRACE}
    while any(alive(g) for g in groups) and time.monotonic() < end:
        time.sleep(0.05)
for d in dirs:
    shutil.rmtree(d, ignore_errors=True)
"""

_lock = threading.Lock()
_running = []
_guardian = None
_prctl = None


def _libc_prctl():
    # Looked up before fork: nothing may be loaded in the child between
    # fork and exec.
    global _prctl
    if _prctl is None:
        libc = ctypes.CDLL(None, use_errno=True)
        _prctl = libc.prctl
        _prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong,
                           ctypes.c_ulong, ctypes.c_ulong]
    return _prctl


def _death_signal(sig):
    prctl = _libc_prctl()
    parent = os.getpid()

    def preexec():
        # spawn() blocks the stop signals while it starts and registers
        # the child; the program itself must get them.
        signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)
        if prctl(_PR_SET_PDEATHSIG, int(sig), 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), 'prctl(PR_SET_PDEATHSIG)')
        # The parent may have died before prctl: then nothing would
        # ever send the signal, so do not start at all.
        if os.getppid() != parent:
            raise ChildProcessError('the parent died before the child ran')
    return preexec


def _tell_guardian(line):
    """Send one line to the guardian, starting it if needed."""
    global _guardian
    for _ in range(2):
        if _guardian is None or _guardian.poll() is not None:
            _guardian = subprocess.Popen(
                [sys.executable, '-I', '-S', '-c', _GUARDIAN],
                stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL, start_new_session=True,
                text=True, bufsize=1)
        try:
            _guardian.stdin.write(line + '\n')
            return
        except (BrokenPipeError, ValueError):
            _guardian = None


def spawn(argv, death_signal=signal.SIGKILL, **popen_kwargs):
    """Start ``argv`` as a tracked child: subprocess.Popen's arguments,
    but always in a new session, with ``death_signal`` sent to it if this
    process dies.  Stop it with ``stop``; ``stop_all`` stops every child
    not yet stopped."""
    for key in ('start_new_session', 'preexec_fn', 'process_group'):
        if key in popen_kwargs:
            raise TypeError(f'spawn() sets {key} itself')
    # A stop signal between the fork and the registration would leave a
    # child nobody knows to stop: the signal waits until both are done.
    blocked = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    try:
        with _lock:
            proc = subprocess.Popen(argv, start_new_session=True,
                                    preexec_fn=_death_signal(death_signal),
                                    **popen_kwargs)
            _running.append(proc)
            _tell_guardian(f'+{proc.pid}')
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
    return proc


@contextlib.contextmanager
def temporary_directory(prefix='nodepool-aarch64-'):
    """A temporary directory for children's files (tempfile's
    TemporaryDirectory), which the guardian removes if this process is
    killed before it could: a child that names its own temporary files
    (qemu's snapshot overlay) leaves none behind."""
    path = tempfile.mkdtemp(prefix=prefix)
    key = os.fsencode(path).hex()
    with _lock:
        _tell_guardian('d' + key)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)
        with _lock:
            _tell_guardian('D' + key)


def group_alive(pgid):
    """True while any process (a zombie too) is in group ``pgid``."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def stop(proc, sig=signal.SIGTERM, grace=STOP_GRACE):
    """Stop ``proc``'s whole group: ``sig``, then SIGKILL after ``grace``
    seconds; reap the child.  Returns its exit status."""
    pgid = proc.pid
    for signum in (sig, signal.SIGKILL):
        try:
            os.killpg(pgid, signum)
        except ProcessLookupError:
            pass
        end = time.monotonic() + grace
        while proc.poll() is None or group_alive(pgid):
            if time.monotonic() >= end:
                break
            time.sleep(0.02)
        else:
            break
    proc.wait()
    _forget(proc)
    return proc.returncode


def _forget(proc):
    with _lock:
        if proc in _running:
            _running.remove(proc)
            _tell_guardian(f'-{proc.pid}')


def finished(proc):
    """Record that ``proc`` ended by itself (reaped and its group empty):
    the guardian stops watching its group."""
    if proc.poll() is not None and not group_alive(proc.pid):
        _forget(proc)


def running():
    """The children started by ``spawn`` and not yet stopped."""
    with _lock:
        return list(_running)


def stop_all(grace=STOP_GRACE, keep=()):
    """Stop every child still tracked but those in ``keep`` (used on the
    way out of a command).  Children whose group is already gone are
    only forgotten."""
    for proc in running():
        if proc in keep:
            continue
        if proc.poll() is None or group_alive(proc.pid):
            stop(proc, grace=grace)
        else:
            _forget(proc)


def run(argv, input=None, timeout=None, death_signal=signal.SIGKILL,
        **popen_kwargs):
    """subprocess.run with output captured, through ``spawn``: whatever
    interrupts the wait (a timeout, a stop signal), the child's whole
    group is stopped before the exception goes on.  Raises
    subprocess.TimeoutExpired like subprocess.run."""
    popen_kwargs.setdefault('stdout', subprocess.PIPE)
    popen_kwargs.setdefault('stderr', subprocess.PIPE)
    if input is not None:
        popen_kwargs.setdefault('stdin', subprocess.PIPE)
    proc = spawn(argv, death_signal=death_signal, **popen_kwargs)
    try:
        out, err = proc.communicate(input, timeout=timeout)
    except BaseException:
        stop(proc)
        raise
    finally:
        for stream in (proc.stdin, proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()
    # A grandchild left in the group (a daemonised hook) is stopped too.
    if group_alive(proc.pid):
        stop(proc)
    _forget(proc)
    return subprocess.CompletedProcess(argv, proc.returncode, out, err)
