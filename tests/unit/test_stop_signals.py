"""Every command, stopped mid-run, cleans up (doc/source/contract.rst).

Each test runs the real command in its own process and session, waits
until it is doing the long part of its work (qemu booting, a git hook
running, a request to zuul-web waiting for an answer), then sends
SIGTERM, SIGHUP, SIGINT or SIGKILL to the command alone, as cron,
systemd, a CI timeout or ``kill`` would.  Afterwards:

- no process it started remains: none of those seen below it while it
  ran, none in their process groups, none whose command line names the
  run's own files;
- its TMPDIR is empty;
- its outputs are as they were;
- stopped by a signal it can handle, it exited with 128 + the signal
  number and one line on standard error.
"""

import os
import signal
import socket
import subprocess
import threading

import fixtures

from nodepool_aarch64 import timeutil
from nodepool_aarch64.capacity import zuul_launcher_apply
from nodepool_aarch64.formats.yamltext import dump
from nodepool_aarch64.inventory import load_inventory
from nodepool_aarch64.render import zuul as render_zuul
from tests import base
from tests import cliprocess
from tests import windows
from tests.unit.test_imagecheck_console_log import blank_image

HANDLED = (signal.SIGTERM, signal.SIGHUP, signal.SIGINT)
ALL = HANDLED + (signal.SIGKILL,)
OLD_LOG = b'console of an earlier boot\n'


def per_signal(signals):
    """One test per signal from each ``stopped_*(self)`` method, with
    ``self.sig`` set: test_<name>_sigterm and so on."""
    def decorate(cls):
        for name in [n for n in vars(cls) if n.startswith('stopped_')]:
            method = getattr(cls, name)
            for sig in signals:
                def test(self, method=method, sig=sig):
                    self.sig = sig
                    method(self)
                test.__doc__ = method.__doc__
                label = signal.Signals(sig).name.lower()
                setattr(cls, f'test_{name[len("stopped_"):]}_{label}', test)
        return cls
    return decorate


class StopTestCase(base.TestCase):

    def start(self, args, cwd=None, env=None):
        self.work = self.tempdir()
        run = cliprocess.Run(args, self.work, cwd=cwd, env=env)
        self.addCleanup(run.kill)
        return run

    def assertCleanStop(self, run, marker):
        code, out, err = run.stop(self.sig)
        if self.sig == signal.SIGKILL:
            self.assertEqual(-signal.SIGKILL, code)
        else:
            name = signal.Signals(self.sig).name
            self.assertEqual(128 + self.sig, code, err)
            self.assertEqual([f'nodepool-aarch64: stopped by {name}'],
                             err.splitlines())
        self.assertEqual({}, run.leftovers(marker))
        self.assertEqual([], os.listdir(self.work), 'temporary files left')
        return out


@per_signal(ALL)
class TestImageCheck(StopTestCase):
    """The reproducer of the issue: qemu outlived a stopped command."""

    def stopped_qemu_is_stopped_and_the_log_kept(self):
        tmp = self.tempdir()
        image = blank_image(tmp)
        log = os.path.join(tmp, 'console.log')
        with open(log, 'wb') as f:
            f.write(OLD_LOG)
        run = self.start(['image-check', image, '--console-log', log])
        run.wait_for(lambda: cliprocess.qemu(image), what='qemu to start')
        self.assertCleanStop(run, image)
        with open(log, 'rb') as f:
            self.assertEqual(OLD_LOG, f.read())
        self.assertEqual([], cliprocess.qemu(image))


FILE = 'zuul.d/zuul-launcher.yaml'
# Inside the shipped weekday-peak window: the file has edits to commit.
PEAK = windows.PEAK
HOOK = """#!/bin/sh
touch "$(dirname "$0")/../hook-started"
sleep 3{unique}
"""


