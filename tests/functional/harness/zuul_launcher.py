"""zuul-launcher serving this project's rendered objects from static nodes.

Only the test harness does this: the shipped, rendered objects stay an
OpenStack config.  A machine without Linaro's clouds cannot boot their
images, so the harness copy keeps every image, flavor, label, section
(with its ``connection`` name, limits and timeouts) and provider as
rendered, and changes only what a cloud would provide:

- each section's connection is defined in zuul.conf with Zuul 14.3's
  ``static`` driver (``zuul/driver/static``: a plain connection, no
  settings), so no stanza needs a new connection name;
- images become ``type: cloud`` (a static host is not built from an
  image, and a ``zuul`` image would wait for an image build);
- OpenStack-only keys go: ``region``, ``flavor-name``, ``config-drive``,
  image ``tags`` (Glance properties), ``key-name``, ``networks``;
- each provider gets ``nodes:``: for every label it offers, the emulated
  aarch64 node, on a port of its own (the static driver keys a node by
  provider, host, port and user, so one port per label lets every label
  be in use at once).

Zuul's own model (``zuul.model.NodesetRequest`` in ZooKeeper) is used to
ask the launcher for nodes, the way the scheduler does for a build.
"""

import copy
import logging
import os
import re
import socket
import subprocess
import threading
import time

import fixtures

from tests.functional.harness import processes

# Keys whose values only make sense against an OpenStack cloud.
_SECTION_KEYS_DROPPED = ('region',)
_ENTRY_KEYS_DROPPED = {
    'flavors': ('flavor-name',),
    'images': ('config-drive', 'tags'),
    'labels': ('key-name', 'networks'),
}


def connections(objects):
    """The connection names the rendered sections use."""
    return sorted({s['section']['connection'] for s in objects
                   if 'section' in s and 'connection' in s['section']})


def static_objects(objects, node, ports):
    """The harness copy of rendered zuul-launcher ``objects``.

    ``node`` is a running Arm64Node; ``ports`` maps each label name to a
    port on which that node's sshd also answers.
    """
    objects = copy.deepcopy(objects)
    sections = {}
    for stanza in objects:
        if 'image' in stanza:
            stanza['image']['type'] = 'cloud'
        elif 'section' in stanza:
            body = stanza['section']
            sections[body['name']] = body
            for key in _SECTION_KEYS_DROPPED:
                body.pop(key, None)
            for key, dropped in _ENTRY_KEYS_DROPPED.items():
                for entry in body.get(key, []):
                    for name in dropped:
                        entry.pop(name, None)
    for stanza in objects:
        if 'provider' in stanza:
            body = stanza['provider']
            section = sections[body['section']]
            body['nodes'] = [{
                'name': node.host, 'label': label['name'],
                'connection-port': ports[label['name']],
                'username': node.username, 'host-key': node.host_key,
            } for label in section.get('labels', [])]
    return objects


def one_node_objects(objects, node, provider, label):
    """The harness copy of ``objects`` in which ``provider`` alone hands
    out ``node``, once, as ``label``, on the node's own SSH port (a VM
    has one sshd).  The other providers' sections stay, with no
    provider of their own."""
    objects = static_objects(objects, node, {
        s['label']['name']: node.port for s in objects if 'label' in s})
    kept = []
    for stanza in objects:
        if 'provider' in stanza:
            if stanza['provider']['name'] != provider:
                continue
            stanza['provider']['nodes'] = [
                n for n in stanza['provider']['nodes']
                if n['label'] == label]
        kept.append(stanza)
    return kept


def launcher_config(workdir, objects, statsd_port=None):
    """zuul.conf sections for zuul-launcher and the static connections
    (and statsd, given its port)."""
    extra = {
        'launcher': {
            'command_socket': os.path.join(workdir, 'launcher.socket'),
            'temp_dir': os.path.join(workdir, 'launcher-tmp')},
    }
    if statsd_port is not None:
        extra['statsd'] = {'server': '127.0.0.1', 'port': str(statsd_port)}
    for name in connections(objects):
        extra['connection ' + name] = {'driver': 'static'}
    return extra


class LauncherComponent(fixtures.Fixture):
    """zuul-launcher as the node provider of a jobpath.JobPathStack: it
    is one of Zuul's components, so this only says what Zuul must run
    (``zuul_components``) and add to zuul.conf (``zuul_config``).  The
    objects it serves live in the tenant's config project."""

    def __init__(self, workdir, objects):
        super().__init__()
        self.zuul_components = ('launcher',)
        self.zuul_config = launcher_config(workdir, objects)
        self.log_paths = []


