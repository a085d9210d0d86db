"""Ask the launcher for nodes through ZooKeeper, the way Zuul does.

Uses Nodepool's own ZooKeeper API (``nodepool.zk``) and follows Zuul's
protocol: submit a node request, wait until it is fulfilled or failed,
lock the nodes it names (checking ``allocated_to``), mark them in use and
delete the request; when the "job" is over, mark the nodes used and
unlock them, after which the launcher deletes them.
"""

import time

import fixtures
from nodepool.zk import ZooKeeperClient
from nodepool.zk import components
from nodepool.zk import zookeeper as zk


class RequestTimeout(Exception):
    pass


class Requestor(fixtures.Fixture):

    def __init__(self, zookeeper, name='functional-test'):
        super().__init__()
        self.zookeeper = zookeeper
        self.name = name

    def _setUp(self):
        self.client = ZooKeeperClient(
            self.zookeeper.hosts, tls_cert=self.zookeeper.cert,
            tls_key=self.zookeeper.key, tls_ca=self.zookeeper.ca)
        self.client.connect()
        self.addCleanup(self.client.disconnect)
        # Nodepool keeps one process-wide component registry bound to the
        # first client; a later test would read an earlier ZooKeeper's
        # launchers and pools from it.
        components.COMPONENT_REGISTRY.clearRegistry()
        self.addCleanup(components.COMPONENT_REGISTRY.clearRegistry)
        # No caches: every read goes to ZooKeeper, so what the tests see
        # is what the launcher has written, not a lagging copy.
        self.zk = zk.ZooKeeper(self.client, enable_cache=False)

    def submit(self, labels, priority='100', provider=None, reuse=False):
        """Store a request for ``labels``.

        ``provider`` is the preference Zuul sets to keep related nodes in
        one cloud; the launcher's other providers yield to it.  With
        ``reuse`` the launcher may hand out nodes that are already ready.
        """
        request = zk.NodeRequest()
        request.state = zk.REQUESTED
        request.node_types = list(labels)
        request.requestor = self.name
        request.provider = provider
        request.reuse = reuse
        request.created_time = time.time()
        self.zk.storeNodeRequest(request, priority=priority)
        return request

    @staticmethod
    def fulfilled_after(request):
        """Seconds from submission to the launcher's final write.

        Both times are ZooKeeper's own (creation and last modification
        of the request node), so polling delays do not count.
        """
        return (request.stat.mtime - request.stat.ctime) / 1000.0

    @staticmethod
    def wait_until(predicate, timeout, message):
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise RequestTimeout('%s within %ss' % (message, timeout))
            time.sleep(0.2)

    def refresh(self, request):
        """The request as stored now, or None once it is gone."""
        return self.zk.getNodeRequest(request.id)

    def wait(self, request, timeout=60):
        """Wait for FULFILLED or FAILED; returns the request as stored."""
        deadline = time.monotonic() + timeout
        while True:
            current = self.refresh(request)
            if current is None:
                raise RequestTimeout('request %s vanished' % request.id)
            if current.state in (zk.FULFILLED, zk.FAILED):
                return current
            if time.monotonic() > deadline:
                raise RequestTimeout(
                    'request %s for %s still %s after %ss'
                    % (request.id, request.node_types, current.state,
                       timeout))
            time.sleep(0.1)

    def accept(self, request):
        """Lock the request's nodes, mark them in use, drop the request."""
        nodes = []
        try:
            for node_id in request.nodes:
                node = self.zk.getNode(node_id)
                if node is None or node.allocated_to != request.id:
                    raise AssertionError(
                        'node %s is not allocated to %s' %
                        (node_id, request.id))
                self.zk.lockNode(node, timeout=30)
                nodes.append(node)
                if node.allocated_to != request.id:
                    raise AssertionError(
                        'node %s was reallocated while locking' % node_id)
            for node in nodes:
                node.state = zk.IN_USE
                node.user_data = {'requestor': self.name}
                self.zk.storeNode(node)
        except Exception:
            for node in nodes:
                self.zk.unlockNode(node)
            raise
        finally:
            self.zk.deleteNodeRequest(request)
        return nodes

    def release(self, nodes):
        """Hand nodes back: USED and unlocked, for the launcher to delete."""
        for node in nodes:
            node.state = zk.USED
            self.zk.storeNode(node)
            self.zk.unlockNode(node)

    def nodes(self):
        """Every node the launcher has recorded, in any state."""
        found = []
        for node_id in self.zk.getNodes():
            node = self.zk.getNode(node_id)
            if node is not None:
                found.append(node)
        return found
