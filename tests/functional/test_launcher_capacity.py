"""Capacity changes reach a running launcher; broken ones never do.

Capacity is changed the way a site changes it at peak time:
``nodepool-aarch64 capacity apply --at TIME`` writes the launcher config
for the windows of the shipped inventory active at TIME, and the running
launcher (same process throughout) must act on it.  Broken inventories
go through the same path and must change nothing the launcher reads.
"""

import os
import time

import testtools
from nodepool.zk import zookeeper as zk

from nodepool_aarch64.inventory import load_inventory
from tests.functional.harness import deployment

# Instants of the shipped inventory's capacity windows (UTC).
QUIET = '2026-12-01T08:00Z'         # Tuesday morning: no window
PEAK = '2026-12-01T14:00Z'          # weekday-peak: linaro-us 40,
#                                     ubuntu-bionic-arm64 min-ready 1
MAINTENANCE = '2026-12-05T01:00Z'   # linaro-cn1-maintenance: max-servers 0
AFTER = '2026-12-05T09:00Z'         # Saturday after it: no window

CHINA = 'linaro-cn1'
LABEL = 'ubuntu-xenial-arm64'
WARM_LABEL = 'ubuntu-bionic-arm64'
TIMEOUT = 90


def _max_servers(config, provider):
    for p in config['providers']:
        if p['name'] == provider:
            return sum(pool['max-servers'] for pool in p['pools'])
    raise KeyError(provider)


def _min_ready(config, label):
    for entry in config['labels']:
        if entry['name'] == label:
            return entry.get('min-ready', 0)
    raise KeyError(label)


def _file_state(path):
    st = os.stat(path)
    with open(path, 'rb') as f:
        return (st.st_ino, st.st_mtime_ns, f.read())


