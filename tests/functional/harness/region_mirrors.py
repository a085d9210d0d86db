"""Throw-away mirrors and a throw-away node for the mirror role.

* ``build_mirror_tree`` lays out what an OpenDev mirror serves, in
  miniature: a Debian archive (``/debian``, ``/debian-security``) with
  one small package, a simple PyPI index (``/pypi/simple``) and an Arm64
  style wheel mirror (``/wheel/<distro>-<version>-<arch>``).
* ``MirrorServer`` serves such a tree over HTTP and records each request
  path, so a test can tell which mirror a fetch really went through.
* ``DebianNode`` is a debootstrap'd Debian root for Ansible's chroot
  connection, built once per machine and copied per test (the China
  link benchmark's node; the tests reach their nodes over SSH).
"""

import base64
import contextlib
import fcntl
import gzip
import hashlib
import http.server
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import zipfile

import fixtures

from tests import base

DEBIAN_RELEASE = 'bookworm'
DEBIAN_VERSION = '12'
DEB_PACKAGE = 'npa-hello'
SDIST_NAME = 'npa-hello'
WHEEL_ONLY_NAME = 'npa-wheel-only'

CACHE_DIR = os.environ.get('NODEPOOL_AARCH64_CACHE',
                           '/var/tmp/nodepool-aarch64')


@contextlib.contextmanager
def cache_lock(name):
    """Hold the machine-wide lock file ``name`` (relative to CACHE_DIR).

    Its directory is made first: on a fresh machine, whichever test a
    worker runs first may be the first to use the cache.
    """
    path = os.path.join(CACHE_DIR, name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'w') as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def dpkg_arch():
    return subprocess.run(['dpkg', '--print-architecture'], check=True,
                          capture_output=True, text=True).stdout.strip()


def wheel_dir(machine=None):
    """The wheel mirror directory the role picks for a Debian node of
    ``machine`` (default: this machine's, as the chroot node's)."""
    return f'debian-{DEBIAN_VERSION}-{(machine or platform.machine()).lower()}'


# -- the mirror tree -------------------------------------------------------

def _write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    mode = 'wb' if isinstance(data, bytes) else 'w'
    with open(path, mode) as f:
        f.write(data)


def _build_deb(workdir, name, version, payload_bytes):
    """A real .deb built by dpkg-deb, with ``payload_bytes`` of data."""
    pkg = os.path.join(workdir, f'{name}-pkg')
    _write(os.path.join(pkg, 'DEBIAN', 'control'),
           f'Package: {name}\nVersion: {version}\nArchitecture: all\n'
           'Maintainer: nodepool-aarch64 tests <tests@example.org>\n'
           'Section: misc\nPriority: optional\n'
           f'Description: {name} test package\n')
    # Incompressible data, so the bytes on the wire are the bytes asked.
    _write(os.path.join(pkg, 'usr', 'share', name, 'data'),
           os.urandom(payload_bytes))
    deb = os.path.join(workdir, f'{name}_{version}_all.deb')
    subprocess.run(['dpkg-deb', '-Zgzip', '--root-owner-group', '--build',
                    pkg, deb], check=True, capture_output=True)
    return deb


def _deb_control(deb):
    return subprocess.run(['dpkg-deb', '-f', deb], check=True,
                          capture_output=True, text=True).stdout


def _build_archive(top, suites, debs, arch):
    """A Debian archive at ``top`` (pool + one dists/ per suite)."""
    stanzas = []
    for deb in debs:
        name = os.path.basename(deb)
        rel = f'pool/main/n/{name.split("_")[0]}/{name}'
        os.makedirs(os.path.dirname(os.path.join(top, rel)), exist_ok=True)
        shutil.copy(deb, os.path.join(top, rel))
        with open(deb, 'rb') as f:
            data = f.read()
        stanzas.append(_deb_control(deb).rstrip('\n') + '\n'
                       f'Filename: {rel}\nSize: {len(data)}\n'
                       f'MD5sum: {hashlib.md5(data).hexdigest()}\n'
                       f'SHA256: {hashlib.sha256(data).hexdigest()}\n')
    packages = '\n'.join(stanzas).encode()
    for suite in suites:
        dist = os.path.join(top, 'dists', suite)
        files = {}
        for sub in (f'main/binary-{arch}', 'main/binary-all'):
            files[f'{sub}/Packages'] = packages
            files[f'{sub}/Packages.gz'] = gzip.compress(packages, mtime=0)
        release = [f'Origin: nodepool-aarch64\nLabel: nodepool-aarch64\n'
                   f'Suite: {suite}\nCodename: {suite}\n'
                   'Date: Thu, 01 Jan 2026 00:00:00 UTC\n'
                   f'Architectures: {arch} all\nComponents: main\n'
                   'SHA256:\n']
        for rel, data in sorted(files.items()):
            _write(os.path.join(dist, rel), data)
            release.append(f' {hashlib.sha256(data).hexdigest()} '
                           f'{len(data)} {rel}\n')
        _write(os.path.join(dist, 'Release'), ''.join(release))


