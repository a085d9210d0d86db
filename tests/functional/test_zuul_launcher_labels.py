"""A running zuul-launcher serves the rendered Arm64 labels.

One Zuul stack for the class: TLS ZooKeeper, zuul-merger, -scheduler,
-web and -launcher 14.3, with this project's rendered zuul-launcher
objects in a config project (the harness copy of tests/functional/harness/
zuul_launcher.py: providers on Zuul's static driver, every node the
emulated aarch64 node).  The tests ask the launcher for nodes the way
the scheduler does, read zuul-web's labels and nodes APIs, load a
broken render next to the good one, and put a capacity window in force
with ``capacity apply-zuul-launcher`` while everything keeps running.
"""

import configparser
import json
import os
import shutil
import subprocess
import tempfile
import time

import fixtures
import testtools
import yaml

from nodepool_aarch64.formats.yamltext import dump
from nodepool_aarch64.inventory import load_inventory
from nodepool_aarch64.render import zuul as render_zuul
from tests import base
from tests import windows
from tests.functional.harness import arm64node
from tests.functional.harness import artefacts
from tests.functional.harness import control_history
from tests.functional.harness import gitrepos
from tests.functional.harness import processes
from tests.functional.harness import zookeeper as zookeeper_mod
from tests.functional.harness import zuul_launcher
from tests.functional import test_readiness_zuul_web as readiness_web
from tests.functional.harness import zuul_services
from tests.functional.test_zuul_config_errors import SITE_CONFIG

TENANT = 'arm64'
BROKEN_TENANT = 'broken'
SITE_PROJECT = 'site-config'
LAUNCHER_PROJECT = 'arm64-launcher-config'
CONSUMER_PROJECT = 'arm64-consumer'
BROKEN_PROJECT = 'broken-launcher-config'
LAUNCHER_FILE = 'zuul.d/zuul-launcher.yaml'
# Inside the shipped linaro-cn1-maintenance window, which takes the
# China region from 8 instances to none.
MAINTENANCE = windows.MAINTENANCE
CLOSED_PROVIDER = 'linaro-cn1'
# A label the closed provider offers, and others too.
MOVED_LABEL = 'ubuntu-bionic-arm64'
# Static nodes are registered and key-scanned once the launcher has the
# layout; the emulated sshd is slow to answer a key exchange.
NODES_READY_TIMEOUT = 180
REQUEST_TIMEOUT = 120
# zuul-launcher reports its limits every 30 s; a reload comes after the
# git connection's next poll.
STATS_TIMEOUT = 120
# Ansible runs on the node under qemu-user emulation.
BUILD_TIMEOUT = 420
# What a site adds next to the rendered objects to run a job on a push:
# a pipeline fed by the git driver's ref-updated events.
PUSH_PIPELINE = """\
- pipeline:
    name: arm64-push
    manager: independent
    trigger:
      git:
        - event: ref-updated
"""
# A project that opts a job into Arm64 with one line, as the rendered
# nodesets promise.
CONSUMER_ZUUL = """\
- job:
    name: arm64-uname
    nodeset: ubuntu-bionic-arm64
    run: playbooks/uname.yaml
- project:
    arm64-push:
      jobs:
        - arm64-uname
"""
CONSUMER_PLAYBOOK = """\
- hosts: all
  tasks:
    - name: Ask the node its machine type
      command: uname -m
      register: machine
    - name: The node is an aarch64 host
      assert:
        that: machine.stdout == 'aarch64'
"""


def broken_objects(objects, section_name):
    """``objects`` with one section no longer configuring the image of
    its first label (and only that section's provider kept)."""
    objects = [dict(s) for s in objects if not (
        ('section' in s and s['section']['name'] != section_name
         and not s['section'].get('abstract')) or
        ('provider' in s and s['provider']['section'] != section_name))]
    labels = {s['label']['name']: s['label'] for s in objects
              if 'label' in s}
    for stanza in objects:
        if stanza.get('section', {}).get('name') == section_name:
            section = dict(stanza['section'])
            image = labels[section['labels'][0]['name']]['image']
            section['images'] = [i for i in section['images']
                                 if i['name'] != image]
            stanza['section'] = section
            return objects, image
    raise AssertionError(f'no section {section_name}')