@per_signal(ALL)
class TestApplyZuulLauncher(StopTestCase):
    """git, and the hook git runs, stopped with the command."""

    def git(self, *args):
        return subprocess.run(['git', '-C', self.checkout, *args],
                              check=True, capture_output=True,
                              text=True).stdout

    def setUp(self):
        super().setUp()
        for var in ('AUTHOR', 'COMMITTER'):
            self.useFixture(fixtures.EnvironmentVariable(
                f'GIT_{var}_NAME', 'Capacity Test'))
            self.useFixture(fixtures.EnvironmentVariable(
                f'GIT_{var}_EMAIL', 'capacity@example.invalid'))
        self.checkout = self.tempdir()
        self.path = os.path.join(self.checkout, FILE)
        os.makedirs(os.path.dirname(self.path))
        self.original = dump(render_zuul.launcher_objects(
            load_inventory(None)), 'inventory linaro.yaml')
        with open(self.path, 'w') as f:
            f.write(self.original)
        self.git('init', '-q', '-b', 'master', '.')
        self.git('add', '-A')
        self.git('commit', '-q', '-m', 'Initial state')
        self.head = self.git('rev-parse', 'HEAD')
        # A hook that takes its time: the commit is under way.
        self.unique = str(os.getpid()) + str(id(self))[-4:]
        hook = os.path.join(self.checkout, '.git', 'hooks', 'pre-commit')
        with open(hook, 'w') as f:
            f.write(HOOK.format(unique=self.unique))
        os.chmod(hook, 0o755)

    def stopped_git_and_its_hook_and_nothing_committed(self):
        run = self.start(['capacity', 'apply-zuul-launcher', '--checkout',
                          self.checkout, '--commit', '--at', PEAK])
        started = os.path.join(self.checkout, '.git', 'hook-started')
        run.wait_for(lambda: os.path.exists(started),
                     what='the pre-commit hook to run')
        self.assertCleanStop(run, self.unique)
        self.assertEqual([], cliprocess.naming(self.checkout))
        self.assertEqual(self.head, self.git('rev-parse', 'HEAD'))
        locks = [name for name in os.listdir(
            os.path.join(self.checkout, '.git')) if name.endswith('.lock')]
        self.assertEqual([], locks)
        with open(self.path) as f:
            text = f.read()
        leftovers = [name for name in os.listdir(os.path.dirname(self.path))
                     if name != os.path.basename(FILE)]
        self.assertEqual([], leftovers)
        if self.sig == signal.SIGKILL:
            # Nothing can run after SIGKILL: the file was replaced whole
            # before git ran, and stays so, uncommitted, for git status
            # and the next run to see.
            inv = load_inventory(None)
            edits = zuul_launcher_apply.plan(self.path, self.original, inv,
                                             timeutil.parse_utc(PEAK))
            self.assertTrue(edits)
            self.assertEqual(zuul_launcher_apply.edited(self.original, edits),
                             text)
        else:
            self.assertEqual(self.original, text)
            self.assertEqual('', self.git('status', '--porcelain',
                                          '--untracked-files=no'))


class SilentServer:
    """Accepts connections on 127.0.0.1 and never answers."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(('127.0.0.1', 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.held = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.held.append(conn)

    def close(self):
        for conn in self.held:
            conn.close()
        self.sock.close()


@per_signal(HANDLED)
class TestZuulWebClients(StopTestCase):
    """Waiting on zuul-web: no child, but the wait ends at once."""

    def setUp(self):
        super().setUp()
        self.server = SilentServer()
        self.addCleanup(self.server.close)
        self.url = f'http://127.0.0.1:{self.server.port}'

    def stop_while_waiting(self, args):
        run = self.start(args)
        run.wait_for(lambda: self.server.held,
                     what='a request to reach zuul-web')
        self.assertCleanStop(run, self.url)

    def stopped_check_asking_zuul_web_for_labels(self):
        self.stop_while_waiting([
            'check', '--zuul-url', self.url, '--tenant', 't',
            os.path.join(base.REPO, 'zuul.d')])

    def stopped_readiness_reading_builds(self):
        self.stop_while_waiting([
            'readiness', '--zuul-url', self.url, '--tenant', 't'])
