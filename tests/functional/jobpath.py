"""The job path as production runs it, on this machine.

``JobPathStack`` starts a TLS ZooKeeper, a real ``nodepool-launcher``
serving the rendered shipped inventory from test nodes (static_nodes),
and a real Zuul with an executor (zuul_services) on a tenant the test
describes (``TenantRepos``).  A test triggers builds the way a user does,
by pushing to a repository the git connection polls, and reads results
from zuul-web's builds API.

The pieces are separate so that another node provider (zuul-launcher)
can reuse the tenant builder and the Zuul half: ``JobPathStack`` takes a
``nodes`` fixture factory and only needs it to put ready nodes in the
same ZooKeeper.
"""

import os
import subprocess
import sys
import time

import fixtures
import yaml

from tests.functional import gitrepos
from tests.functional import launcher as launcher_mod
from tests.functional import static_nodes
from tests.functional import zookeeper as zookeeper_mod
from tests.functional import zuul_services

LAUNCHER_HOST = 'nl03.opendev.org'
TENANT = 'arm64'
THIS_PROJECT = 'nodepool-aarch64'
SITE_PROJECT = 'site-config'
PUSH_PIPELINE = 'push'
# The git connection's poll interval: how long a push waits to be seen.
POLL_DELAY = 2
NODES_TIMEOUT = 120

# What a site provides and this repository expects: the base job, the
# pipelines this repository's project templates name, and, for the
# tests, a pipeline fed by pushes (the git driver's ref-updated event).
SITE_CONFIG = gitrepos.SITE_PIPELINES + """\
- pipeline:
    name: %(push)s
    manager: independent
    trigger:
      git:
        - event: ref-updated
          ref: ^refs/heads/.*$
- job:
    name: base
    parent: null
    description: The site's base job; nothing Arm64 specific.
    timeout: 1800
""" % {'push': PUSH_PIPELINE}


def run_cli(*args):
    return subprocess.run(
        [sys.executable, '-m', 'nodepool_aarch64.cli'] + list(args),
        capture_output=True, text=True, timeout=120)


class TenantRepos:
    """The repositories and tenant config of one test tenant.

    ``this_repo_files`` replace files of this repository's copy (the
    harness's own mirror list, say); ``projects`` maps further untrusted
    project names to their files.
    """

    def __init__(self, git_root, this_repo_files=None, projects=None):
        self.git_root = git_root
        self.this_repo_files = this_repo_files or {}
        self.projects = projects or {}

    def path(self, project):
        return os.path.join(self.git_root, project)

    def build(self, tenant_config):
        gitrepos.make_repo(self.path(SITE_PROJECT),
                           files={'zuul.d/site.yaml': SITE_CONFIG})
        gitrepos.make_repo(self.path(THIS_PROJECT),
                           trees=('zuul.d', 'playbooks', 'roles'),
                           files=self.this_repo_files)
        required = gitrepos.required_projects(loaded=[THIS_PROJECT])
        for project in required:
            gitrepos.make_repo(self.path(project))
        for project, files in self.projects.items():
            gitrepos.make_repo(self.path(project), files=files)
        with open(tenant_config, 'w') as f:
            yaml.safe_dump([{'tenant': {
                'name': TENANT,
                'source': {'git': {
                    'config-projects': [SITE_PROJECT, THIS_PROJECT],
                    'untrusted-projects': required + sorted(self.projects),
                }},
            }}], f)
        return tenant_config

    def push(self, project, files, message='Update'):
        return gitrepos.push(self.path(project), files, message)