class Stack(fixtures.Fixture):
    """Everything the tests of this module share."""

    def __init__(self, base):
        super().__init__()
        self.base = base

    def _setUp(self):
        self.inv = load_inventory(None)
        self.rendered = render_zuul.launcher_objects(self.inv)
        self.labels = [label.name for label in self.inv.labels]
        self.node = self.useFixture(arm64node.Arm64Node(
            os.path.join(self.base, 'node')))
        extra = self.useFixture(zuul_launcher.ExtraSshPorts(
            self.node, len(self.labels)))
        self.ports = dict(zip(self.labels, extra.ports))
        self.stats = self.useFixture(zuul_launcher.StatsdGauges())
        self.harness = zuul_launcher.static_objects(
            self.rendered, self.node, self.ports)
        self.broken, self.broken_image = broken_objects(
            self.rendered, 'linaro-london')
        self._repos()
        self.zookeeper = self.useFixture(
            zookeeper_mod.TLSZooKeeper(self.base))
        workdir = os.path.join(self.base, 'zuul')
        extra_config = zuul_launcher.launcher_config(
            workdir, self.rendered, self.stats.port)
        # The git driver polls its repositories: a pushed config change
        # reaches the scheduler at the next poll.
        # One executor for every node: those of the China region ask for
        # its executor zone.
        executor = zuul_services.Executor(self.node.private_key, settings={
            'zone': 'linaro-cn1', 'allow_unzoned': 'true'})
        self.zuul = self.useFixture(zuul_services.Zuul(
            workdir, self.zookeeper, self.tenant_config, self.git_root,
            executor=executor, git_poll_delay=2,
            extra_components=('launcher',), extra_config=extra_config))
        self.zuul.wait_for_tenant(TENANT)
        self.zuul.wait_for_tenant(BROKEN_TENANT)
        self.requests = zuul_launcher.NodeRequests(self.zookeeper, TENANT)
        self.addCleanup(self.requests.close)
        # Before any test takes a node: what zuul-web shows once every
        # static node is registered and scanned.
        self.nodes_seen = self._wait_for_ready_nodes()

    def expected_nodes(self):
        """(provider, label) of every static node the harness defines."""
        wanted = set()
        for stanza in self.harness:
            if 'provider' in stanza:
                for node in stanza['provider']['nodes']:
                    wanted.add((stanza['provider']['name'], node['label']))
        return wanted

    def _wait_for_ready_nodes(self):
        deadline = time.monotonic() + NODES_READY_TIMEOUT
        wanted = self.expected_nodes()
        while True:
            nodes = [n for n in self.zuul.get(f'/tenant/{TENANT}/nodes')
                     if 'label' in n]
            # Providers are named by their canonical names there.
            ready = {(n['provider'].rsplit('/', 1)[-1], n['label'])
                     for n in nodes if n['state'] == 'ready'}
            if wanted <= ready or time.monotonic() > deadline:
                return nodes
            time.sleep(1)

    def _repos(self):
        self.git_root = os.path.join(self.base, 'git')
        gitrepos.make_repo(os.path.join(self.git_root, SITE_PROJECT),
                           files={'zuul.d/site.yaml': SITE_CONFIG})
        source = 'inventory linaro.yaml'
        self.launcher_repo = os.path.join(self.git_root, LAUNCHER_PROJECT)
        gitrepos.make_repo(self.launcher_repo, files={
            LAUNCHER_FILE: dump(self.harness, source),
            'zuul.d/nodesets.yaml': dump(
                render_zuul.nodesets(self.inv), source),
            'zuul.d/pipelines.yaml': PUSH_PIPELINE})
        self.consumer_repo = os.path.join(self.git_root, CONSUMER_PROJECT)
        gitrepos.make_repo(self.consumer_repo, files={
            '.zuul.yaml': CONSUMER_ZUUL,
            'playbooks/uname.yaml': CONSUMER_PLAYBOOK})
        # Pushes from an admin's checkout update the served branch.
        gitrepos.git('config', 'receive.denyCurrentBranch',
                     'updateInstead', cwd=self.launcher_repo)
        broken = zuul_launcher.static_objects(self.broken, self.node,
                                              self.ports)
        gitrepos.make_repo(os.path.join(self.git_root, BROKEN_PROJECT),
                           files={LAUNCHER_FILE: dump(broken, source)})
        self.tenant_config = os.path.join(self.base, 'main.yaml')
        with open(self.tenant_config, 'w') as f:
            yaml.safe_dump([
                {'tenant': {'name': TENANT, 'source': {'git': {
                    'config-projects': [SITE_PROJECT, LAUNCHER_PROJECT],
                    'untrusted-projects': [CONSUMER_PROJECT]}}}},
                {'tenant': {'name': BROKEN_TENANT, 'source': {'git': {
                    'config-projects': [SITE_PROJECT, BROKEN_PROJECT]}}}},
            ], f)

    def artefacts(self):
        paths = [self.zookeeper.log_path] if hasattr(
            self, 'zookeeper') else []
        if hasattr(self, 'node'):
            paths += [self.node.log_path,
                      os.path.join(self.node.parent, 'sshd-extra.log')]
        if hasattr(self, 'zuul'):
            paths += self.zuul.log_paths + [self.zuul.config_path]
        return paths