class LauncherCase(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.dep = self.useFixture(
            deployment.LauncherDeployment(self, at=QUIET))
        self.requestor = self.dep.requestor
        self.pid = self.dep.launcher.proc.pid

    def request_node(self, label, provider=None):
        """A fulfilled request's node, accepted (locked, in use)."""
        request = self.requestor.submit([label], provider=provider)
        done = self.requestor.wait(request, timeout=TIMEOUT)
        self.assertEqual(zk.FULFILLED, done.state, label)
        [node] = self.requestor.accept(done)
        self.addCleanup(self._release, node)
        return done, node

    def _release(self, node):
        if self.dep.launcher.alive():
            self.requestor.release([node])

    def apply(self, at, inventory=None):
        offset = self.dep.launcher.log_size()
        result, changed = self.dep.apply_capacity(at, inventory)
        return result, changed, offset

    def assertSameLauncher(self):
        self.assertTrue(self.dep.launcher.alive(), 'the launcher exited')
        self.assertEqual(self.pid, self.dep.launcher.proc.pid)


class TestCapacityChanges(LauncherCase):

    def _reloaded(self, provider, offset):
        """Wait for the launcher to rebuild ``provider`` from the file."""
        self.dep.launcher.wait_for_log(
            'Creating new ProviderManager object for %s' % provider,
            timeout=30, after=offset)

    def test_capacity_windows_reach_the_running_launcher(self):
        rendered = deployment.load_yaml(self.dep.staged_config)
        self.assertEqual(8, _max_servers(rendered, CHINA))
        self.assertEqual(0, _min_ready(rendered, WARM_LABEL))
        # Baseline: the China region serves a request that prefers it.
        _, held = self.request_node(LABEL, provider=CHINA)
        self.assertEqual(CHINA, held.provider)

        # Peak: more servers in the US and one warm Bionic node.
        result, changed, offset = self.apply(PEAK)
        self.assertEqual(0, result.returncode, result.stderr)
        self.assertTrue(changed)
        staged = deployment.load_yaml(self.dep.staged_config)
        self.assertEqual(40, _max_servers(staged, 'linaro-us'))
        self.assertEqual(1, _min_ready(staged, WARM_LABEL))
        self._reloaded('linaro-us', offset)
        self.requestor.wait_until(
            lambda: any(n.type == [WARM_LABEL] and n.state == zk.READY
                        and n.allocated_to is None
                        for n in self.requestor.nodes()),
            TIMEOUT, 'no min-ready %s node at peak' % WARM_LABEL)
        self.assertSameLauncher()

        # Maintenance: the China region takes no new nodes, the rest of
        # the fleet serves requests that prefer it, and the node already
        # in use there is left alone.
        result, changed, offset = self.apply(MAINTENANCE)
        self.assertEqual(0, result.returncode, result.stderr)
        self.assertTrue(changed)
        self.assertEqual(0, _max_servers(
            deployment.load_yaml(self.dep.staged_config), CHINA))
        self._reloaded(CHINA, offset)
        done, node = self.request_node(LABEL, provider=CHINA)
        self.assertNotEqual(CHINA, node.provider)
        self.assertTrue(
            any('PoolWorker.%s-' % CHINA in pool_id
                for pool_id in done.declined_by),
            'declined by %s' % done.declined_by)
        current = self.requestor.zk.getNode(held.id)
        self.assertEqual(zk.IN_USE, current.state)
        self.assertSameLauncher()

        # After maintenance the China region serves again.
        result, changed, offset = self.apply(AFTER)
        self.assertEqual(0, result.returncode, result.stderr)
        self.assertTrue(changed)
        self.assertEqual(8, _max_servers(
            deployment.load_yaml(self.dep.staged_config), CHINA))
        self._reloaded(CHINA, offset)
        _, node = self.request_node(LABEL, provider=CHINA)
        self.assertEqual(CHINA, node.provider)
        self.assertSameLauncher()


class TestBrokenCapacityChange(LauncherCase):

    def _broken_inventories(self):
        """(description, inventory text) that must be refused."""
        with open(load_inventory().path) as f:
            shipped = f.read()
        cut = '        linaro-cn1: 0\n'
        self.assertIn(cut, shipped)
        return [
            ('negative max-servers in the maintenance window',
             shipped.replace(cut, '        linaro-cn1: -1\n')),
            ('a file cut short in the middle of a mapping',
             shipped[:shipped.index(cut)] + '        linaro-cn1: [0\n'),
        ]

    def test_broken_config_never_reaches_the_launcher(self):
        launcher_file = self.dep.launcher.config_path
        staged_before = _file_state(self.dep.staged_config)
        launcher_before = _file_state(launcher_file)
        offset = self.dep.launcher.log_size()

        for number, (what, text) in enumerate(self._broken_inventories()):
            path = os.path.join(self.dep.base, 'broken-%d.yaml' % number)
            with open(path, 'w') as f:
                f.write(text)
            result, changed, _ = self.apply(MAINTENANCE, inventory=path)
            self.assertEqual(2, result.returncode,
                             '%s: %s' % (what, result.stderr))
            lines = result.stderr.strip().splitlines()
            self.assertEqual(1, len(lines), '%s: %s' % (what, lines))
            self.assertIn(path, lines[0])
            self.assertNotIn('Traceback', result.stderr)
            self.assertFalse(changed, what)
            self.assertEqual(staged_before,
                             _file_state(self.dep.staged_config), what)
            self.assertEqual(launcher_before, _file_state(launcher_file),
                             what)

        # Two passes of the launcher's main loop (one second each): a
        # changed file would have been read by now.
        time.sleep(2.5)
        log = self.dep.launcher.log_text(offset)
        self.assertNotIn('Exception in main loop', log)
        self.assertNotIn('Creating new ProviderManager object', log)
        self.assertSameLauncher()
        # The launcher still serves, with the capacity it had: the China
        # region was never switched off.
        _, node = self.request_node(LABEL, provider=CHINA)
        self.assertEqual(CHINA, node.provider)
        self.assertEqual(8, _max_servers(
            deployment.load_yaml(self.dep.staged_config), CHINA))