def _build_wheel(workdir, project, version, payload_bytes):
    """A minimal valid pure-Python wheel."""
    dist = project.replace('-', '_')
    name = f'{dist}-{version}-py3-none-any.whl'
    path = os.path.join(workdir, name)
    info = f'{dist}-{version}.dist-info'
    files = {
        f'{dist}/__init__.py': b'',
        f'{dist}/data.bin': os.urandom(payload_bytes),
        f'{info}/METADATA': (f'Metadata-Version: 2.1\nName: {project}\n'
                             f'Version: {version}\n').encode(),
        f'{info}/WHEEL': (b'Wheel-Version: 1.0\nGenerator: nodepool-aarch64'
                          b'\nRoot-Is-Purelib: true\nTag: py3-none-any\n'),
    }
    record = ''.join(
        f'{p},sha256={_urlsafe_sha256(d)},{len(d)}\n' for p, d in
        files.items()) + f'{info}/RECORD,,\n'
    with zipfile.ZipFile(path, 'w', zipfile.ZIP_STORED) as z:
        for p, d in files.items():
            z.writestr(p, d)
        z.writestr(f'{info}/RECORD', record)
    return path


def _urlsafe_sha256(data):
    return base64.urlsafe_b64encode(
        hashlib.sha256(data).digest()).rstrip(b'=').decode()


def _simple_index(top, wheels):
    """A PEP 503 simple index of ``{project: [wheel paths]}``."""
    links = []
    for project, paths in sorted(wheels.items()):
        pdir = os.path.join(top, project)
        os.makedirs(pdir, exist_ok=True)
        entries = []
        for path in paths:
            name = os.path.basename(path)
            shutil.copy(path, os.path.join(pdir, name))
            with open(path, 'rb') as f:
                digest = hashlib.sha256(f.read()).hexdigest()
            entries.append(f'<a href="{name}#sha256={digest}">{name}</a><br>')
        _write(os.path.join(pdir, 'index.html'),
               '<!DOCTYPE html><html><body>\n' + '\n'.join(entries)
               + '\n</body></html>\n')
        links.append(f'<a href="{project}/">{project}</a><br>')
    _write(os.path.join(top, 'index.html'),
           '<!DOCTYPE html><html><body>\n' + '\n'.join(links)
           + '\n</body></html>\n')


def build_mirror_tree(top, deb_packages=1, wheels=1, payload_bytes=16384,
                      arch=None, machine=None, extra_wheels=()):
    """Lay out a tiny mirror at ``top``; return what a fetch should get.

    ``deb_packages`` packages ``npa-hello``, ``npa-hello-2``, ... and as
    many wheels; each carries ``payload_bytes`` of incompressible data.
    ``arch`` (dpkg) and ``machine`` (uname) are the nodes' (default:
    this machine's); ``extra_wheels`` are wheel files also served on the
    PyPI index (such as pip itself, for a node without pip).
    """
    work = os.path.join(top, '.build')
    os.makedirs(work)
    arch = arch or dpkg_arch()
    debs = [_build_deb(work, DEB_PACKAGE + ('' if i == 0 else f'-{i + 1}'),
                       '1.0', payload_bytes) for i in range(deb_packages)]
    _build_archive(os.path.join(top, 'debian'),
                   [DEBIAN_RELEASE, f'{DEBIAN_RELEASE}-updates'], debs, arch)
    _build_archive(os.path.join(top, 'debian-security'),
                   [f'{DEBIAN_RELEASE}-security'], [], arch)
    projects = [SDIST_NAME + ('' if i == 0 else f'-{i + 1}')
                for i in range(wheels)]
    index = {p: [_build_wheel(work, p, '1.0', payload_bytes)]
             for p in projects}
    for path in extra_wheels:
        # PEP 503's normalised name: the path pip asks for.
        project = re.sub(r'[-_.]+', '-',
                         os.path.basename(path).split('-')[0]).lower()
        index.setdefault(project, []).append(path)
    _simple_index(os.path.join(top, 'pypi', 'simple'), index)
    _simple_index(os.path.join(top, 'wheel', wheel_dir(machine)), {
        WHEEL_ONLY_NAME: [_build_wheel(work, WHEEL_ONLY_NAME, '1.0',
                                       payload_bytes)]})
    shutil.rmtree(work)
    _write(os.path.join(top, 'index.html'), 'mirror\n')
    return {'debs': [os.path.basename(d).split('_')[0] for d in debs],
            'wheels': projects + [WHEEL_ONLY_NAME]}


