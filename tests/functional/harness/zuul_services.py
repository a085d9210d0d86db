"""A real Zuul (merger, scheduler, web, and optionally an executor).

By default only what loading configuration needs: a merger (the
scheduler reads every project's config through it), the scheduler, and
zuul-web for the REST API, all from the test runner's environment, on
127.0.0.1, with a SQLite database, a ``git`` connection whose
repositories are local directories, and a ``gerrit`` connection (the
pipelines' trigger) that points at a closed 127.0.0.1 port and is never
reached.

With ``executor=Executor(...)`` a zuul-executor joins them and runs
jobs for real: bubblewrap, the Ansible versions ``zuul-manage-ansible``
installed (see zuul_ansible), and SSH to the nodes with the given
private key.  The executor does not care where its nodes come from
(Nodepool or zuul-launcher): whatever hands them out puts them in the
same ZooKeeper.
"""

import configparser
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

import fixtures
import testtools
import yaml

from tests.functional.harness import artefacts
from tests.functional.harness import processes
from tests.functional.harness import zookeeper as zookeeper_mod

COMPONENTS = ('merger', 'scheduler', 'web')
START_TIMEOUT = 180
# The executor pauses itself when the load average passes this many
# times the CPU count; test machines are shared and busy, and a paused
# executor looks like a hung build.
LOAD_MULTIPLIER = '100'


class ZuulError(Exception):
    pass


def _command(name):
    path = os.path.join(os.path.dirname(sys.executable), 'zuul-' + name)
    if not os.access(path, os.X_OK):
        raise ZuulError('zuul-%s not found next to %s' % (
            name, sys.executable))
    return path


class Executor:
    """What a zuul-executor needs to reach its nodes.

    ``private_key``: the key the nodes accept (zuul.conf's
    ``private_key_file``); ``username``: the login when the node does
    not name one; ``ansible_root``: where ``zuul-manage-ansible``
    installed Ansible (default: the machine-wide cache); ``settings``:
    any other ``[executor]`` keys.
    """

    def __init__(self, private_key, username='zuul', ansible_root=None,
                 settings=None):
        self.private_key = private_key
        self.username = username
        self.ansible_root = ansible_root
        self.settings = dict(settings or {})


