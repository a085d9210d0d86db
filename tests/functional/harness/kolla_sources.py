"""Kolla from PyPI, shaped as a Zuul job finds it on a node.

* ``fetch()`` downloads, once per machine (under a lock), the Kolla
  sdist and the wheels an Arm64 Debian bookworm node needs to install
  Kolla and the Docker client library (aarch64 wheels for CPython 3.11,
  or pure-Python ones), plus pip, setuptools and pbr to build the
  checkout.
* ``fetch_kolla_ansible()`` does the same for the deploy job:
  Kolla-Ansible's sdist and its wheels, the versions Kolla's set already
  has kept, plus the ``ansible`` package, whose collections stand in
  for Ansible Galaxy (which a region with a poor link to the world may
  not reach).
* ``make_kolla_repo`` turns the sdist into the ``openstack/kolla`` git
  repository a change would be tested from (``make_kolla_ansible_repo``
  ``openstack/kolla-ansible``); ``make_requirements_repo`` makes
  ``openstack/requirements`` with an ``upper-constraints.txt`` pinning
  exactly the fetched wheels, as the real one pins what the branch
  tested.
"""

import glob
import os
import re
import shutil
import subprocess
import sys
import tarfile

from tests.functional.harness import gitrepos
from tests.functional.harness.region_mirrors import CACHE_DIR, cache_lock

KOLLA_VERSION = '23.0.0'
# The newest Kolla-Ansible on PyPI (stable/2026.1); it deploys the
# images by name and tag, which Kolla 23 builds as before.
KOLLA_ANSIBLE_VERSION = '22.2.0'
# The collections Kolla-Ansible's roles name (requirements-core.yml),
# for the ansible-core it requires (2.19).
ANSIBLE_COLLECTIONS = 'ansible>=12,<13'
# The node: Debian bookworm's Python on aarch64.  glibc 2.36 takes every
# manylinux wheel up to 2_36; pip needs each tag spelled out.
PLATFORMS = ('manylinux_2_36_aarch64', 'manylinux_2_28_aarch64',
             'manylinux2014_aarch64')
PYTHON_VERSION = '3.11'
# What the job installs besides the checkout: kolla-build imports the
# Docker client library; pip and setuptools come up to date first; pbr
# builds the checkout.
EXTRA_REQUIREMENTS = ('docker', 'pip', 'setuptools', 'pbr')
# Not in OpenStack's upper-constraints: installers, and the projects
# under test themselves.
UNCONSTRAINED = {'pip', 'setuptools', 'wheel', 'kolla', 'kolla-ansible'}


class KollaSources:
    """A project's sdist (the one ``*.tar.gz`` in ``top``) and the
    wheels a node installs it with."""

    def __init__(self, top):
        self.top = top
        self.wheel_dir = os.path.join(top, 'wheels')

    @property
    def sdist(self):
        found = glob.glob(os.path.join(self.top, '*.tar.gz'))
        if len(found) != 1:
            raise RuntimeError('not one sdist in %s: %s' % (self.top, found))
        return found[0]

    @property
    def wheels(self):
        return sorted(os.path.join(self.wheel_dir, n)
                      for n in os.listdir(self.wheel_dir)
                      if n.endswith('.whl'))


def _pip_download(*args):
    proc = subprocess.run(
        [sys.executable, '-m', 'pip', 'download', '-q',
         '--disable-pip-version-check'] + list(args),
        capture_output=True, text=True,
        # The runner's own PIP_* settings are not the node's.
        env={'PATH': os.environ['PATH'], 'HOME': '/root'})
    if proc.returncode != 0:
        raise RuntimeError('pip download %s failed:\n%s'
                           % (' '.join(args), proc.stderr[-3000:]))


def _fetch(top, lock, download):
    """``download(directory)`` once per machine into ``top``."""
    sources = KollaSources(top)
    if os.path.exists(os.path.join(top, '.complete')):
        return sources
    with cache_lock(lock):
        if os.path.exists(os.path.join(top, '.complete')):
            return sources
        partial = top + '.partial'
        shutil.rmtree(partial, ignore_errors=True)
        download(partial)
        shutil.rmtree(top, ignore_errors=True)
        with open(os.path.join(partial, '.complete'), 'w'):
            pass
        os.rename(partial, top)
    return sources


def _node_wheels(directory, *requirements):
    platforms = [a for p in PLATFORMS for a in ('--platform', p)]
    _pip_download('--only-binary', ':all:', *platforms,
                  '--python-version', PYTHON_VERSION,
                  '--implementation', 'cp',
                  '-d', os.path.join(directory, 'wheels'), *requirements)


def fetch():
    """The cached Kolla sdist and the node's wheels (a KollaSources)."""
    def download(partial):
        _pip_download('--no-deps', '--no-binary', ':all:', '-d', partial,
                      'kolla==' + KOLLA_VERSION)
        _node_wheels(partial, 'kolla==' + KOLLA_VERSION, *EXTRA_REQUIREMENTS)
    return _fetch(os.path.join(CACHE_DIR, 'kolla-%s-py%s-aarch64'
                               % (KOLLA_VERSION, PYTHON_VERSION)),
                  '.kolla.lock', download)


