"""Two real zuul-launchers on one TLS ZooKeeper, and the loss of one.

The zuul-launcher counterpart of ``failover``.  A Zuul (merger,
scheduler, web) loads the harness copy of the rendered zuul-launcher
objects (``zuul_launcher.static_objects``: every node the emulated
aarch64 node), and one zuul-launcher runs for each launcher host the
shipped inventory names, with a short ZooKeeper session timeout.

zuul-launcher shares work between launchers by name: each request and
each node goes to the running launcher whose hash of its own hostname
with the object's id scores lowest (``zuul.zk.launcher.LauncherApi``),
and that launcher locks it.  Both launchers run on this machine, so each
gets a UTS namespace with its own hostname (the inventory's host name)
and a mount namespace whose ``/etc/hosts`` names it, so Python's
``getfqdn()`` answers that name without a DNS lookup.  When one is
killed, ZooKeeper ends its session, which removes its registration and
its locks, and the survivor scores lowest for everything.

Static nodes serve one request at a time, so the requestor does what the
scheduler does for a build that ran (``zuul.launcher.client``): it
locks the nodes and deletes the request, marks them in use, then used
and unlocked; the launcher that owns a used node scans its host keys
again and makes it ready for the next request.

Shared by ``test_zuul_launcher_failover`` (which asserts) and
``benchmarks/launcher_failover.py`` (which prints the times).
"""

import collections
import configparser
import itertools
import json
import os
import re
import signal
import subprocess
import sys
import time

import fixtures
import yaml
from kazoo import exceptions as kze

from nodepool_aarch64.inventory import load_inventory
from nodepool_aarch64.render import zuul as render_zuul
from nodepool_aarch64.formats.yamltext import dump
from tests.functional.harness import arm64node
from tests.functional.harness import artefacts
from tests.functional.harness import failover
from tests.functional.harness import gitrepos
from tests.functional.harness import processes
from tests.functional.harness import zookeeper as zookeeper_mod
from tests.functional.harness import zuul_launcher
from tests.functional.harness import zuul_services
from tests.functional.test_zuul_config_errors import SITE_CONFIG

TENANT = 'arm64'
SITE_PROJECT = 'site-config'
LAUNCHER_PROJECT = 'arm64-launcher-config'
LAUNCHER_FILE = 'zuul.d/zuul-launcher.yaml'
# The same short session as the Nodepool test's, so the two compare.
SESSION_TIMEOUT = failover.SESSION_TIMEOUT
# Static nodes are registered and key-scanned once a launcher has the
# layout; the emulated sshd is slow to answer a key exchange.
READY_TIMEOUT = 180
BURST_TIMEOUT = 300
CLEANUP_TIMEOUT = 90
# Zuul's own ZooKeeper paths: requests, nodes and their locks, and the
# launchers' registrations.
REQUESTS = '/zuul/nodeset/requests'
REQUEST_LOCKS = '/zuul/nodeset/locks'
NODES = '/zuul/nodes/nodes'
NODE_LOCKS = '/zuul/nodes/locks'
LAUNCHERS = '/zuul/components/launcher'
_FULFILLED = re.compile(
    r'Marking request <NodesetRequest uuid=([0-9a-f]+),[^>]*> as fulfilled')


class FailoverError(Exception):
    pass


Outcome = collections.namedtuple('Outcome', [
    'requests', 'victim', 'survivor', 'killed_at', 'orphaned',
    'nodes_held', 'fulfilled_at', 'fulfilled_by', 'expired_after',
    'adopted_after', 'taken_early', 'done_after'])


def _children(client, path):
    try:
        return client.get_children(path)
    except kze.NoNodeError:
        return []


def _data(client, path):
    try:
        return client.get(path)[0]
    except kze.NoNodeError:
        return None


def lock_holder(client, path):
    """The identifier (a launcher's hostname) of whoever holds the lock
    at ``path``; None when nobody does."""
    contenders = _children(client, path)
    # Kazoo's contenders are sequence nodes; the lowest holds the lock.
    for name in sorted(contenders, key=lambda n: n.rsplit('__', 1)[-1]):
        data = _data(client, '%s/%s' % (path, name))
        if data is not None:
            return data.decode('utf-8', 'replace') or '(anonymous)'
    return None


