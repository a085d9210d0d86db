"""Two real nodepool-launchers on one TLS ZooKeeper, and the loss of one.

Each launcher host the shipped inventory names gets the file ``render``
writes for it, switched to Nodepool's fake cloud (``fake_cloud``) and
given a short ZooKeeper session timeout, so a launcher killed with
SIGKILL is declared dead by ZooKeeper within seconds rather than
Nodepool's default ten.  A Zuul-like requestor then sends a burst of
node requests and one launcher is killed while it holds some of them.

Shared by ``test_launcher_failover`` (which asserts) and
``benchmarks/launcher_failover.py`` (which prints the times).
"""

import collections
import itertools
import os
import re
import signal
import sys
import time

import fixtures
from kazoo import exceptions as kze
from nodepool.zk import zookeeper as zk

from nodepool_aarch64.inventory import load_inventory
from tests.functional.harness import artefacts
from tests.functional.harness import deployment
from tests.functional.harness import fake_cloud
from tests.functional.harness import launcher as launcher_mod
from tests.functional.harness import requestor as requestor_mod
from tests.functional.harness import zookeeper as zookeeper_mod

# Seconds.  Nodepool's default is 10; short, so the test ends soon after
# the kill, and long enough that a busy 2-core machine does not lose a
# live launcher's session.
SESSION_TIMEOUT = 4.0
READY_TIMEOUT = 90
# The survivor resets a dead launcher's requests in its cleanup worker,
# which Nodepool runs every 60 s, and its pool workers have been seen to
# take some of them only after the next pass (their request cache still
# said "pending"): two passes were about 125 s here.  Allow a third.
BURST_TIMEOUT = 300
CLEANUP_TIMEOUT = 90
_ACCEPTED = re.compile(r'\[node_request: ([0-9-]+)\] Accepting node request')
_FULFILLED = re.compile(r'\[node_request: ([0-9-]+)\] Fulfilled node request')


class FailoverError(Exception):
    pass


def requests_in_log(launcher, pattern):
    return set(pattern.findall(launcher.log_text()))