class TestZuulLauncherServesLabels(testtools.TestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # Short: ssh's ControlPath under the executor's job directory
        # must stay within a Unix socket path's 108 bytes.
        cls.base = tempfile.mkdtemp(prefix='zl-')
        cls.stack = Stack(cls.base)
        try:
            cls.stack.setUp()
        except BaseException:
            shutil.rmtree(cls.base, ignore_errors=True)
            raise

    @classmethod
    def tearDownClass(cls):
        cls.stack.cleanUp()
        shutil.rmtree(cls.base, ignore_errors=True)
        super().tearDownClass()

    def setUp(self):
        super().setUp()
        artefacts.keep_on_failure(self, self.stack.artefacts)

    def api(self, path, tenant=TENANT):
        return self.stack.zuul.get(f'/tenant/{tenant}{path}')

    def test_loads_without_configuration_errors(self):
        errors = self.api('/config-errors')
        self.assertEqual([], [e.get('error') for e in errors])
        providers = {p['name']: {label['name'] for label in p['labels']}
                     for p in self.api('/providers')}
        offered = {}
        for stanza in self.stack.rendered:
            if 'section' in stanza and 'labels' in stanza['section']:
                offered[stanza['section']['name']] = {
                    label['name'] for label in stanza['section']['labels']}
        self.assertEqual(offered, providers)

    def test_labels_api_lists_every_rendered_label(self):
        names = [label['name'] for label in self.api('/labels')]
        self.assertEqual(sorted(self.stack.labels), sorted(names))

    def test_nodes_api_shows_static_nodes_ready(self):
        wanted = self.stack.expected_nodes()
        ready = {}
        for node in self.stack.nodes_seen:
            key = (node['provider'].rsplit('/', 1)[-1], node['label'])
            if node['state'] == 'ready':
                ready[key] = node
        self.assertEqual(set(), wanted - set(ready))
        for node in ready.values():
            self.assertEqual(self.stack.node.host, node['interface_ip'])
            self.assertEqual('zuul', node['username'])

    def test_each_label_is_requestable(self):
        requests = self.stack.requests
        made = {label: requests.request([label], f'arm64-{label}')
                for label in self.stack.labels}
        done = requests.wait(list(made.values()), REQUEST_TIMEOUT)
        states = {label: done[r.uuid].state if r.uuid in done else 'pending'
                  for label, r in made.items()}
        self.assertEqual({label: 'fulfilled' for label in made}, states)
        for label, request in made.items():
            [node] = requests.nodes(done[request.uuid])
            self.assertEqual(label, node.label)
            self.assertEqual(self.stack.ports[label], node.connection_port)
            # The node zuul-launcher handed out is the aarch64 host.
            requests.delete(done[request.uuid])
        proc = self.stack.node.ssh('uname -m')
        self.assertEqual('aarch64', proc.stdout.strip())

    def test_unpublished_label_fails_as_unavailable(self):
        requests = self.stack.requests
        request = requests.request(['ubuntu-bionic-x86'], 'x86-job')
        done = requests.wait([request], REQUEST_TIMEOUT)
        self.assertIn(request.uuid, done)
        self.assertEqual('failed', done[request.uuid].state)
        requests.delete(done[request.uuid])
        logs = ''.join(open(p, errors='replace').read()
                       for p in self.stack.zuul.log_paths
                       if p.endswith('zuul-launcher.log'))
        self.assertIn('No provider found for label ubuntu-bionic-x86', logs)

    def test_check_and_zuul_both_reject_a_broken_section(self):
        path = os.path.join(self.base, 'broken-render.yaml')
        with open(path, 'w') as f:
            f.write(dump(self.stack.broken, 'inventory linaro.yaml'))
        code, out, _ = base.run_cli('check', path)
        self.assertEqual(1, code)
        self.assertIn('NPA072', out)
        self.assertIn(f'its image {self.stack.broken_image}', out)
        errors = self.api('/config-errors', tenant=BROKEN_TENANT)
        self.assertTrue(errors)
        self.assertIn(f'Image "{self.stack.broken_image}" is not attached '
                      'to provider',
                      ' '.join(e.get('error', '') for e in errors))

    def provider_of(self, label, preferred):
        """The provider zuul-launcher picks for ``label`` when the request
        prefers ``preferred`` (a canonical name)."""
        requests = self.stack.requests
        request = requests.request([label], 'capacity-probe',
                                   preferred_provider=preferred)
        done = requests.wait([request], REQUEST_TIMEOUT)
        self.assertEqual('fulfilled', done[request.uuid].state)
        [node] = requests.nodes(done[request.uuid])
        requests.delete(done[request.uuid])
        return node.provider

    def test_capacity_window_reaches_the_running_launcher(self):
        stats = self.stack.stats
        gauge = rf'^zuul\.provider\..*{CLOSED_PROVIDER}\.limit\.instances$'
        closed = {p['name']: p['canonical_name']
                  for p in self.api('/providers')}[CLOSED_PROVIDER]
        self.assertEqual(8, stats.wait_for(gauge, lambda v: v == 8,
                                           STATS_TIMEOUT))
        # Open: a request that prefers the provider gets it.
        self.assertEqual(closed, self.provider_of(MOVED_LABEL, closed))
        pids = {n: p.pid for n, p in self.stack.zuul.procs.items()}

        # The admin's side: a checkout of the config project, the
        # window committed and pushed.
        checkout = os.path.join(self.base, 'admin-checkout')
        subprocess.run(['git', 'clone', '-q', self.stack.launcher_repo,
                        checkout], check=True)
        code, out, err = base.run_cli(
            'capacity', 'apply-zuul-launcher', '--checkout', checkout,
            '--at', MAINTENANCE, '--commit')
        self.assertEqual(0, code, err)
        self.assertIn(f'section {CLOSED_PROVIDER} resource-limits.instances:'
                      ' 8 -> 0', out)
        gitrepos.git('push', '-q', 'origin', 'HEAD:master', cwd=checkout)

        # The scheduler reloads the tenant on the pushed commit; the
        # running launcher reports the new limit ...
        self.assertEqual(0, stats.wait_for(gauge, lambda v: v == 0,
                                           STATS_TIMEOUT))
        # ... and enforces it: the closed provider is no candidate for
        # any label, even for a request that prefers it.
        chosen = self.provider_of(MOVED_LABEL, closed)
        self.assertNotEqual(closed, chosen)
        self.assertTrue(chosen.endswith(('/linaro-us', '/linaro-london')),
                        chosen)
        # Nothing was restarted to get there.
        for name, proc in self.stack.zuul.procs.items():
            self.assertIsNone(proc.poll(), name)
            self.assertEqual(pids[name], proc.pid)
        self.assertEqual([], [e.get('error')
                              for e in self.api('/config-errors')])
        for name, proc in self.stack.zuul.procs.items():
            for host, port in processes.listening_addresses(proc.pid):
                self.assertTrue(processes.is_loopback(host),
                                f'zuul-{name} listens on {host}:{port}')

    def served_builds(self, page=500):
        """Every build zuul-web serves for the tenant, page by page."""
        out = []
        while True:
            batch = self.stack.zuul.builds(TENANT, limit=page,
                                           skip=len(out))
            out += batch
            if len(batch) < page:
                return out

    def control_step(self, builds, at, checkout, log):
        code, out, err = base.run_cli(
            'capacity', 'control', '--builds', builds, '--at',
            at.isoformat(), '--audit-log', log, '--max-step', '40',
            '--live', '--zuul-launcher-checkout', checkout)
        self.assertEqual(0, code, out + err)
        return out

    def test_controller_raise_reaches_the_running_launcher(self):
        stats = self.stack.stats
        gauge = r'^zuul\.provider\..*linaro-us\.limit\.instances$'
        before = stats.wait_for(gauge, lambda v: True, STATS_TIMEOUT)
        # A quiet history and then a burst of late gate builds, written
        # as Zuul's SQL reporter writes builds and read back from
        # zuul-web's builds API.
        config = configparser.ConfigParser(interpolation=None)
        config.read(self.stack.zuul.config_path)
        history = control_history.builds(self.stack.inv)
        readiness_web.record(config['database']['dburi'], history)
        recorded = {h['uuid'] for h in history}
        ours = [b for b in self.served_builds() if b['uuid'] in recorded]
        self.assertEqual(len(history), len(ours))
        builds = os.path.join(self.base, 'served-builds.json')
        with open(builds, 'w') as f:
            json.dump(ours, f)

        checkout = os.path.join(self.base, 'controller-checkout')
        subprocess.run(['git', 'clone', '-q', self.stack.launcher_repo,
                        checkout], check=True)
        log = os.path.join(self.base, 'control-audit.jsonl')
        start = gitrepos.git('rev-parse', 'HEAD', cwd=checkout).strip()

        # The quiet hour: the controller sizes to the forecast.
        self.control_step(builds, control_history.QUIET_AT, checkout, log)
        gitrepos.git('push', '-q', 'origin', 'HEAD:master', cwd=checkout)
        with open(log) as f:
            [quiet] = [json.loads(line) for line in f]
        self.assertEqual('zuul-launcher committed', quiet['applied'])
        self.assertEqual(1.0, quiet['budget-left'])
        quiet_us = quiet['max-servers']['linaro-us']
        self.assertEqual(quiet_us, stats.wait_for(
            gauge, lambda v: v == quiet_us, STATS_TIMEOUT))

        # An hour later the burst has burnt the budget: it raises.
        out = self.control_step(builds, control_history.BURST_AT, checkout,
                                log)
        gitrepos.git('push', '-q', 'origin', 'HEAD:master', cwd=checkout)
        with open(log) as f:
            lines = [json.loads(line) for line in f]
        burst = lines[-1]
        self.assertEqual('raise', burst['action'], out)
        self.assertGreater(burst['burn'], 1.0)
        self.assertLess(burst['budget-left'], quiet['budget-left'])
        self.assertEqual(quiet['max-servers'],
                         burst['previous']['max-servers'])
        burst_us = burst['max-servers']['linaro-us']
        self.assertGreater(burst_us, quiet_us)
        self.assertEqual(burst_us, stats.wait_for(
            gauge, lambda v: v == burst_us, STATS_TIMEOUT))
        self.assertEqual([], [e.get('error')
                              for e in self.api('/config-errors')])

        # A restart at the same instant repeats nothing.
        head = gitrepos.git('rev-parse', 'HEAD', cwd=checkout)
        out = self.control_step(builds, control_history.BURST_AT, checkout,
                                log)
        self.assertIn('holding', out)
        self.assertEqual(head, gitrepos.git('rev-parse', 'HEAD',
                                            cwd=checkout))
        with open(log) as f:
            self.assertEqual(2, len(f.readlines()))

        # Leave the launcher as the other tests expect it.
        gitrepos.git('revert', '--no-edit', f'{start}..HEAD', cwd=checkout)
        gitrepos.git('push', '-q', 'origin', 'HEAD:master', cwd=checkout)
        self.assertEqual(before, stats.wait_for(
            gauge, lambda v: v == before, STATS_TIMEOUT))

    def test_job_gets_its_arm64_node_from_zuul_launcher(self):
        gitrepos.push(self.stack.consumer_repo,
                      {'README': 'Trigger the Arm64 job\n'})
        build = self.stack.zuul.wait_for_build(
            TENANT, BUILD_TIMEOUT, job_name='arm64-uname')
        self.assertEqual('SUCCESS', build['result'], build)
        self.assertEqual('ubuntu-bionic-arm64', build['nodeset'])
        # The scheduler asked zuul-launcher (there is no Nodepool here).
        with open(os.path.join(self.base, 'zuul',
                               'zuul-scheduler.log')) as f:
            self.assertIn('Submitted nodeset request', f.read())