class ZuulLauncherHost(fixtures.Fixture):
    """One zuul-launcher, as if on its own host named ``hostname``.

    ``zuul_conf`` is the Zuul's config file; this launcher gets a copy
    with its own command socket and temp dir and ``session_timeout``.
    """

    def __init__(self, workdir, zuul_conf, hostname, session_timeout):
        super().__init__()
        self.workdir = workdir
        self.zuul_conf = zuul_conf
        self.hostname = hostname
        self.session_timeout = session_timeout

    def _setUp(self):
        os.makedirs(self.workdir, exist_ok=True)
        config = configparser.ConfigParser(interpolation=None)
        config.read(self.zuul_conf)
        config['zookeeper']['session_timeout'] = str(self.session_timeout)
        config['launcher'] = {
            'command_socket': os.path.join(self.workdir, 'launcher.socket'),
            'temp_dir': os.path.join(self.workdir, 'tmp')}
        self.config_path = os.path.join(self.workdir, 'zuul.conf')
        with open(self.config_path, 'w') as f:
            config.write(f)
        hosts = os.path.join(self.workdir, 'hosts')
        short = self.hostname.split('.')[0]
        with open(hosts, 'w') as f:
            f.write('127.0.0.1 %s %s\n127.0.0.1 localhost\n'
                    '::1 localhost\n' % (self.hostname, short))
        self.log_path = os.path.join(self.workdir, 'zuul-launcher.log')
        # unshare and sh exec: the process is zuul-launcher's Python, the
        # leader of its own process group.
        argv = ['unshare', '--uts', '--mount', '--',
                'sh', '-c', 'mount --bind "$1" /etc/hosts && '
                'hostname "$2" && exec "$3" -f -d -c "$4"', 'sh',
                hosts, self.hostname, zuul_services._command('launcher'),
                self.config_path]
        with open(self.log_path, 'ab') as log:
            self.proc = subprocess.Popen(
                argv, stdin=subprocess.DEVNULL, stdout=log,
                stderr=subprocess.STDOUT, cwd=self.workdir,
                start_new_session=True)
        self.addCleanup(processes.stop_group, self.proc, signal.SIGTERM, 30)

    def alive(self):
        return self.proc.poll() is None

    def kill(self):
        """SIGKILL the launcher's process group; returns the time."""
        killed_at = time.time()
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)
        return killed_at

    def log_text(self):
        with open(self.log_path, errors='replace') as f:
            return f.read()