class TwoLaunchers(fixtures.Fixture):
    """ZooKeeper, one nodepool-launcher per inventory launcher host and a
    requestor.  ``test`` (optional) keeps the logs if it fails."""

    def __init__(self, test=None):
        super().__init__()
        self.test = test

    def _setUp(self):
        self.base = self.useFixture(fixtures.TempDir()).path
        self.staging = os.path.join(self.base, 'rendered')
        self.zookeeper = None
        self.launchers = {}
        save = None
        if self.test is not None:
            save = artefacts.keep_on_failure(self.test, self._artefacts)
        try:
            self._start()
        except Exception:
            if save is not None:
                save(sys.exc_info())
            raise

    def _start(self):
        self.zookeeper = self.useFixture(
            zookeeper_mod.TLSZooKeeper(self.base))
        result = deployment.run_cli('render', '--output-dir', self.staging)
        if result.returncode != 0:
            raise FailoverError('render failed: %s' % result.stderr)
        self.hosts = load_inventory().launchers
        if len(self.hosts) < 2:
            raise FailoverError('the shipped inventory names %d launcher '
                                'host(s); failover needs two' %
                                len(self.hosts))
        self.rendered = {}
        for host in self.hosts:
            rendered = deployment.load_yaml(
                os.path.join(self.staging, 'nodepool', host + '.yaml'))
            self.rendered[host] = rendered
            fake = fake_cloud.fake_launcher_config(rendered, self.zookeeper)
            fake['zookeeper-timeout'] = SESSION_TIMEOUT
            self.launchers[host] = self.useFixture(
                launcher_mod.NodepoolLauncher(
                    os.path.join(self.base, host), fake,
                    fake_cloud.clouds_yaml(fake)))
        self.requestor = self.useFixture(
            requestor_mod.Requestor(self.zookeeper))
        self.wait_for_pools()

    def _artefacts(self):
        paths = []
        if self.zookeeper is not None:
            paths += [self.zookeeper.log_path, self.zookeeper.config_path]
        for host, launcher in self.launchers.items():
            # Both launchers name their files alike: keep each host's
            # directory whole.
            paths.append(launcher.workdir)
        return paths

    def pools(self):
        """(provider, pool) -> how many launchers registered it."""
        return collections.Counter(
            (p.provider_name, p.name)
            for p in self.requestor.zk.getRegisteredPools())

    def wait_for_pools(self):
        """Wait until every launcher registered each of its pools."""
        wanted = collections.Counter(
            (provider, pool) for rendered in self.rendered.values()
            for provider, by_pool in fake_cloud.max_servers(rendered).items()
            for pool in by_pool)
        deadline = time.monotonic() + READY_TIMEOUT
        while self.pools() != wanted:
            for host, launcher in self.launchers.items():
                if not launcher.alive():
                    raise launcher_mod.LauncherError(
                        'nodepool-launcher of %s exited with %s'
                        % (host, launcher.proc.returncode))
            if time.monotonic() > deadline:
                raise launcher_mod.LauncherError(
                    'pools registered %s, wanted %s within %ss'
                    % (dict(self.pools()), dict(wanted), READY_TIMEOUT))
            time.sleep(0.2)

    def labels_everywhere(self):
        """Labels that every launcher serves, sorted."""
        served = [set(fake_cloud.pool_labels(r))
                  for r in self.rendered.values()]
        return sorted(set.intersection(*served))

    def kill(self, host):
        """SIGKILL a launcher's whole process group; returns the time."""
        launcher = self.launchers[host]
        killed_at = time.time()
        os.killpg(launcher.proc.pid, signal.SIGKILL)
        launcher.proc.wait(timeout=30)
        return killed_at

    def held_locks(self):
        """Paths of node and request locks somebody holds."""
        client = self.requestor.zk.kazoo_client
        held = []
        for root in (zk.ZooKeeper.REQUEST_LOCK_ROOT,):
            for child in _children(client, root):
                path = '%s/%s' % (root, child)
                if _children(client, path):
                    held.append(path)
        for node_id in _children(client, zk.ZooKeeper.NODE_ROOT):
            path = '%s/%s/lock' % (zk.ZooKeeper.NODE_ROOT, node_id)
            if _children(client, path):
                held.append(path)
        return held


def _children(client, path):
    try:
        return client.get_children(path)
    except kze.NoNodeError:
        return []


Outcome = collections.namedtuple('Outcome', [
    'requests', 'victim', 'survivor', 'killed_at', 'orphaned',
    'fulfilled_at', 'fulfilled_by', 'expired_after', 'done_after',
    'peak'])


def burst_and_kill(dep, count, victim=None, in_flight=3,
                   timeout=BURST_TIMEOUT):
    """Send ``count`` requests, kill ``victim`` mid-burst, serve them all.

    The victim is killed as soon as it holds ``in_flight`` accepted,
    unfulfilled requests.  Nodes are taken and handed back at once, as
    short jobs would, so capacity comes back while the burst is served.
    Returns an Outcome; raises FailoverError if a request fails or the
    burst is not served within ``timeout``.
    """
    hosts = list(dep.hosts)
    victim = victim or hosts[0]
    survivor = next(h for h in hosts if h != victim)
    labels = dep.labels_everywhere()
    requestor = dep.requestor
    requests = [requestor.submit([label]) for label, _ in
                zip(itertools.cycle(labels), range(count))]
    waiting = {r.id: r for r in requests}
    fulfilled_at = {}
    killed_at = None
    accepted = set()
    expired_after = None
    # Most nodes each provider held at once, in any state, whichever
    # launcher made them.
    peak = collections.Counter()
    start = time.monotonic()
    while waiting:
        if time.monotonic() - start > timeout:
            raise FailoverError(
                '%d of %d requests unserved after %ss (killed %s: %s)'
                % (len(waiting), count, timeout, victim,
                   'yes' if killed_at else 'no'))
        counts = collections.Counter(n.provider for n in requestor.nodes())
        for provider, n in counts.items():
            peak[provider] = max(peak[provider], n)
        for request_id, request in list(waiting.items()):
            current = requestor.refresh(request)
            if current is None:
                raise FailoverError('request %s vanished' % request_id)
            if current.state == zk.FAILED:
                raise FailoverError('request %s for %s failed'
                                    % (request_id, current.node_types))
            if current.state != zk.FULFILLED:
                continue
            fulfilled_at[request_id] = current.stat.mtime / 1000.0
            requestor.release(requestor.accept(current))
            del waiting[request_id]
        if killed_at is None:
            held = requests_in_log(dep.launchers[victim], _ACCEPTED) & \
                set(waiting)
            if len(held) >= in_flight:
                killed_at = dep.kill(victim)
                accepted = requests_in_log(dep.launchers[victim], _ACCEPTED)
        elif expired_after is None:
            if dep.pools() == collections.Counter(
                    (p, pool) for p, by_pool in fake_cloud.max_servers(
                        dep.rendered[survivor]).items() for pool in by_pool):
                expired_after = time.time() - killed_at
        time.sleep(0.2)
    if killed_at is None:
        raise FailoverError('%s never held %d requests at once; the burst '
                            'was over before the kill' % (victim, in_flight))
    fulfilled_by = requests_in_log(dep.launchers[survivor], _FULFILLED)
    # What the victim had accepted and not fulfilled at its death (by
    # ZooKeeper's clock): the survivor must have served these.
    orphaned = {r for r in accepted if fulfilled_at.get(r, 0) > killed_at}
    return Outcome(
        requests=[r.id for r in requests], victim=victim, survivor=survivor,
        killed_at=killed_at, orphaned=orphaned, fulfilled_at=fulfilled_at,
        fulfilled_by=fulfilled_by, expired_after=expired_after,
        done_after=time.time() - killed_at, peak=dict(peak))


