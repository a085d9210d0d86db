"""A real ZooKeeper with TLS on 127.0.0.1, started and always stopped.

Debian's ``zookeeper`` package serves TLS only through Netty, and its
``netty-all.jar`` lacks the codec classes, so the class path is built
from the individual ``/usr/share/java/netty-*.jar`` files (the
unversioned names; the versioned ones are the same jars again).  There is
no plain-text client port, the admin server is off, and the only socket
is the TLS client port on 127.0.0.1.
"""

import glob
import os
import re
import signal
import socket
import ssl
import subprocess
import time

import fixtures

from tests.functional.harness import processes
from tests.functional.harness import tls

JAVA_DIR = '/usr/share/java'
MAIN_CLASS = 'org.apache.zookeeper.server.quorum.QuorumPeerMain'
START_TIMEOUT = 60
_VERSIONED = re.compile(r'-\d+(\.\d+)*(\.Final)?\.jar$')


class ZooKeeperUnavailable(Exception):
    pass


def class_path(java_dir=JAVA_DIR):
    """The jars QuorumPeerMain needs to serve TLS through Netty."""
    netty = sorted(
        p for p in glob.glob(os.path.join(java_dir, 'netty-*.jar'))
        if not _VERSIONED.search(os.path.basename(p))
        and os.path.basename(p) != 'netty-all.jar')
    zk = os.path.join(java_dir, 'zookeeper.jar')
    if not netty or not os.path.exists(zk):
        raise ZooKeeperUnavailable(
            'ZooKeeper or Netty jars are missing under %s; run '
            'tools/test-setup.sh (Debian packages zookeeper and '
            'default-jre-headless)' % java_dir)
    # zookeeper.jar's manifest names its other dependencies; slf4j-simple
    # makes the server log to stderr, which the fixture keeps.
    extra = [os.path.join(java_dir, 'slf4j-simple.jar')]
    return ':'.join(netty + [zk] + [p for p in extra if os.path.exists(p)])


def _zoo_cfg(data_dir, port, ca):
    return '\n'.join([
        'tickTime=500',
        'initLimit=10',
        'syncLimit=5',
        'dataDir=%s' % data_dir,
        'secureClientPort=%d' % port,
        'secureClientPortAddress=127.0.0.1',
        'serverCnxnFactory=org.apache.zookeeper.server.'
        'NettyServerCnxnFactory',
        'ssl.keyStore.location=%s' % ca.server_keystore,
        'ssl.keyStore.type=PEM',
        'ssl.trustStore.location=%s' % ca.ca,
        'ssl.trustStore.type=PEM',
        'admin.enableServer=false',
        '4lw.commands.whitelist=',
        'maxSessionTimeout=60000',
        '',
    ])


class TLSZooKeeper(fixtures.Fixture):
    """ZooKeeper on a free 127.0.0.1 port with a fresh data directory.

    Attributes once set up: ``host``, ``port``, ``hosts`` (the
    ``host:port`` string Nodepool's client takes), ``ca``, ``cert``,
    ``key`` (the client side), ``log_path``, ``config_path`` and
    ``proc``.
    """

    host = '127.0.0.1'

    def __init__(self, base_dir=None):
        super().__init__()
        self.base_dir = base_dir

    def _setUp(self):
        if self.base_dir is None:
            self.base_dir = self.useFixture(fixtures.TempDir()).path
        self.workdir = os.path.join(self.base_dir, 'zookeeper')
        os.makedirs(self.workdir)
        cp = class_path()
        authority = tls.ThrowAwayCA(os.path.join(self.workdir, 'tls'))
        self.ca = authority.ca
        self.cert = authority.client_cert
        self.key = authority.client_key
        self.log_path = os.path.join(self.workdir, 'zookeeper.log')
        self.config_path = os.path.join(self.workdir, 'zoo.cfg')
        self.proc = None
        # Another process can take the port between choosing and binding
        # it; choose again rather than fail the run.
        for attempt in range(3):
            self.port = processes.free_port()
            data_dir = os.path.join(self.workdir, 'data-%d' % attempt)
            os.makedirs(data_dir)
            with open(self.config_path, 'w') as f:
                f.write(_zoo_cfg(data_dir, self.port, authority))
            if self._start(cp):
                break
        else:
            raise ZooKeeperUnavailable(
                'ZooKeeper did not start; see %s' % self.log_path)
        self.hosts = '%s:%d' % (self.host, self.port)

    def _start(self, cp):
        log = open(self.log_path, 'ab')
        tmpdir = os.path.join(self.workdir, 'tmp')
        os.makedirs(tmpdir, exist_ok=True)
        self.proc = subprocess.Popen(
            ['java', '-Xmx256m', '-Djava.io.tmpdir=%s' % tmpdir,
             '-Dzookeeper.jmx.log4j.disable=true',
             '-cp', cp, MAIN_CLASS, self.config_path],
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            cwd=self.workdir, start_new_session=True)
        log.close()
        self.addCleanup(self.stop)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False
            if self._handshake():
                return True
            time.sleep(0.2)
        self.stop()
        return False

    def _handshake(self):
        """True once the TLS port completes a handshake with our client."""
        context = ssl.create_default_context(cafile=self.ca)
        context.load_cert_chain(self.cert, self.key)
        try:
            with socket.create_connection((self.host, self.port), 1) as raw:
                with context.wrap_socket(raw, server_hostname=self.host):
                    return True
        except (OSError, ssl.SSLError):
            return False

    def stop(self):
        """Stop the server; True if it had to be killed."""
        if self.proc is None:
            return False
        # QuorumPeerMain shuts down on SIGTERM.
        return processes.stop_group(self.proc, sig=signal.SIGTERM, grace=15)

    def nodepool_config(self, chroot=None):
        """The ``zookeeper-servers`` and ``zookeeper-tls`` config keys."""
        server = {'host': self.host, 'port': self.port}
        if chroot:
            server['chroot'] = chroot
        return {
            'zookeeper-servers': [server],
            'zookeeper-tls': {'ca': self.ca, 'cert': self.cert,
                              'key': self.key},
        }