# -- serving it ------------------------------------------------------------

class MirrorServer:
    """Serve a directory over HTTP in a thread; record request paths."""

    def __init__(self, directory, host='127.0.0.1', port=0):
        self.directory = directory
        self.host = host
        self.port = port
        self.requests = []
        self._server = None
        self._thread = None

    @property
    def url(self):
        return f'http://{self.host}:{self.port}'

    def resolve(self, url_path):
        """The file that answers ``url_path`` when it is not the tree's
        own (a proxy's cache, say); None serves it from the tree."""
        return None

    def start(self):
        requests = self.requests
        directory = self.directory
        mirror = self

        class Handler(http.server.SimpleHTTPRequestHandler):
            protocol_version = 'HTTP/1.1'

            def __init__(self, *args, **kwargs):
                super().__init__(*args, directory=directory, **kwargs)

            def log_message(self, fmt, *args):
                pass

            def translate_path(self, path):
                found = mirror.resolve(path)
                return found if found is not None else \
                    super().translate_path(path)

            def send_head(self):
                requests.append(self.path)
                return super().send_head()

        http.server.ThreadingHTTPServer.allow_reuse_address = True
        self._server = http.server.ThreadingHTTPServer(
            (self.host, self.port), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self):
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join()
            self._server = None

    def fetched(self, prefix):
        return [p for p in self.requests if p.startswith(prefix)]


# -- a node to run the role on -----------------------------------------------

def debian_uri():
    """The Debian archive this machine's own apt uses."""
    try:
        with open('/etc/apt/sources.list.d/debian.sources') as f:
            for m in re.finditer(r'^URIs:\s*(\S+)', f.read(), re.M):
                if 'security' not in m.group(1):
                    return m.group(1)
    except OSError:
        pass
    return 'http://deb.debian.org/debian'


def _cached_root():
    """A pristine Debian root of this machine's architecture with python3
    and pip, built once (the shared root builder, without emulation)."""
    # Imported here: arm64node takes its cache directory and Debian
    # mirror from this module.
    from tests.functional.harness import arm64node
    return arm64node.cached_root(('python3', 'python3-pip'), name='chroot',
                                 arch=dpkg_arch())


class DebianNode(fixtures.Fixture):
    """A throw-away Debian node at ``<parent>/root``.

    An overlay mount over the cached root makes a fresh node in
    milliseconds; where overlayfs is unavailable the root is copied.
    """

    def __init__(self, parent):
        super().__init__()
        self.parent = parent
        self.root = os.path.join(parent, 'root')

    def _setUp(self):
        from tests.functional.harness import arm64node
        arm64node.fresh_root(self, _cached_root(), self.parent, self.root)


def in_root(root, *argv, **kwargs):
    """Run a command inside the root, as the job on a node would."""
    return subprocess.run(['chroot', root, *argv], capture_output=True,
                          text=True, **kwargs)


# -- running the role --------------------------------------------------------

REPO_ROOT = base.REPO
APPLY_PLAYBOOK = os.path.join(REPO_ROOT, 'tests', 'functional', 'playbooks',
                              'apply-region-mirror.yaml')
RECAP = re.compile(r'^\S+\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)'
                   r'\s+failed=(\d+)', re.M)


class AnsibleRun:
    def __init__(self, proc, seconds):
        self.proc = proc
        self.seconds = seconds
        self.output = proc.stdout + proc.stderr
        m = RECAP.search(proc.stdout)
        self.ok, self.changed, self.unreachable, self.failed = (
            int(x) for x in m.groups()) if m else (0, 0, 0, 0)
        self.returncode = proc.returncode


def _connection(target):
    """Ansible host vars to reach ``target``.

    A directory is a root to enter with the chroot connection, as root
    (it has no sudo, and needs none).  Anything else is a node reached
    over SSH as its unprivileged user (``host``, ``port``, ``username``,
    ``private_key``: an arm64node.Arm64Node), as a zuul-executor does.
    """
    if isinstance(target, str):
        return {'ansible_connection': 'community.general.chroot',
                'ansible_host': target,
                'ansible_python_interpreter': '/usr/bin/python3',
                # Outranks the role's "become: true".
                'ansible_become': False}
    return {'ansible_connection': 'ssh',
            'ansible_host': target.host,
            'ansible_port': target.port,
            'ansible_user': target.username,
            'ansible_ssh_private_key_file': target.private_key,
            'ansible_ssh_common_args': '-o UserKnownHostsFile=/dev/null',
            'ansible_python_interpreter': '/usr/bin/python3'}