class TwoZuulLaunchers(fixtures.Fixture):
    """ZooKeeper, Zuul, the emulated node, one zuul-launcher per
    inventory launcher host, and a requestor.  ``test`` (optional) keeps
    the logs if it fails."""

    def __init__(self, test=None):
        super().__init__()
        self.test = test

    def _setUp(self):
        self.base = self.useFixture(fixtures.TempDir()).path
        self.zookeeper = None
        self.zuul = None
        self.node = None
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
        inv = load_inventory(None)
        self.hosts = inv.launchers
        if len(self.hosts) < 2:
            raise FailoverError('the shipped inventory names %d launcher '
                                'host(s); failover needs two'
                                % len(self.hosts))
        rendered = render_zuul.launcher_objects(inv)
        labels = [label.name for label in inv.labels]
        self.node = self.useFixture(arm64node.Arm64Node(
            os.path.join(self.base, 'node')))
        extra = self.useFixture(zuul_launcher.ExtraSshPorts(
            self.node, len(labels)))
        self.harness = zuul_launcher.static_objects(
            rendered, self.node, dict(zip(labels, extra.ports)))
        git_root = os.path.join(self.base, 'git')
        gitrepos.make_repo(os.path.join(git_root, SITE_PROJECT),
                           files={'zuul.d/site.yaml': SITE_CONFIG})
        gitrepos.make_repo(os.path.join(git_root, LAUNCHER_PROJECT), files={
            LAUNCHER_FILE: dump(self.harness, 'inventory linaro.yaml')})
        tenant_config = os.path.join(self.base, 'main.yaml')
        with open(tenant_config, 'w') as f:
            yaml.safe_dump([{'tenant': {'name': TENANT, 'source': {'git': {
                'config-projects': [SITE_PROJECT, LAUNCHER_PROJECT]}}}}], f)
        self.zookeeper = self.useFixture(
            zookeeper_mod.TLSZooKeeper(self.base))
        # The scheduler parses the providers' sections too, so the static
        # connections are in the shared zuul.conf.
        connections = {'connection ' + name: {'driver': 'static'}
                       for name in zuul_launcher.connections(rendered)}
        self.zuul = self.useFixture(zuul_services.Zuul(
            os.path.join(self.base, 'zuul'), self.zookeeper, tenant_config,
            git_root, extra_config=connections))
        self.zuul.wait_for_tenant(TENANT)
        for host in self.hosts:
            self.launchers[host] = self.useFixture(ZuulLauncherHost(
                os.path.join(self.base, host), self.zuul.config_path, host,
                SESSION_TIMEOUT))
        self.requests = zuul_launcher.NodeRequests(self.zookeeper, TENANT)
        self.addCleanup(self.requests.close)
        self.kazoo = self.requests.client.client
        self.static_nodes = {
            (p['provider']['name'], n['label'])
            for p in self.harness if 'provider' in p
            for n in p['provider']['nodes']}
        self.node_ids = self.wait_until_ready()

    def _artefacts(self):
        paths = []
        if self.zookeeper is not None:
            paths.append(self.zookeeper.log_path)
        if self.node is not None:
            paths += [self.node.log_path,
                      os.path.join(self.node.parent, 'sshd-extra.log')]
        if self.zuul is not None:
            paths += self.zuul.log_paths + [self.zuul.config_path]
        # Both launchers name their files alike: keep each host's
        # directory whole.
        paths += [launcher.workdir for launcher in self.launchers.values()]
        return paths

    def registered(self):
        """hostname -> state of each launcher registered in ZooKeeper."""
        found = {}
        for name in _children(self.kazoo, LAUNCHERS):
            data = _data(self.kazoo, '%s/%s' % (LAUNCHERS, name))
            if data:
                info = json.loads(data)
                found[info['hostname']] = info.get('state')
        return found

    def nodes(self):
        """Every provider node in ZooKeeper, through Zuul's model."""
        found = []
        node_class = self.requests.model.ProviderNode
        with self.requests._context() as ctx:
            for node_id in _children(self.kazoo, NODES):
                try:
                    found.append(node_class.fromZK(
                        ctx, node_class._getPath(node_id)))
                except kze.NoNodeError:
                    continue
        return found

    def check_alive(self, *hosts):
        self.zuul.check_alive()
        for host in hosts or self.launchers:
            if not self.launchers[host].alive():
                raise FailoverError('zuul-launcher of %s exited with %s' % (
                    host, self.launchers[host].proc.returncode))

    def wait_until_ready(self):
        """Wait until both launchers run and every static node is ready;
        returns the nodes' ids."""
        wanted = {host: 'running' for host in self.hosts}
        deadline = time.monotonic() + READY_TIMEOUT
        while True:
            self.check_alive()
            nodes = self.nodes()
            ready = {(n.provider.rsplit('/', 1)[-1], n.label)
                     for n in nodes if n.state == n.State.READY}
            if (self.registered() == wanted and ready == self.static_nodes
                    and len(nodes) == len(self.static_nodes)):
                return {n.uuid for n in nodes}
            if time.monotonic() > deadline:
                raise FailoverError(
                    'within %ss: launchers %s (wanted %s), static nodes '
                    'ready %d of %d' % (READY_TIMEOUT, self.registered(),
                                        wanted, len(ready),
                                        len(self.static_nodes)))
            time.sleep(1)

    def labels_everywhere(self):
        """Labels that every provider offers, sorted: each has a static
        node in every region."""
        providers = {p for p, _ in self.static_nodes}
        return sorted(label for label in {lb for _, lb in self.static_nodes}
                      if all((p, label) in self.static_nodes
                             for p in providers))

    def request_holders(self):
        """Request uuid -> hostname of the launcher holding its lock."""
        held = {}
        for request_id in _children(self.kazoo, REQUEST_LOCKS):
            holder = lock_holder(self.kazoo,
                                 '%s/%s' % (REQUEST_LOCKS, request_id))
            if holder:
                held[request_id] = holder
        return held

    def node_holders(self):
        """Node uuid -> identifier of whoever holds its lock."""
        held = {}
        for node_id in _children(self.kazoo, NODE_LOCKS):
            holder = lock_holder(self.kazoo, '%s/%s' % (NODE_LOCKS, node_id))
            if holder:
                held[node_id] = holder
        return held


