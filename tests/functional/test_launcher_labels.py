"""Every published Arm64 label, served by a real nodepool-launcher.

The shipped inventory is rendered by the CLI, switched to Nodepool's fake
cloud by the harness, and served by the real launcher on a TLS
ZooKeeper.  Requests go through ZooKeeper as Zuul sends them.
"""

import testtools
from nodepool.zk import zookeeper as zk

from nodepool_aarch64.inventory import load_inventory
from tests.functional.harness import benchmark
from tests.functional.harness import deployment
from tests.functional.harness import processes

FULFIL_TIMEOUT = 90


class TestEveryLabel(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.dep = self.useFixture(deployment.LauncherDeployment(self))

    def _serving_pools(self):
        """(label, provider, pool dict, provider dict) as rendered."""
        for provider in self.dep.rendered['providers']:
            for pool in provider['pools']:
                for label in pool['labels']:
                    yield label['name'], provider, pool

    def test_every_label_from_every_provider_that_serves_it(self):
        published = {label.name for label in load_inventory().labels}
        rendered = {label['name'] for label in self.dep.rendered['labels']}
        self.assertEqual(published, rendered)

        requestor = self.dep.requestor
        pending = []
        for label, provider, pool in self._serving_pools():
            # Zuul sets a provider preference to keep a buildset in one
            # cloud; here it makes every (label, provider) pair run.
            request = requestor.submit([label], provider=provider['name'])
            pending.append((request, label, provider, pool))
        self.assertEqual(published, {p[1] for p in pending})

        latencies = {}
        accepted = []
        for request, label, provider, pool in pending:
            done = requestor.wait(request, timeout=FULFIL_TIMEOUT)
            elapsed = requestor.fulfilled_after(done)
            self.assertEqual(zk.FULFILLED, done.state,
                             '%s from %s' % (label, provider['name']))
            self.assertEqual(1, len(done.nodes))
            latencies.setdefault(label, []).append(elapsed)
            nodes = requestor.accept(done)
            node = nodes[0]
            where = '%s from %s' % (label, provider['name'])
            self.assertEqual([label], node.type, where)
            self.assertEqual(provider['name'], node.provider, where)
            self.assertEqual(pool['name'], node.pool, where)
            self.assertEqual(provider['region-name'], node.region, where)
            self.assertEqual(provider['cloud'], node.cloud, where)
            self.assertEqual(pool.get('node-attributes'), node.attributes,
                             where)
            accepted.append(node)

        # The China region's nodes carry the executor zone that keeps
        # them driven from inside the region.
        zones = {n.provider: (n.attributes or {}).get('executor-zone')
                 for n in accepted}
        self.assertEqual('linaro-cn1', zones['linaro-cn1'])
        self.assertIsNone(zones['linaro-us'])
        self.assertIsNone(zones['linaro-london'])

        for node in accepted:
            self.assertEqual(zk.IN_USE, requestor.zk.getNode(node.id).state)
        requestor.release(accepted)
        requestor.wait_until(
            lambda: not requestor.nodes(), FULFIL_TIMEOUT,
            'returned nodes were not deleted by the launcher')

        benchmark.record_label_latencies(latencies)
        self._assert_loopback_only()

    def _assert_loopback_only(self):
        """Nothing the test started listens beyond 127.0.0.1."""
        zookeeper = self.dep.zookeeper
        for name, pid in (('zookeeper', zookeeper.proc.pid),
                          ('launcher', self.dep.launcher.proc.pid)):
            for host, port in processes.listening_addresses(pid):
                self.assertTrue(processes.is_loopback(host),
                                '%s listens on %s:%d' % (name, host, port))
        self.assertIn(zookeeper.port,
                      [port for _, port in processes.listening_addresses(
                          zookeeper.proc.pid)])