class StaticNodepool(fixtures.Fixture):
    """nodepool-launcher on the rendered inventory, serving ``nodes``.

    ``nodes`` maps provider names to test nodes; ``inventory`` is the
    inventory to render (default: the shipped one).
    """

    def __init__(self, workdir, zookeeper, nodes, inventory=None):
        super().__init__()
        self.workdir = workdir
        self.zookeeper = zookeeper
        self.nodes = nodes
        self.inventory = inventory

    def _setUp(self):
        staging = os.path.join(self.workdir, 'rendered')
        args = ['render', '--output-dir', staging]
        if self.inventory:
            args += ['--inventory', self.inventory]
        result = run_cli(*args)
        if result.returncode != 0:
            raise AssertionError('render failed: %s' % result.stderr)
        with open(os.path.join(staging, 'nodepool',
                               LAUNCHER_HOST + '.yaml')) as f:
            rendered = yaml.safe_load(f)
        config = static_nodes.static_launcher_config(
            rendered, self.zookeeper, self.nodes)
        self.launcher = self.useFixture(launcher_mod.NodepoolLauncher(
            os.path.join(self.workdir, 'launcher'), config,
            static_nodes.clouds_yaml()))
        self.log_paths = [self.launcher.log_path, self.launcher.config_path]


class JobPathStack(fixtures.Fixture):
    """ZooKeeper, a node provider and Zuul with an executor.

    ``tenant`` is a TenantRepos; ``node_provider(workdir, zookeeper)``
    returns the fixture that hands out nodes (StaticNodepool by default
    callers); ``executor`` is a zuul_services.Executor.
    """

    def __init__(self, base, tenant, node_provider, executor):
        super().__init__()
        self.base = base
        self.tenant = tenant
        self.node_provider = node_provider
        self.executor = executor
        self.zookeeper = self.nodes = self.zuul = None

    def _setUp(self):
        self.zookeeper = self.useFixture(
            zookeeper_mod.TLSZooKeeper(self.base))
        tenant_config = self.tenant.build(
            os.path.join(self.base, 'main.yaml'))
        self.nodes = self.useFixture(self.node_provider(
            os.path.join(self.base, 'nodes'), self.zookeeper))
        self.zuul = self.useFixture(zuul_services.Zuul(
            os.path.join(self.base, 'zuul'), self.zookeeper,
            tenant_config, self.tenant.git_root, executor=self.executor,
            git_poll_delay=POLL_DELAY))
        self.zuul.wait_for_tenant(TENANT)

    def log_paths(self):
        paths = []
        if self.zookeeper is not None:
            paths.append(self.zookeeper.log_path)
        if self.nodes is not None:
            paths += getattr(self.nodes, 'log_paths', [])
        if self.zuul is not None:
            paths += self.zuul.log_paths + [self.zuul.config_path]
        return paths

    def config_errors(self):
        return ['%s: %s' % (e.get('source_context'), e.get('error'))
                for e in self.zuul.get('/tenant/%s/config-errors' % TENANT)]

    def wait_for_ready_nodes(self, count, timeout=NODES_TIMEOUT):
        """Wait until zuul-web lists ``count`` ready nodes."""
        deadline = time.monotonic() + timeout
        while True:
            ready = [n for n in self.zuul.get('/tenant/%s/nodes' % TENANT)
                     if n.get('state') == 'ready']
            if len(ready) >= count:
                return ready
            if time.monotonic() > deadline:
                raise zuul_services.ZuulError(
                    'only %d ready nodes after %ss' % (len(ready), timeout))
            time.sleep(1)

    def push_and_wait(self, project, files, timeout, message='Update',
                      **filters):
        """Push ``files`` to ``project``; the first finished build the
        push caused (matching ``filters``), and the seconds it took."""
        known = {b['uuid'] for b in self.zuul.builds(
            TENANT, project=project, limit=100)}
        start = time.monotonic()
        sha = self.tenant.push(project, files, message)
        build = self.zuul.wait_for_build(
            TENANT, timeout, known=known, project=project, **filters)
        if build['ref'].get('newrev') not in (None, sha):
            raise zuul_services.ZuulError(
                'build %s is for %s, not the push %s'
                % (build['uuid'], build['ref'].get('newrev'), sha))
        return build, time.monotonic() - start
