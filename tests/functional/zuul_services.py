"""A real Zuul (merger, scheduler, web) on the test's TLS ZooKeeper.

Only what loading configuration needs: a merger (the scheduler reads
every project's config through it), the scheduler, and zuul-web for the
REST API, all from the test runner's environment, on 127.0.0.1, with a
SQLite database, a ``git`` connection whose repositories are local
directories, and a ``gerrit`` connection (the pipelines' trigger) that
points at a closed 127.0.0.1 port and is never reached.
"""

import configparser
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request

import fixtures

from tests.functional import processes

COMPONENTS = ('merger', 'scheduler', 'web')
START_TIMEOUT = 180


class ZuulError(Exception):
    pass


def _command(name):
    path = os.path.join(os.path.dirname(sys.executable), 'zuul-' + name)
    if not os.access(path, os.X_OK):
        raise ZuulError('zuul-%s not found next to %s' % (
            name, sys.executable))
    return path


class Zuul(fixtures.Fixture):
    """Zuul serving ``tenant_config`` (path) from git repos in ``git_root``.

    Attributes once set up: ``api`` (base URL of zuul-web), ``log_paths``
    and ``config_path``.
    """

    def __init__(self, workdir, zookeeper, tenant_config, git_root,
                 components=COMPONENTS, extra_config=None):
        super().__init__()
        self.workdir = workdir
        self.zookeeper = zookeeper
        self.tenant_config = tenant_config
        self.git_root = git_root
        self.components = components
        # {section: {key: value}} merged into zuul.conf last.
        self.extra_config = extra_config or {}

    def _setUp(self):
        os.makedirs(self.workdir, exist_ok=True)
        self.port = processes.free_port()
        self.api = 'http://127.0.0.1:%d/api' % self.port
        self.config_path = os.path.join(self.workdir, 'zuul.conf')
        self._write_config()
        self.log_paths = []
        self.procs = {}
        for name in self.components:
            self._start(name)

    def _write_config(self):
        w = self.workdir
        zk = self.zookeeper
        config = configparser.ConfigParser(interpolation=None)
        config['zookeeper'] = {
            'hosts': zk.hosts, 'tls_ca': zk.ca, 'tls_cert': zk.cert,
            'tls_key': zk.key, 'session_timeout': '40'}
        config['keystore'] = {'password': 'functional-test-only'}
        config['database'] = {
            'dburi': 'sqlite:///' + os.path.join(w, 'zuul.db')}
        config['scheduler'] = {
            'tenant_config': self.tenant_config,
            'state_dir': os.path.join(w, 'state'),
            'command_socket': os.path.join(w, 'scheduler.socket')}
        config['merger'] = {
            'git_dir': os.path.join(w, 'merger-git'),
            'git_user_email': 'zuul@example.invalid',
            'git_user_name': 'Zuul',
            'command_socket': os.path.join(w, 'merger.socket')}
        config['web'] = {
            'listen_address': '127.0.0.1', 'port': str(self.port),
            'command_socket': os.path.join(w, 'web.socket')}
        config['connection git'] = {
            'driver': 'git', 'baseurl': 'file://' + self.git_root}
        # Pipelines trigger on Gerrit; the connection must exist, and
        # without an HTTP password it only tries SSH to a closed port.
        config['connection gerrit'] = {
            'driver': 'gerrit', 'server': '127.0.0.1',
            'port': str(processes.free_port()), 'user': 'zuul',
            'sshkey': os.path.join(w, 'no-such-key')}
        for section, values in self.extra_config.items():
            config[section] = {**config[section], **values} \
                if config.has_section(section) else values
        for d in ('state', 'merger-git'):
            os.makedirs(os.path.join(w, d), exist_ok=True)
        with open(self.config_path, 'w') as f:
            config.write(f)

    def _start(self, name):
        log_path = os.path.join(self.workdir, 'zuul-%s.log' % name)
        self.log_paths.append(log_path)
        log = open(log_path, 'ab')
        env = dict(os.environ)
        env.pop('STATSD_HOST', None)
        # zuul-web looks for clouds.yaml in the working directory; there
        # is none, and no provider needs one.
        proc = subprocess.Popen(
            [_command(name), '-f', '-d', '-c', self.config_path],
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            cwd=self.workdir, env=env, start_new_session=True)
        log.close()
        self.procs[name] = proc
        self.addCleanup(processes.stop_group, proc, signal.SIGTERM, 30)

    def get(self, path):
        with urllib.request.urlopen(self.api + path, timeout=10) as r:
            return json.loads(r.read().decode('utf-8'))

    def wait_for_tenant(self, tenant, timeout=START_TIMEOUT):
        """Wait until zuul-web reports ``tenant`` with its config loaded."""
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            for name, proc in self.procs.items():
                if proc.poll() is not None:
                    raise ZuulError('zuul-%s exited with %s'
                                    % (name, proc.returncode))
            try:
                # The tenant's projects list exists only once the
                # scheduler has loaded its layout.
                tenants = {t['name'] for t in self.get('/tenants')}
                if tenant in tenants:
                    self.get('/tenant/%s/projects' % tenant)
                    return
            except (urllib.error.URLError, OSError, ValueError) as e:
                last = e
            time.sleep(0.5)
        raise ZuulError('tenant %s not loaded within %ss (last: %s)'
                        % (tenant, timeout, last))