class ExtraSshPorts(fixtures.Fixture):
    """A second sshd in an Arm64Node's root, answering on ``count`` ports.

    The node's host keys and the ``zuul`` user's authorized key are the
    root's own, so every port is the same host to a client.
    """

    def __init__(self, node, count):
        super().__init__()
        self.node = node
        self.count = count

    def _setUp(self):
        self.ports = [processes.free_port() for _ in range(self.count)]
        argv = ['chroot', self.node.root, '/usr/sbin/sshd', '-D', '-e',
                '-o', f'ListenAddress={self.node.host}',
                '-o', 'PasswordAuthentication=no',
                '-o', 'KbdInteractiveAuthentication=no',
                '-o', 'UsePAM=no', '-o', 'PermitRootLogin=no',
                # zuul-launcher scans every static node at once.
                '-o', 'MaxStartups=100']
        for port in self.ports:
            argv += ['-p', str(port)]
        log_path = os.path.join(self.node.parent, 'sshd-extra.log')
        with open(log_path, 'ab') as log:
            self.proc = subprocess.Popen(
                argv, stdin=subprocess.DEVNULL, stdout=log,
                stderr=subprocess.STDOUT, start_new_session=True)
        self.addCleanup(processes.stop_group, self.proc, grace=10)
        for port in self.ports:
            self._wait(port)

    def _wait(self, port, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError('extra sshd exited')
            try:
                with socket.create_connection((self.node.host, port), 2):
                    return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f'extra sshd not listening on {port}')


class StatsdGauges(fixtures.Fixture):
    """A UDP statsd listener on 127.0.0.1 keeping each gauge's last value."""

    def _setUp(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(('127.0.0.1', 0))
        self.sock.settimeout(0.5)
        self.port = self.sock.getsockname()[1]
        self.gauges = {}
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        self.addCleanup(self._close)

    def _close(self):
        self._stop.set()
        self.thread.join(5)
        self.sock.close()

    def _run(self):
        while not self._stop.is_set():
            try:
                data = self.sock.recv(65535)
            except OSError:
                continue
            for line in data.decode('utf-8', 'replace').splitlines():
                m = re.match(r'^([^:]+):([-0-9.]+)\|g$', line)
                if m:
                    self.gauges[m.group(1)] = float(m.group(2))

    def wait_for(self, pattern, predicate, timeout):
        """The first value of a gauge matching ``pattern`` that satisfies
        ``predicate``; None after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for name, value in list(self.gauges.items()):
                if re.search(pattern, name) and predicate(value):
                    return value
            time.sleep(0.5)
        return None


class NodeRequests:
    """Ask zuul-launcher for nodes through Zuul's own ZooKeeper model."""

    def __init__(self, zookeeper, tenant):
        # Imported here: the rest of the harness runs without Zuul.
        from zuul import model
        # Registers the static driver's node class with Zuul's model.
        from zuul.driver.static import staticmodel  # noqa: F401
        from zuul.zk import ZooKeeperClient
        self.model = model
        self.tenant = tenant
        self.client = ZooKeeperClient(
            hosts=zookeeper.hosts, timeout=40, tls_cert=zookeeper.cert,
            tls_key=zookeeper.key, tls_ca=zookeeper.ca)
        self.client.connect()
        self.stop_event = threading.Event()
        self.log = logging.getLogger('tests.zuul_launcher')

    def close(self):
        self.client.disconnect()

    def _context(self):
        from zuul.zk.zkobject import ZKContext
        return ZKContext(self.client, None, self.stop_event, self.log)

    def request(self, labels, job_name, preferred_provider=None):
        """A request as the scheduler makes one for a build.

        ``preferred_provider`` (a canonical provider name) is what the
        scheduler sets for a job whose paused parent ran there.
        """
        with self._context() as ctx:
            return self.model.NodesetRequest.new(
                ctx, tenant_name=self.tenant, pipeline_name='check',
                buildset_uuid=os.urandom(16).hex(),
                job_uuid=os.urandom(16).hex(), job_name=job_name,
                labels=list(labels), priority=100,
                request_time=time.time(), zuul_event_id=job_name,
                preferred_provider=preferred_provider)

    def wait(self, requests, timeout):
        """{uuid: request} once each is fulfilled or failed (or timeout)."""
        done = {}
        deadline = time.monotonic() + timeout
        final = (self.model.NodesetRequest.State.FULFILLED,
                 self.model.NodesetRequest.State.FAILED)
        while len(done) < len(requests) and time.monotonic() < deadline:
            with self._context() as ctx:
                for request in requests:
                    if request.uuid in done:
                        continue
                    request.refresh(ctx)
                    if request.state in final:
                        done[request.uuid] = request
            time.sleep(0.5)
        return done

    def nodes(self, request):
        node_class = self.model.ProviderNode
        with self._context() as ctx:
            return [node_class.fromZK(ctx, node_class._getPath(uuid))
                    for uuid in request.nodes]

    def delete(self, request):
        with self._context() as ctx:
            request.delete(ctx)

    def take_and_return(self, request):
        """Run a fulfilled request's build the way the scheduler does,
        with nothing to run: lock its nodes and delete the request, mark
        the nodes in use, then used and unlocked."""
        from zuul.launcher.client import LauncherClient
        client = LauncherClient(self.client, self.stop_event)
        nodeset = self.model.NodeSet()
        for index, label in enumerate(request.labels):
            nodeset.addNode(self.model.Node(['node%d' % index], label))
        client.acceptNodeset(request, nodeset)
        client.useNodeset(nodeset)
        client.returnNodeset(nodeset)
