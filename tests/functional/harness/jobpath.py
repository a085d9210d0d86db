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
import shutil
import sys
import time

import fixtures
import testtools
import yaml

from nodepool_aarch64.render import REGION_MIRRORS
from tests import base
from tests.functional.harness import artefacts
from tests.functional.harness import gitrepos
from tests.functional.harness import launcher as launcher_mod
from tests.functional.harness import processes
from tests.functional.harness import static_nodes
from tests.functional.harness import zookeeper as zookeeper_mod
from tests.functional.harness import zuul_services

LAUNCHER_HOST = 'nl03.opendev.org'
TENANT = 'arm64'
THIS_PROJECT = 'nodepool-aarch64'
SITE_PROJECT = 'site-config'
PUSH_PIPELINE = 'push'
# The git connection's poll interval: how long a push waits to be seen.
POLL_DELAY = 2
NODES_TIMEOUT = 120
SHIPPED_INVENTORY = os.path.join(gitrepos.REPO, 'nodepool_aarch64', 'data',
                                 'linaro.yaml')

# What a site provides and this repository expects: the base job, the
# pipelines this repository's project templates name, and, for the
# tests, a pipeline fed by pushes (the git driver's ref-updated event).
SITE_CONFIG = gitrepos.SITE_PIPELINES.replace('%', '%%') + """\
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
%(base_pre_run)s"""

# What a site's base job does before any job's own pre-run (OpenDev's
# runs prepare-workspace): the projects' checkouts, as the executor
# prepared them, under ~/src on the node.  A trusted playbook, so it
# may pack them on the executor.
PREPARE_WORKSPACE = """\
- name: Put the projects' checkouts on the node
  hosts: all
  tasks:
    - name: Pack the executor's checkouts
      delegate_to: localhost
      run_once: true
      ansible.builtin.command: >-
        tar -czf {{ zuul.executor.work_root }}/src.tar.gz
        -C {{ zuul.executor.src_root }} .

    - name: Make the source directory
      ansible.builtin.file:
        path: "{{ ansible_user_dir }}/src"
        state: directory
        mode: "0755"

    - name: Unpack the checkouts on the node
      ansible.builtin.unarchive:
        src: "{{ zuul.executor.work_root }}/src.tar.gz"
        dest: "{{ ansible_user_dir }}/src"
"""
PREPARE_WORKSPACE_PATH = 'playbooks/base/prepare-workspace.yaml'


def site_config(prepare_workspace=False):
    """The site's zuul.d text; ``prepare_workspace`` gives the base job
    the pre-run that puts the projects' checkouts on the node."""
    pre_run = ('    pre-run: %s\n' % PREPARE_WORKSPACE_PATH
               if prepare_workspace else '')
    return SITE_CONFIG % {'push': PUSH_PIPELINE, 'base_pre_run': pre_run}


run_cli = base.run_cli_process


