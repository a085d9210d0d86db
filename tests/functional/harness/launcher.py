"""The real ``nodepool-launcher`` process, started and always stopped.

The launcher comes from the same environment as the test runner (the
tox env in CI, /work/venv here), found next to ``sys.executable``.  It
runs in the foreground with debug logging into a file the test keeps on
failure, without its web app (which would listen on every address), and
in its own session so stopping it ends everything it started.
"""

import os
import re
import signal
import subprocess
import sys
import time

import fixtures
import yaml

from tests.functional.harness import processes


class LauncherError(Exception):
    pass


def launcher_command():
    path = os.path.join(os.path.dirname(sys.executable), 'nodepool-launcher')
    if not os.access(path, os.X_OK):
        raise LauncherError(
            'nodepool-launcher not found next to %s; install '
            'requirements.txt into this environment' % sys.executable)
    return path


class NodepoolLauncher(fixtures.Fixture):
    """Run ``nodepool-launcher -d --no-webapp -c CONFIG``.

    ``config`` is the launcher config as a dict, written once to
    ``config_path`` before the start; later changes go through whatever
    path the test exercises (the launcher re-reads the file when its
    modification time changes).  ``clouds`` is a clouds.yaml dict for
    ``OS_CLIENT_CONFIG_FILE``: Nodepool looks every provider's cloud up
    there, even for the fake driver.
    """

    def __init__(self, workdir, config, clouds):
        super().__init__()
        self.workdir = workdir
        self.config = config
        self.clouds = clouds

    def _setUp(self):
        os.makedirs(self.workdir, exist_ok=True)
        self.config_path = os.path.join(self.workdir, 'nodepool.yaml')
        self.clouds_path = os.path.join(self.workdir, 'clouds.yaml')
        self.log_path = os.path.join(self.workdir, 'launcher.log')
        with open(self.config_path, 'w') as f:
            yaml.safe_dump(self.config, f, default_flow_style=False)
        with open(self.clouds_path, 'w') as f:
            yaml.safe_dump(self.clouds, f, default_flow_style=False)
        env = dict(os.environ)
        env['OS_CLIENT_CONFIG_FILE'] = self.clouds_path
        # statsd would send UDP to wherever STATSD_HOST points.
        env.pop('STATSD_HOST', None)
        log = open(self.log_path, 'ab')
        self.proc = subprocess.Popen(
            [launcher_command(), '-d', '--no-webapp',
             '-c', self.config_path],
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            cwd=self.workdir, env=env, start_new_session=True)
        log.close()
        self.addCleanup(self.stop)

    def stop(self):
        """Stop cleanly (SIGINT); True if the group had to be killed."""
        return processes.stop_group(self.proc, sig=signal.SIGINT, grace=30)

    def alive(self):
        return self.proc.poll() is None

    def log_text(self, after=0):
        """The log from byte offset ``after`` (see ``log_size``)."""
        with open(self.log_path, 'rb') as f:
            f.seek(after)
            return f.read().decode('utf-8', errors='replace')

    def wait_for_log(self, pattern, timeout=60, after=0):
        """Wait until ``pattern`` appears in the log past offset ``after``.

        Returns the match; raises LauncherError on timeout or if the
        launcher exits.
        """
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while True:
            text = self.log_text(after)
            match = regex.search(text)
            if match:
                return match
            if not self.alive():
                raise LauncherError(
                    'nodepool-launcher exited with %s while waiting for %r'
                    % (self.proc.returncode, pattern))
            if time.monotonic() > deadline:
                raise LauncherError('no %r in the launcher log within %ss'
                                    % (pattern, timeout))
            time.sleep(0.2)

    def log_size(self):
        return os.path.getsize(self.log_path)