def apply_role(target, extra_vars, host_vars=None, netns=None, env=None):
    """Run the role with ansible-playbook on ``target`` (see
    ``_connection``)."""
    with tempfile.TemporaryDirectory() as tmp:
        inventory = os.path.join(tmp, 'inventory.yaml')
        node = _connection(target)
        node.update(host_vars or {})
        with open(inventory, 'w') as f:
            json.dump({'all': {'hosts': {'node': node}}}, f)
        varfile = os.path.join(tmp, 'vars.json')
        with open(varfile, 'w') as f:
            json.dump(extra_vars, f)
        argv = [os.path.join(os.path.dirname(sys.executable),
                             'ansible-playbook'),
                '-i', inventory, '-e', '@' + varfile, APPLY_PLAYBOOK]
        if netns:
            argv = ['ip', 'netns', 'exec', netns] + argv
        environ = dict(os.environ,
                       ANSIBLE_ROLES_PATH=os.path.join(REPO_ROOT, 'roles'),
                       ANSIBLE_NOCOLOR='1',
                       ANSIBLE_HOST_KEY_CHECKING='false',
                       ANSIBLE_RETRY_FILES_ENABLED='false',
                       **(env or {}))
        start = time.monotonic()
        proc = subprocess.run(argv, capture_output=True, text=True,
                              env=environ, cwd=REPO_ROOT)
        return AnsibleRun(proc, time.monotonic() - start)


def current_pip_wheel():
    """A current pip wheel from PyPI, cached; jobs' virtualenvs use one.

    A pip wheel runs as is (``python3 pip.whl/pip``), so a node can use
    it without a virtualenv.
    """
    cache = os.path.join(CACHE_DIR, 'pip-wheel')
    with cache_lock('.lock'):
        found = [n for n in os.listdir(cache)] if os.path.isdir(cache) else []
        if not found:
            subprocess.run(
                [sys.executable, '-m', 'pip', 'download', '--no-deps',
                 '--only-binary', ':all:', '-d', cache, 'pip>=25.1'],
                check=True, capture_output=True,
                env={'PATH': os.environ['PATH'], 'HOME': '/root'})
            found = os.listdir(cache)
    return os.path.join(cache, sorted(found)[-1])


def fetch(root, names, netns=None, timeout=None, pip='python3 -m pip'):
    """The fixed fetch a job does: apt-get update + download, pip download.

    Returns ``(ok, seconds, output)``.
    """
    script = ('set -e\n'
              # Every fetch starts cold, as on a fresh node.
              'rm -rf /var/lib/apt/lists/* /tmp/fetch\n'
              'mkdir -p /tmp/fetch && cd /tmp/fetch\n'
              # apt downloads as its _apt user.
              'chown _apt /tmp/fetch\n'
              'apt-get -q update\n'
              f'apt-get -q download {" ".join(names["debs"])}\n'
              f'{pip} download --disable-pip-version-check '
              '--no-cache-dir --no-deps -d /tmp/fetch '
              f'{" ".join(names["wheels"])}\n')
    # A node's environment, not this machine's: PIP_* variables here
    # would override the pip.conf under test.
    argv = ['env', '-i', 'PATH=/usr/sbin:/usr/bin:/sbin:/bin', 'HOME=/root',
            'LANG=C.UTF-8', 'DEBIAN_FRONTEND=noninteractive',
            'chroot', root, '/bin/sh', '-c', script]
    if netns:
        argv = ['ip', 'netns', 'exec', netns] + argv
    start = time.monotonic()
    try:
        proc = subprocess.run(argv, capture_output=True, text=True,
                              timeout=timeout)
        ok, output = proc.returncode == 0, proc.stdout + proc.stderr
    except subprocess.TimeoutExpired as e:
        ok, output = False, f'timed out after {timeout}s: {e}'
    return ok, time.monotonic() - start, output


@contextlib.contextmanager
def started(*servers):
    try:
        for s in servers:
            s.start()
        yield servers
    finally:
        for s in servers:
            s.stop()


def _serve(argv):
    """``python -m tests.functional.harness.region_mirrors DIR HOST PORT LOG``.

    Serve a mirror tree from another network namespace (the benchmark
    starts this under ``ip netns exec``); each request path is appended
    to LOG.
    """
    directory, host, port, log = argv
    server = MirrorServer(directory, host, int(port)).start()
    with open(log, 'a', buffering=1) as f:
        seen = 0
        try:
            while True:
                time.sleep(0.2)
                for path in server.requests[seen:]:
                    f.write(path + '\n')
                seen = len(server.requests)
        except KeyboardInterrupt:
            server.stop()


if __name__ == '__main__':
    _serve(sys.argv[1:])