class Zuul(fixtures.Fixture):
    """Zuul serving ``tenant_config`` (path) from git repos in ``git_root``.

    ``executor`` (an Executor) adds a zuul-executor; ``git_poll_delay``
    (seconds) makes the git connection poll its repositories and emit
    ``ref-updated`` events, the trigger of a pipeline fed by pushes.

    Attributes once set up: ``api`` (base URL of zuul-web), ``log_paths``,
    ``config_path`` and ``procs`` (component name to process).
    """

    def __init__(self, workdir, zookeeper, tenant_config, git_root,
                 executor=None, git_poll_delay=None, extra_components=(),
                 extra_config=None):
        super().__init__()
        self.workdir = workdir
        self.zookeeper = zookeeper
        self.tenant_config = tenant_config
        self.git_root = git_root
        self.executor = executor
        self.git_poll_delay = git_poll_delay
        # More components (e.g. 'launcher') and {section: {key: value}}
        # merged into zuul.conf last, for what they need.
        self.extra_components = tuple(extra_components)
        self.extra_config = extra_config or {}

    def _setUp(self):
        os.makedirs(self.workdir, exist_ok=True)
        self.port = processes.free_port()
        self.api = 'http://127.0.0.1:%d/api' % self.port
        self.config_path = os.path.join(self.workdir, 'zuul.conf')
        self._write_config()
        self.log_paths = []
        self.procs = {}
        if self.executor:
            # Runs after the executor has stopped (cleanups run last
            # first): Ansible's SSH control masters leave the executor's
            # session and outlive it; they name its job directory.
            self.addCleanup(self._stop_ssh_masters)
        for name in self.components:
            self._start(name)

    @property
    def components(self):
        return (COMPONENTS + (('executor',) if self.executor else ())
                + self.extra_components)

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
        if self.git_poll_delay is not None:
            config['connection git']['poll_delay'] = str(self.git_poll_delay)
        # Pipelines trigger on Gerrit; the connection must exist, and
        # without an HTTP password it only tries SSH to a closed port.
        config['connection gerrit'] = {
            'driver': 'gerrit', 'server': '127.0.0.1',
            'port': str(processes.free_port()), 'user': 'zuul',
            'sshkey': os.path.join(w, 'no-such-key')}
        for d in ('state', 'merger-git'):
            os.makedirs(os.path.join(w, d), exist_ok=True)
        if self.executor:
            self.executor_config = self._executor_config()
            config['executor'] = self.executor_config
        for section, values in self.extra_config.items():
            config[section] = {**config[section], **values} \
                if config.has_section(section) else values
        with open(self.config_path, 'w') as f:
            config.write(f)

    def _stop_ssh_masters(self):
        processes.terminate(processes.pids_naming(
            os.path.join(self.workdir, 'builds') + os.sep))

    def _executor_config(self):
        from tests.functional.harness import zuul_ansible
        w = self.workdir
        section = {
            'private_key_file': self.executor.private_key,
            'default_username': self.executor.username,
            'state_dir': os.path.join(w, 'executor-state'),
            'git_dir': os.path.join(w, 'executor-git'),
            'job_dir': os.path.join(w, 'builds'),
            'command_socket': os.path.join(w, 'executor.socket'),
            # The finger log streamer: Zuul binds it to every address
            # ("::"), so at least take a port nobody else uses.
            'finger_port': str(processes.free_port()),
            'manage_ansible': 'false',
            'ansible_root': (self.executor.ansible_root
                             or zuul_ansible.ansible_root()),
            'load_multiplier': LOAD_MULTIPLIER,
            'min_avail_mem': '1',
            'min_avail_hdd': '1',
            # Abort running jobs on SIGTERM instead of waiting for them.
            'sigterm_method': 'stop',
        }
        # Ansible's virtualenvs run the Python they were made from; where
        # that is not under /usr (pyenv, say) bubblewrap must show it.
        if not sys.base_prefix.startswith('/usr'):
            section['trusted_ro_paths'] = sys.base_prefix
            section['untrusted_ro_paths'] = sys.base_prefix
        section.update(self.executor.settings)
        for key in ('state_dir', 'git_dir', 'job_dir'):
            os.makedirs(section[key], exist_ok=True)
        return section

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

    def check_alive(self):
        for name, proc in self.procs.items():
            if proc.poll() is not None:
                raise ZuulError('zuul-%s exited with %s'
                                % (name, proc.returncode))

    def builds(self, tenant, **filters):
        """Finished builds from zuul-web's builds API, newest first."""
        query = urllib.parse.urlencode(sorted(filters.items()))
        return self.get('/tenant/%s/builds%s' % (
            tenant, '?' + query if query else ''))

    def wait_for_build(self, tenant, timeout, known=(), **filters):
        """The first final build (not one Zuul retries) matching
        ``filters`` whose uuid is not in ``known``, as zuul-web reports
        it."""
        deadline = time.monotonic() + timeout
        while True:
            self.check_alive()
            try:
                for build in self.builds(tenant, **filters):
                    # A build Zuul will retry is not the outcome.
                    if (build['uuid'] not in known and build.get('result')
                            and build.get('final')):
                        return build
            except (urllib.error.URLError, OSError, ValueError):
                pass
            if time.monotonic() > deadline:
                raise ZuulError('no finished build for %s within %ss'
                                % (filters, timeout))
            time.sleep(1)

    def wait_for_tenant(self, tenant, timeout=START_TIMEOUT):
        """Wait until zuul-web reports ``tenant`` with its config loaded."""
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            self.check_alive()
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


class ZuulTestCase(testtools.TestCase):
    """A test that starts a TLS ZooKeeper (``self.zookeeper``) and a Zuul
    (``self.zuul``) under ``self.base``; their logs and config are kept
    under functional-logs/ when it fails."""

    def setUp(self):
        super().setUp()
        self.base = self.useFixture(fixtures.TempDir()).path
        self.zookeeper = None
        self.zuul = None
        artefacts.keep_on_failure(self, self._artefacts)

    def start_zuul(self, tenants, git_root, tenant):
        """ZooKeeper and Zuul serving ``tenants`` (the tenant config, as
        data) from the repositories under ``git_root``; returns once
        ``tenant`` is loaded."""
        tenant_config = os.path.join(self.base, 'main.yaml')
        with open(tenant_config, 'w') as f:
            yaml.safe_dump(tenants, f)
        self.zookeeper = self.useFixture(
            zookeeper_mod.TLSZooKeeper(self.base))
        self.zuul = self.useFixture(Zuul(
            os.path.join(self.base, 'zuul'), self.zookeeper,
            tenant_config, git_root))
        self.zuul.wait_for_tenant(tenant)

    def _artefacts(self):
        paths = []
        if self.zookeeper is not None:
            paths.append(self.zookeeper.log_path)
        if self.zuul is not None:
            paths += self.zuul.log_paths + [self.zuul.config_path]
        return paths