def _left(dep, spare=False):
    """What ZooKeeper still holds; with ``spare``, leave out ready,
    unallocated, unlocked nodes."""
    nodes = dep.requestor.nodes()
    if spare:
        nodes = [n for n in nodes if not _is_spare(dep, n)]
    return {'nodes': [(n.id, n.state, n.provider, n.allocated_to)
                      for n in nodes],
            'requests': dep.requestor.zk.getNodeRequests(),
            'locks': dep.held_locks()}


def _is_spare(dep, node):
    lock = '%s/%s/lock' % (zk.ZooKeeper.NODE_ROOT, node.id)
    return (node.state == zk.READY and not node.allocated_to and
            not _children(dep.requestor.zk.kazoo_client, lock))


def wait_for_cleanup(dep, timeout=CLEANUP_TIMEOUT):
    """Wait until ZooKeeper holds no node, request or held lock.

    A dead launcher's nodes that were ready for a request it held are
    handed back to the pool when the survivor resets that request: ready,
    unallocated and unlocked.  Nodepool keeps such a node for the next
    request that may reuse nodes, as Zuul's do, rather than delete it.
    So once nothing else is left, each spare node is asked for, must be
    handed out, and is returned; then ZooKeeper must be empty.

    Returns (seconds it took, spare nodes handed out); raises
    FailoverError with what is left.
    """
    start = time.monotonic()
    requestor = dep.requestor
    while True:
        left = _left(dep, spare=True)
        if not any(left.values()):
            break
        if time.monotonic() - start > timeout:
            raise FailoverError('left after %ss: %s' % (timeout, left))
        time.sleep(0.5)
    spare = {n.id: n for n in requestor.nodes()}
    handed = set()
    for node in spare.values():
        request = requestor.submit(node.type, provider=node.provider,
                                   reuse=True)
        current = requestor.wait(request, timeout=timeout)
        if current.state != zk.FULFILLED:
            raise FailoverError('request %s for spare node %s %s'
                                % (request.id, node.id, current.state))
        nodes = requestor.accept(current)
        handed |= {n.id for n in nodes}
        requestor.release(nodes)
    if handed != set(spare):
        raise FailoverError('spare nodes %s were not handed out (got %s)'
                            % (sorted(set(spare) - handed), sorted(handed)))
    while True:
        left = _left(dep)
        if not any(left.values()):
            return time.monotonic() - start, len(spare)
        if time.monotonic() - start > timeout * 2:
            raise FailoverError('left after %ss: %s' % (timeout * 2, left))
        time.sleep(0.5)
