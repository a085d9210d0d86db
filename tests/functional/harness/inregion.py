"""An in-region mirror host for VM nodes: Debian, PyPI and Docker images.

OpenDev's region mirrors serve a node everything it fetches, so a
region with a poor link to the world never uses that link during a job.
This host does the same for the VM node (vmnode), which reaches the
machine's loopback as ``vmnode.HOST_FROM_GUEST``:

* ``CachingMirror`` serves the harness mirror tree (the PyPI index and
  the Arm64 wheels, region_mirrors) and Debian's archive (``/debian``,
  ``/debian-security``) as a caching proxy of the archive this machine
  uses.  Fetched files stay in the per-machine cache (index files for
  ``INDEX_MAX_AGE``, packages for good), so a warm run downloads
  nothing; ``upstream`` lists what was fetched.
* ``RegistryMirror`` is Debian's ``docker-registry`` on 127.0.0.1,
  serving Docker Hub names the node's Docker asks its
  ``registry-mirrors`` for.  ``debian_image(release)`` makes
  ``library/debian:<release>`` for arm64 from a debootstrap root (Docker
  Hub is out of reach) and pushes it into the registry's storage once
  per machine, with the registry's own HTTP API.
"""

import gzip
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request

import fixtures
import requests

from tests.functional.harness import arm64node
from tests.functional.harness import processes
from tests.functional.harness import region_mirrors as rm

PROXIED = ('/debian/', '/debian-security/')
INDEX_MAX_AGE = 24 * 3600
FETCH_TIMEOUT = 120
APT_CACHE = os.path.join(rm.CACHE_DIR, 'apt-proxy')
REGISTRY_START_TIMEOUT = 30
# What a Docker base image leaves out of a root: API filesystems and
# the package lists.
IMAGE_EXCLUDES = ('./dev/*', './proc/*', './sys/*', './run/*', './tmp/*',
                  './var/lib/apt/lists/*', './var/cache/apt/*',
                  './.complete')
MANIFEST_TYPE = 'application/vnd.docker.distribution.manifest.v2+json'
CONFIG_TYPE = 'application/vnd.docker.container.image.v1+json'
LAYER_TYPE = 'application/vnd.docker.image.rootfs.diff.tar.gzip'


def _upstream_base():
    # debian_uri() is .../debian; the security archive sits beside it.
    return rm.debian_uri().rstrip('/').rsplit('/', 1)[0]


class CachingMirror(rm.MirrorServer):
    """A region mirror: ``directory`` served as is, Debian proxied."""

    def __init__(self, directory, host='127.0.0.1', port=0):
        super().__init__(directory, host, port)
        self.upstream = []
        self._lock = threading.Lock()

    def local(self, url_path):
        """The cached file for ``url_path``, fetched first if needed;
        None when the archive has no such file."""
        rel = url_path.split('?', 1)[0].lstrip('/')
        if '..' in rel.split('/'):
            return None
        path = os.path.join(APT_CACHE, rel)
        fresh = os.path.isfile(path) and (
            '/pool/' in url_path or '/by-hash/' in url_path
            or time.time() - os.path.getmtime(path) < INDEX_MAX_AGE)
        if fresh:
            return path
        try:
            self._fetch(rel, path)
        except (urllib.error.URLError, OSError):
            # A stale index beats none; a missing file is a 404.
            return path if os.path.isfile(path) else None
        return path

    def _fetch(self, rel, path):
        url = _upstream_base() + '/' + rel
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with urllib.request.urlopen(url, timeout=FETCH_TIMEOUT) as answer:
            fd, partial = tempfile.mkstemp(dir=os.path.dirname(path))
            with os.fdopen(fd, 'wb') as f:
                shutil.copyfileobj(answer, f)
        os.chmod(partial, 0o644)
        os.replace(partial, path)
        with self._lock:
            self.upstream.append((rel, os.path.getsize(path)))

    def resolve(self, url_path):
        if not url_path.startswith(PROXIED):
            return None
        return self.local(url_path) or os.path.join(self.directory,
                                                    '.missing')


def mirror_tree(top, wheels):
    """The tree a CachingMirror serves: the harness's PyPI index and
    Arm64 wheel mirror, with ``wheels`` on the index; Debian comes from
    the proxy, not from the harness's one-package archive."""
    rm.build_mirror_tree(top, arch='arm64', machine='aarch64',
                         extra_wheels=wheels)
    for name in ('debian', 'debian-security'):
        shutil.rmtree(os.path.join(top, name))
    return top


# -- the registry mirror ---------------------------------------------------

def _registry_config(storage, port):
    return {
        'version': 0.1,
        'log': {'level': 'warn'},
        'storage': {'filesystem': {'rootdirectory': storage},
                    'delete': {'enabled': False}},
        'http': {'addr': '127.0.0.1:%d' % port},
    }


