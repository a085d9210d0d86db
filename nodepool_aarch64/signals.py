"""How every command stops when it is told to: SIGTERM, SIGHUP, SIGINT.

cron, systemd, CI job timeouts and Zuul's own job timeout stop a command
with SIGTERM; a terminal sends SIGINT or SIGHUP.  All three are handled
the same way, once, for every command (``cli.main`` runs each command
inside ``handled``):

- the first one raises ``Stopped`` in the main thread, so the cleanup
  the code already has for errors runs: temporary files and
  directories are removed, a half-replaced file set is put back, a
  child's wait is interrupted and its group stopped;
- a further stop signal while that cleanup runs is noted, not raised,
  so the cleanup is never cut short;
- on the way out, every child process still running is stopped
  (``children.stop_all``), whatever ended the command.

The command then exits with 128 + the signal number, as a shell reports
a process killed by that signal.
"""

import contextlib
import signal
import threading

from nodepool_aarch64 import children

STOP_SIGNALS = children.STOP_SIGNALS


class Stopped(BaseException):
    """A stop signal arrived.  A BaseException, as KeyboardInterrupt is,
    so that ``except Exception`` handlers do not swallow it."""

    def __init__(self, signum):
        super().__init__(signum)
        self.signum = signum

    @property
    def exit_code(self):
        return 128 + self.signum

    def __str__(self):
        return f'stopped by {signal.Signals(self.signum).name}'


_noted = []


def _stop(signum, frame):
    _hold()
    raise Stopped(signum)


def _note(signum, frame):
    """A stop signal during cleanup: the cleanup goes on, and the signal
    is raised once it is done, unless one is already on its way."""
    _noted.append(signum)


def _hold():
    for sig in STOP_SIGNALS:
        signal.signal(sig, _note)


@contextlib.contextmanager
def handled():
    """Within: the first stop signal raises Stopped.  On the way out,
    every child still running is stopped and the handlers are put back.

    Signal handlers belong to the main thread; elsewhere (a command run
    from a worker thread) only the children are looked after.
    """
    main = threading.current_thread() is threading.main_thread()
    previous = {}
    if main:
        previous = {sig: signal.getsignal(sig) for sig in STOP_SIGNALS}
        del _noted[:]
        for sig in STOP_SIGNALS:
            signal.signal(sig, _stop)
    # Children a caller started before (a test's long-lived VM) are its
    # own to stop.
    theirs = children.running()
    stopped = False
    try:
        yield
    except Stopped:
        stopped = True
        raise
    finally:
        if main:
            _hold()
        try:
            children.stop_all(keep=theirs)
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
    if _noted and not stopped:
        # Arrived while the children of a finished command were stopped.
        raise Stopped(_noted[0])