def fetch_kolla_ansible(kolla):
    """Kolla-Ansible's sdist and the node's wheels for it and for the
    ``ansible`` collections, keeping the versions of ``kolla``'s wheels
    (a KollaSources), cached like ``fetch``."""
    def download(partial):
        _pip_download('--no-deps', '--no-binary', ':all:', '-d', partial,
                      'kolla-ansible==' + KOLLA_ANSIBLE_VERSION)
        os.makedirs(partial, exist_ok=True)
        pins = os.path.join(partial, 'kolla-pins.txt')
        with open(pins, 'w') as f:
            f.write(upper_constraints(kolla.wheels))
        _node_wheels(partial, '-c', pins,
                     'kolla-ansible==' + KOLLA_ANSIBLE_VERSION,
                     ANSIBLE_COLLECTIONS)
    return _fetch(os.path.join(CACHE_DIR, 'kolla-ansible-%s-kolla-%s-py%s-'
                               'aarch64' % (KOLLA_ANSIBLE_VERSION,
                                            KOLLA_VERSION, PYTHON_VERSION)),
                  '.kolla.lock', download)


def node_wheels(*sources):
    """Every wheel of ``sources``, each file once."""
    seen = {}
    for source in sources:
        for path in source.wheels:
            seen.setdefault(os.path.basename(path), path)
    return sorted(seen.values())


def _wheel_name_version(path):
    name, version = os.path.basename(path).split('-')[:2]
    return re.sub(r'[-_.]+', '-', name).lower(), version


def upper_constraints(wheels):
    """``upper-constraints.txt`` text pinning ``wheels``, as OpenStack's
    requirements repository writes it (``name===version``)."""
    pins = sorted(_wheel_name_version(w) for w in wheels)
    return ''.join('%s===%s\n' % (n, v) for n, v in pins
                   if n not in UNCONSTRAINED)


FIXED_DATES = {'GIT_AUTHOR_DATE': '2026-01-01T00:00:00Z',
               'GIT_COMMITTER_DATE': '2026-01-01T00:00:00Z'}


def make_kolla_repo(sources, path, zuul_config=False):
    """``openstack/kolla`` at ``path``: the sdist's tree, tagged with its
    version (pbr takes the version from the tag).

    Kolla's own Zuul configuration (its ``zuul.d``) is kept only with
    ``zuul_config``: its jobs refer to the rest of OpenDev's tenant.
    """
    _sdist_repo(sources.sdist, KOLLA_VERSION, 'Kolla', path,
                keep_zuul_config=zuul_config)


def kolla_zuul_config(sources, path):
    """Kolla's own ``zuul.d``, from the sdist, at ``path``/zuul.d."""
    with tarfile.open(sources.sdist) as tar:
        top = tar.getnames()[0].split('/')[0]
        members = [m for m in tar.getmembers()
                   if m.name.startswith(top + '/zuul.d/')]
        tar.extractall(path, members=members, filter='data')
    zuul_d = os.path.join(path, 'zuul.d')
    os.rename(os.path.join(path, top, 'zuul.d'), zuul_d)
    return zuul_d


def make_kolla_ansible_repo(sources, path):
    """``openstack/kolla-ansible`` at ``path``, made as ``make_kolla_repo``
    makes Kolla's."""
    _sdist_repo(sources.sdist, KOLLA_ANSIBLE_VERSION, 'Kolla-Ansible', path)


def _sdist_repo(sdist, version, project, path, keep_zuul_config=False):
    parent = os.path.dirname(path) or '.'
    with tarfile.open(sdist) as tar:
        top = tar.getnames()[0].split('/')[0]
        tar.extractall(parent, filter='data')
    os.rename(os.path.join(parent, top), path)
    for name in () if keep_zuul_config else (
            'zuul.d', '.zuul.yaml', '.zuul.d', 'zuul.yaml'):
        target = os.path.join(path, name)
        if os.path.isdir(target):
            shutil.rmtree(target)
        elif os.path.exists(target):
            os.remove(target)
    gitrepos.git('init', '-q', '-b', 'master', '.', cwd=path)
    gitrepos.git('add', '-A', cwd=path)
    # One commit id on every run: images published from it on one run
    # are reused by the next, which finds that commit in its history.
    gitrepos.git('commit', '-q', '-m', '%s %s' % (project, version),
                 cwd=path, env=FIXED_DATES)
    gitrepos.git('tag', '-a', '-m', version, version, cwd=path,
                 env=FIXED_DATES)


def make_requirements_repo(wheels, path):
    """``openstack/requirements`` pinning ``wheels``."""
    gitrepos.make_repo(path, files={
        'upper-constraints.txt': upper_constraints(wheels)})