def burst_and_kill(dep, count, victim=None, in_flight=3, served_first=10,
                   timeout=BURST_TIMEOUT):
    """Send ``count`` requests, kill ``victim`` mid-burst, serve them all.

    The victim is SIGKILLed once ``served_first`` requests have been
    served and it holds the locks of at least ``in_flight`` unserved
    ones.  Each fulfilled request's nodes are taken, used and handed
    back at once, as by a short job.  Returns an Outcome (``orphaned``:
    the unserved requests whose locks the victim held when it died,
    ``nodes_held``: how many node locks it held then, ``adopted_after``:
    seconds from the kill until the survivor held or had served every
    one of those requests, ``taken_early``: those it was seen holding
    while the victim was still registered); raises
    FailoverError if a request fails or the burst is not served within
    ``timeout``.
    """
    victim = victim or dep.hosts[0]
    survivor = next(h for h in dep.hosts if h != victim)
    labels = dep.labels_everywhere()
    requests = [dep.requests.request([label], 'burst-%d' % i)
                for i, label in zip(range(count), itertools.cycle(labels))]
    waiting = {r.uuid: r for r in requests}
    fulfilled_at = {}
    killed_at = None
    orphaned = set()
    nodes_held = 0
    expired_after = None
    adopted_after = None
    taken_early = set()
    start = time.monotonic()
    final = dep.requests.model.NodesetRequest.State
    while waiting:
        if time.monotonic() - start > timeout:
            raise FailoverError(
                '%d of %d requests unserved after %ss (killed %s: %s)'
                % (len(waiting), count, timeout, victim,
                   'yes' if killed_at else 'no'))
        dep.check_alive(*([survivor] if killed_at else dep.hosts))
        with dep.requests._context() as ctx:
            for request_id, request in list(waiting.items()):
                try:
                    request.refresh(ctx)
                except kze.NoNodeError:
                    raise FailoverError('request %s vanished' % request_id)
                if request.state == final.FAILED:
                    raise FailoverError('request %s for %s failed'
                                        % (request_id, request.labels))
                if request.state != final.FULFILLED:
                    continue
                stat = dep.kazoo.exists(request.getPath())
                fulfilled_at[request_id] = (
                    stat.mtime / 1000.0 if stat else time.time())
                dep.requests.take_and_return(request)
                del waiting[request_id]
        if killed_at is None:
            held = {r for r, h in dep.request_holders().items()
                    if h == victim} & set(waiting)
            if len(fulfilled_at) >= served_first and len(held) >= in_flight:
                killed_at = dep.launchers[victim].kill()
                # Its locks outlive it until ZooKeeper ends its session:
                # exactly what it held when it died.
                orphaned = {r for r, h in dep.request_holders().items()
                            if h == victim} & set(waiting)
                nodes_held = sum(1 for h in dep.node_holders().values()
                                 if h == victim)
        elif adopted_after is None:
            # Locks first: if the victim is still registered after, its
            # session was alive when the survivor was seen holding them.
            taken = {r for r, h in dep.request_holders().items()
                     if h == survivor} & orphaned
            if victim in dep.registered():
                taken_early |= taken
            else:
                now = time.time()
                if expired_after is None:
                    expired_after = now - killed_at
                if all(r in fulfilled_at or r in taken for r in orphaned):
                    adopted_after = now - killed_at
        time.sleep(0.2)
    if killed_at is None:
        raise FailoverError('%s never held %d requests after %d were '
                            'served; the burst was over before the kill'
                            % (victim, in_flight, served_first))
    if expired_after is None and victim not in dep.registered():
        expired_after = time.time() - killed_at
    fulfilled_by = set(_FULFILLED.findall(
        dep.launchers[survivor].log_text()))
    return Outcome(
        requests=[r.uuid for r in requests], victim=victim,
        survivor=survivor, killed_at=killed_at, orphaned=orphaned,
        nodes_held=nodes_held, fulfilled_at=fulfilled_at,
        fulfilled_by=fulfilled_by, expired_after=expired_after,
        adopted_after=adopted_after, taken_early=taken_early,
        done_after=time.time() - killed_at)


def left(dep):
    """What ZooKeeper holds beyond the static nodes, ready and free."""
    nodes = dep.nodes()
    return {
        'requests': _children(dep.kazoo, REQUESTS),
        'request locks': _children(dep.kazoo, REQUEST_LOCKS),
        'nodes': sorted(
            (n.uuid, n.state, n.label, n.request_id) for n in nodes
            if n.uuid not in dep.node_ids or n.state != n.State.READY
            or n.request_id),
        'missing nodes': sorted(dep.node_ids - {n.uuid for n in nodes}),
        'node locks': sorted(set(_children(dep.kazoo, NODE_LOCKS))
                             - dep.node_ids),
        'held locks': sorted(dep.node_holders().items()),
    }


def wait_for_cleanup(dep, survivor, timeout=CLEANUP_TIMEOUT):
    """Wait until ZooKeeper holds no request, no request lock, no held
    node lock, and every static node (and nothing else) is ready and
    assigned to nobody, and only ``survivor`` is registered.

    Returns the seconds it took; raises FailoverError with what is left.
    """
    start = time.monotonic()
    while True:
        dep.check_alive(survivor)
        remaining = left(dep)
        launchers = dep.registered()
        if launchers != {survivor: 'running'}:
            remaining['launchers'] = launchers
        if not any(remaining.values()):
            return time.monotonic() - start
        if time.monotonic() - start > timeout:
            raise FailoverError('left after %ss: %s' % (timeout, remaining))
        time.sleep(0.5)