class Registry(fixtures.Fixture):
    """Debian's docker-registry on 127.0.0.1, storing under ``storage``."""

    def __init__(self, workdir, storage):
        super().__init__()
        self.workdir = workdir
        self.storage = storage
        self.proc = None

    @property
    def url(self):
        return 'http://127.0.0.1:%d' % self.port

    def _setUp(self):
        if not shutil.which('docker-registry'):
            raise arm64node.Arm64Unavailable(
                'docker-registry is not installed: run tools/test-setup.sh')
        os.makedirs(self.workdir, exist_ok=True)
        self.port = processes.free_port()
        config = os.path.join(self.workdir, 'registry.yaml')
        with open(config, 'w') as f:
            json.dump(_registry_config(self.storage, self.port), f)
        self.log_path = os.path.join(self.workdir, 'registry.log')
        with open(self.log_path, 'ab') as log:
            self.proc = subprocess.Popen(
                ['docker-registry', 'serve', config],
                stdin=subprocess.DEVNULL, stdout=log,
                stderr=subprocess.STDOUT, start_new_session=True)
        self.addCleanup(self._stop)
        deadline = time.monotonic() + REGISTRY_START_TIMEOUT
        while time.monotonic() < deadline:
            try:
                if requests.get(self.url + '/v2/', timeout=2).ok:
                    return
            except requests.RequestException:
                pass
            if self.proc.poll() is not None:
                break
            time.sleep(0.3)
        raise arm64node.Arm64Unavailable(
            'docker-registry did not answer: see ' + self.log_path)

    def _stop(self):
        processes.stop_group(self.proc, grace=10)


def _layer(root, out):
    """Write ``root`` as a gzipped tar layer; (diff_id, digest, size)."""
    tar = subprocess.Popen(
        ['tar', '-C', root, '--numeric-owner', '--xattrs',
         *[a for e in IMAGE_EXCLUDES for a in ('--exclude', e)],
         '-cf', '-', '.'], stdout=subprocess.PIPE)
    diff = hashlib.sha256()
    with open(out, 'wb') as raw:
        with gzip.GzipFile(fileobj=raw, mode='wb', mtime=0,
                           compresslevel=3) as z:
            for chunk in iter(lambda: tar.stdout.read(1 << 20), b''):
                diff.update(chunk)
                z.write(chunk)
    if tar.wait() != 0:
        raise RuntimeError('tar of %s failed' % root)
    with open(out, 'rb') as f:
        digest = hashlib.file_digest(f, 'sha256').hexdigest()
    return 'sha256:' + diff.hexdigest(), 'sha256:' + digest, \
        os.path.getsize(out)


def _push_blob(url, name, data_path, digest):
    if requests.head('%s/v2/%s/blobs/%s' % (url, name, digest),
                     timeout=30).ok:
        return
    start = requests.post('%s/v2/%s/blobs/uploads/' % (url, name),
                          timeout=30)
    start.raise_for_status()
    location = start.headers['Location']
    if location.startswith('/'):
        location = url + location
    with open(data_path, 'rb') as f:
        put = requests.put(location, params={'digest': digest}, data=f,
                           headers={'Content-Type':
                                    'application/octet-stream'},
                           timeout=600)
    put.raise_for_status()


def push_root(url, name, tag, root, workdir, command):
    """Push ``root`` as the one-layer arm64 image ``name:tag``."""
    layer = os.path.join(workdir, 'layer.tar.gz')
    diff_id, layer_digest, layer_size = _layer(root, layer)
    config = json.dumps({
        'architecture': 'arm64', 'os': 'linux',
        'config': {'Cmd': ['bash'], 'Env': [
            'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:'
            '/sbin:/bin']},
        'rootfs': {'type': 'layers', 'diff_ids': [diff_id]},
        'history': [{'created_by': command}],
    }, sort_keys=True).encode()
    config_path = os.path.join(workdir, 'config.json')
    with open(config_path, 'wb') as f:
        f.write(config)
    config_digest = 'sha256:' + hashlib.sha256(config).hexdigest()
    _push_blob(url, name, layer, layer_digest)
    _push_blob(url, name, config_path, config_digest)
    manifest = {
        'schemaVersion': 2, 'mediaType': MANIFEST_TYPE,
        'config': {'mediaType': CONFIG_TYPE, 'size': len(config),
                   'digest': config_digest},
        'layers': [{'mediaType': LAYER_TYPE, 'size': layer_size,
                    'digest': layer_digest}],
    }
    put = requests.put('%s/v2/%s/manifests/%s' % (url, name, tag),
                       data=json.dumps(manifest),
                       headers={'Content-Type': MANIFEST_TYPE}, timeout=60)
    put.raise_for_status()


