"""The Ansible installations a zuul-executor runs jobs with.

A zuul-executor refuses to start (with ``manage_ansible = false``) unless
every Ansible version its release supports is installed by
``zuul-manage-ansible``, which takes a minute or two from PyPI.  They are
installed once per machine and per set of versions (the key is the Zuul
release and its ``ansible-config.conf``), under a lock, so that several
test runs share them.  The virtualenvs name their own path in their
scripts, so they are built where they stay; a marker file says a build
finished, and an unfinished one is thrown away and built again.
"""

import hashlib
import importlib.metadata
import os
import shutil
import subprocess
import sys

from tests.functional.harness.region_mirrors import CACHE_DIR, cache_lock

INSTALL_TIMEOUT = 1200


class AnsibleUnavailable(Exception):
    pass


def _command(name):
    return os.path.join(os.path.dirname(sys.executable), name)


def _key():
    import zuul.lib.ansible
    conf = os.path.join(os.path.dirname(zuul.lib.ansible.__file__),
                        'ansible-config.conf')
    with open(conf, 'rb') as f:
        digest = hashlib.sha256(f.read()).hexdigest()[:12]
    return '%s-%s' % (importlib.metadata.version('zuul'), digest)


def ansible_root():
    """The ``ansible_root`` for zuul.conf, installed if need be."""
    root = os.path.join(CACHE_DIR, 'zuul-ansible-' + _key())
    marker = os.path.join(root, '.complete')
    with cache_lock('.zuul-ansible.lock'):
        if os.path.exists(marker):
            return root
        shutil.rmtree(root, ignore_errors=True)
        os.makedirs(root)
        # PIP_* from the caller's environment (a constraints file, an
        # index) would change what the executor runs.
        env = {k: v for k, v in os.environ.items()
               if not k.startswith('PIP_')}
        try:
            proc = subprocess.run(
                [_command('zuul-manage-ansible'), '-r', root],
                capture_output=True, text=True, env=env,
                timeout=INSTALL_TIMEOUT)
        except subprocess.TimeoutExpired:
            raise AnsibleUnavailable(
                'zuul-manage-ansible -r %s took over %ss'
                % (root, INSTALL_TIMEOUT))
        if proc.returncode != 0:
            raise AnsibleUnavailable(
                'zuul-manage-ansible -r %s failed (%s):\n%s' % (
                    root, proc.returncode,
                    (proc.stdout + proc.stderr)[-3000:]))
        with open(marker, 'w'):
            pass
        return root


if __name__ == '__main__':
    # Warm the cache ahead of a run:
    #   python -m tests.functional.harness.zuul_ansible
    print(ansible_root())