class TenantRepos:
    """The repositories and tenant config of one test tenant.

    ``this_repo_files`` replace files of this repository's copy (the
    harness's own mirror list, say); ``projects`` maps further untrusted
    project names to their files, or to a function that makes the
    repository at the path it is given (a project a job requires may be
    one of them: it is then made that way, not empty).
    ``site_files`` are added to the site's config project (a project
    stanza for a required project, say); ``prepare_workspace`` gives the
    site's base job the pre-run that puts the checkouts on the node;
    ``tenant_settings`` maps an untrusted project to its settings in the
    tenant config (``{'exclude': ['project']}``, say).
    """

    def __init__(self, git_root, this_repo_files=None, projects=None,
                 site_files=None, prepare_workspace=False,
                 tenant_settings=None):
        self.git_root = git_root
        self.this_repo_files = this_repo_files or {}
        self.projects = projects or {}
        self.site_files = dict(site_files or {})
        self.prepare_workspace = prepare_workspace
        self.tenant_settings = tenant_settings or {}

    def path(self, project):
        return os.path.join(self.git_root, project)

    def _site_files(self):
        files = {'zuul.d/site.yaml': site_config(self.prepare_workspace)}
        if self.prepare_workspace:
            files[PREPARE_WORKSPACE_PATH] = PREPARE_WORKSPACE
        files.update(self.site_files)
        return files

    def build(self, tenant_config):
        gitrepos.make_repo(self.path(SITE_PROJECT), files=self._site_files())
        gitrepos.make_repo(self.path(THIS_PROJECT),
                           # The Kolla build job runs kolla-images
                           # from this project's checkout.
                           trees=('zuul.d', 'playbooks', 'roles',
                                  'nodepool_aarch64'),
                           files=self.this_repo_files)
        required = gitrepos.required_projects(loaded=[THIS_PROJECT])
        for project in required:
            if project not in self.projects:
                gitrepos.make_repo(self.path(project))
        for project, files in self.projects.items():
            if callable(files):
                os.makedirs(os.path.dirname(self.path(project)),
                            exist_ok=True)
                files(self.path(project))
            else:
                gitrepos.make_repo(self.path(project), files=files)
        with open(tenant_config, 'w') as f:
            yaml.safe_dump([{'tenant': {
                'name': TENANT,
                'source': {'git': {
                    'config-projects': [SITE_PROJECT, THIS_PROJECT],
                    'untrusted-projects': [
                        {p: self.tenant_settings[p]}
                        if p in self.tenant_settings else p
                        for p in required + sorted(
                            set(self.projects) - set(required))],
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
    returns the fixture that hands out nodes (StaticNodepool, or
    zuul_launcher.LauncherComponent, whose ``zuul_components`` and
    ``zuul_config`` make zuul-launcher one of Zuul's components);
    ``executor`` is a zuul_services.Executor.
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
            git_poll_delay=POLL_DELAY,
            extra_components=getattr(self.nodes, 'zuul_components', ()),
            extra_config=getattr(self.nodes, 'zuul_config', None)))
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
        """zuul-web's configuration errors of the tenant."""
        return self.zuul.get('/tenant/%s/config-errors' % TENANT)

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


class ChinaNodeFixture(fixtures.Fixture):
    """Base of a class's fixture: one emulated node served as the China
    region's (linaro-cn1) only node, and the stack driving it.

    Subclasses set ``self.base`` and ``self.node`` and call
    ``start_stack``.
    """

    PROVIDER = 'linaro-cn1'
    # More [executor] settings for this kind of node.
    EXECUTOR_SETTINGS = {}
    node = stack = None

    def executor(self):
        """The executor of the China region's zone."""
        return zuul_services.Executor(
            self.node.private_key,
            # The China region's nodes carry executor-zone linaro-cn1:
            # only an executor of that zone takes them.  It takes
            # nothing else, so a build runs only if the rendered
            # attribute reached the node.
            settings=dict(self.EXECUTOR_SETTINGS, zone=self.PROVIDER,
                          allow_unzoned='false'))

    def start_stack(self, tenant, inventory, node_provider=None):
        """The stack, with Nodepool's static driver serving the node on
        the rendered ``inventory`` unless ``node_provider`` is given."""
        self.stack = self.useFixture(JobPathStack(
            self.base, tenant,
            node_provider or (lambda workdir, zk: StaticNodepool(
                workdir, zk, {self.PROVIDER: [self.node]},
                inventory=inventory)),
            self.executor()))
        return self.stack

    def log_paths(self):
        paths = [self.node and self.node.log_path]
        if self.stack is not None:
            paths += self.stack.log_paths()
        return paths


def harness_inventory(path, mirrors):
    """The shipped inventory with each provider's ``mirror`` replaced
    (``mirrors``: provider name to URL), written to ``path``."""
    with open(SHIPPED_INVENTORY) as f:
        inv = yaml.safe_load(f)
    for provider in inv['providers']:
        provider['mirror'] = mirrors[provider['name']]
    with open(path, 'w') as f:
        yaml.safe_dump(inv, f, sort_keys=False)
    return path


def rendered_mirror_list(inventory, workdir):
    """The role's mirror list as ``render`` writes it for ``inventory``."""
    result = run_cli('render', '--inventory', inventory,
                     '--output-dir', workdir)
    if result.returncode != 0:
        raise AssertionError('render failed: %s' % result.stderr)
    with open(os.path.join(workdir, REGION_MIRRORS)) as f:
        return f.read()


class ClassStackTestCase(testtools.TestCase):
    """Tests sharing one ``fixture_class`` fixture, set up once per class.

    Starting a stack and building an emulated job is what costs, so the
    tests of a class share both.  The fixture has ``base`` (its
    directory) and ``log_paths()``; its logs are kept under
    functional-logs/ when setting up or a test fails, and no process
    naming its directory may outlive it.
    """

    fixture_class = None
    fixture = None

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        fixture = cls.fixture_class()
        try:
            fixture.setUp()
        except Exception:
            cls._save_setup_logs(fixture)
            raise
        cls.fixture = fixture

    @classmethod
    def _save_setup_logs(cls, fixture):
        target = os.path.join(artefacts.ARTEFACT_ROOT, cls.__module__
                              + '.' + cls.__name__ + '.setUpClass')
        os.makedirs(target, exist_ok=True)
        for path in fixture.log_paths() if hasattr(fixture, 'base') else []:
            if path and os.path.exists(path):
                shutil.copy2(path, target)
        print('job path logs kept in %s' % target, file=sys.stderr)

    @classmethod
    def tearDownClass(cls):
        if cls.fixture is not None:
            base = cls.fixture.base
            cls.fixture.cleanUp()
            left = processes.pids_naming(base + os.sep)
            if left:
                raise processes.ProcessLeak(
                    'processes left behind: %s' % left)
        super().tearDownClass()

    def setUp(self):
        super().setUp()
        self.f = self.fixture
        artefacts.keep_on_failure(self, self.f.log_paths)
        self.assertEqual([], [
            '%s: %s' % (e.get('source_context'), e.get('error'))
            for e in self.unexpected_config_errors(
                self.f.stack.config_errors())])

    def unexpected_config_errors(self, errors):
        """Of zuul-web's configuration ``errors``, those the tenant must
        not have: all of them, unless a class loads a consumer's own
        configuration that refers to more than the tenant holds."""
        return errors