def debian_image_storage(release):
    """Registry storage holding ``library/debian:<release>`` for arm64,
    made from a debootstrap root once per machine."""
    storage = os.path.join(rm.CACHE_DIR, 'registry-mirror-debian-%s'
                           % release)
    if os.path.exists(os.path.join(storage, '.complete')):
        return storage
    with rm.cache_lock('.registry-mirror.lock'):
        if os.path.exists(os.path.join(storage, '.complete')):
            return storage
        root = _debootstrap(release)
        partial = storage + '.partial'
        shutil.rmtree(partial, ignore_errors=True)
        with tempfile.TemporaryDirectory(dir=rm.CACHE_DIR) as work:
            registry = Registry(os.path.join(work, 'registry'), partial)
            with registry:
                push_root(registry.url, 'library/debian', release, root,
                          work, 'debootstrap --arch=arm64 '
                          '--variant=minbase %s' % release)
        with open(os.path.join(partial, '.complete'), 'w'):
            pass
        shutil.rmtree(storage, ignore_errors=True)
        os.rename(partial, storage)
    return storage


def _debootstrap(release):
    root = os.path.join(rm.CACHE_DIR, 'arm64-%s-docker-base' % release)
    if os.path.exists(os.path.join(root, '.complete')):
        return root
    arm64node.check_binfmt()
    partial = root + '.partial'
    shutil.rmtree(partial, ignore_errors=True)
    proc = subprocess.run(
        ['debootstrap', '--arch=arm64', '--variant=minbase', release,
         partial, rm.debian_uri()], capture_output=True, text=True)
    if proc.returncode != 0:
        raise arm64node.Arm64Unavailable(
            'debootstrap %s failed: %s' % (release, proc.stdout[-2000:]
                                           + proc.stderr[-2000:]))
    with open(os.path.join(partial, '.complete'), 'w'):
        pass
    os.rename(partial, root)
    return root


class RegistryMirror(fixtures.Fixture):
    """The region's Docker registry mirror, holding ``debian:<release>``
    for arm64 (a throw-away copy of the cached storage)."""

    def __init__(self, workdir, release):
        super().__init__()
        self.workdir = workdir
        self.release = release

    def _setUp(self):
        os.makedirs(self.workdir, exist_ok=True)
        storage = os.path.join(self.workdir, 'storage')
        subprocess.run(['cp', '-al', debian_image_storage(self.release),
                        storage], check=True)
        self.registry = self.useFixture(Registry(self.workdir, storage))
        self.port = self.registry.port
        self.url = self.registry.url
        self.log_path = self.registry.log_path


class PublishedRegistry(fixtures.Fixture):
    """The registry a periodic Kolla job publishes to and later builds
    reuse from, on 127.0.0.1.

    Publishing is a full build, so what was published is kept per
    machine under ``key`` (which must cover everything that makes the
    images): ``cached`` says whether this run starts from it, and
    ``save()`` keeps this run's publish for the next.  The registry
    works on a throw-away copy.
    """

    def __init__(self, workdir, key):
        super().__init__()
        self.workdir = workdir
        self.cache = os.path.join(rm.CACHE_DIR, 'kolla-published-%s' % key)

    def _setUp(self):
        os.makedirs(self.workdir, exist_ok=True)
        self.storage = os.path.join(self.workdir, 'storage')
        self.cached = os.path.exists(os.path.join(self.cache, '.complete'))
        if self.cached:
            subprocess.run(['cp', '-al', self.cache, self.storage],
                           check=True)
        else:
            os.makedirs(self.storage)
        self.registry = self.useFixture(Registry(self.workdir, self.storage))
        self.port = self.registry.port
        self.url = self.registry.url
        self.log_path = self.registry.log_path

    def save(self):
        with rm.cache_lock('.kolla-published.lock'):
            if os.path.exists(os.path.join(self.cache, '.complete')):
                return
            partial = self.cache + '.partial'
            shutil.rmtree(partial, ignore_errors=True)
            subprocess.run(['cp', '-a', self.storage, partial], check=True)
            with open(os.path.join(partial, '.complete'), 'w'):
                pass
            shutil.rmtree(self.cache, ignore_errors=True)
            os.rename(partial, self.cache)

    def manifest(self, name, tag):
        response = requests.get(
            '%s/v2/%s/manifests/%s' % (self.url, name, tag),
            headers={'Accept': MANIFEST_TYPE}, timeout=30)
        response.raise_for_status()
        return response.json()

    def config(self, name, digest):
        response = requests.get('%s/v2/%s/blobs/%s' % (self.url, name,
                                                       digest), timeout=60)
        response.raise_for_status()
        return response.json()
