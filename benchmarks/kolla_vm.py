"""Time Kolla's Arm64 build job on the full-system aarch64 VM node.

Starts what ``tests/vm/test_kolla_vm.py`` starts (the region's
mirror host, the VM node booted from the image-checked node image, a
static-driver Nodepool and Zuul with an executor), pushes a change to
Kolla's memcached template, waits for the build job, and prints, each
against the CI budget:

* qemu start to SSH answering, and to dockerd active;
* the base and leaf builds, as kolla-build reports them ("took");
* each image's push: from the image's creation to its manifest in the
  buildset registry;
* trigger to SUCCESS for the build job.

The deploy job (kolla-ansible) does not run here; it prints as such.
Run as root on a machine that ran ``tools/test-setup.sh``::

    .tox/functional/bin/python benchmarks/kolla_vm.py
"""

import datetime
import json
import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(
    __file__))))

from tests.vm import test_kolla_vm as kv  # noqa: E402

# Seconds: the part of .ci/run's 40-minute warm budget the Kolla VM test
# may take, and the build job's own share of it.
TEST_BUDGET = 30 * 60
BUILD_JOB_BUDGET = 25 * 60
TOOK = re.compile(r'Built at .* \(took ([0-9:.]+)\)')


def _seconds(took):
    hours, minutes, seconds = took.split(':')
    return int(hours) * 3600 + int(minutes) * 60 + float(seconds)


def _node(fixture, command):
    out = fixture.node.ssh(command, timeout=120)
    if out.returncode != 0:
        raise RuntimeError('%s: %s' % (command, out.stderr))
    return out.stdout


def _dockerd_active(fixture):
    """Seconds from qemu's start to dockerd active."""
    uptime = float(_node(fixture, 'cat /proc/uptime').split()[0])
    active = int(_node(fixture, 'systemctl show docker -p '
                       'ActiveEnterTimestampMonotonic --value')) / 1e6
    # The kernel's clock started after the firmware; the SSH answer
    # just now ties it to qemu's.
    now_since_qemu = time.monotonic() - fixture.node.started
    return now_since_qemu - uptime + active


def _builds(fixture):
    took = {}
    for image in ('base', 'memcached'):
        log = _node(fixture, 'cat ~/zuul-output/logs/kolla/build/%s.log'
                    % image)
        match = TOOK.search(log)
        took[image] = _seconds(match.group(1)) if match else None
    return took


def _pushes(fixture):
    pushes = {}
    for image in ('base', 'memcached'):
        created = _node(fixture, "docker image inspect --format "
                        "'{{.Created}}' 127.0.0.1:5000/kolla/%s:%s"
                        % (image, kv.TAG)).strip()
        link = ('/var/lib/docker-registry/docker/registry/v2/repositories/'
                'kolla/%s/_manifests/tags/%s/current/link' % (image, kv.TAG))
        pushed = float(_node(fixture, 'sudo stat -c %%Y %s' % link))
        start = datetime.datetime.fromisoformat(
            created[:26].rstrip('Z') + '+00:00').timestamp()
        pushes[image] = pushed - start
    return pushes


def _line(name, seconds, budget=None):
    if seconds is None:
        return '%-34s %10s' % (name, 'not run')
    text = '%-34s %8.0f s' % (name, seconds)
    if budget:
        text += '   (%.0f%% of %d s)' % (100 * seconds / budget, budget)
    return text


def main():
    fixture = kv.KollaVMFixture()
    fixture.setUp()
    try:
        dockerd = _dockerd_active(fixture)
        kv.TestKollaBuildOnVM.fixture = fixture
        case = kv.TestKollaBuildOnVM('test_build_job_pushes_arm64_images')
        start = time.monotonic()
        result = case.run()
        total = time.monotonic() - start
        if not result.wasSuccessful():
            for _, error in result.errors + result.failures:
                print(error, file=sys.stderr)
            return 1
        builds = _builds(fixture)
        pushes = _pushes(fixture)
        print(_line('qemu start -> SSH', fixture.node.boot_seconds))
        print(_line('qemu start -> dockerd active', dockerd))
        print(_line('kolla-build base', builds['base']))
        print(_line('kolla-build memcached (leaf)', builds['memcached']))
        print(_line('push base', pushes['base']))
        print(_line('push memcached', pushes['memcached']))
        print(_line('kolla-ansible deploy', None))
        print(_line('trigger -> build job SUCCESS', total, BUILD_JOB_BUDGET))
        print(json.dumps({'boot': fixture.node.boot_seconds,
                          'dockerd': dockerd, 'builds': builds,
                          'pushes': pushes, 'trigger_to_success': total}))
    finally:
        fixture.cleanUp()
    return 0


if __name__ == '__main__':
    sys.exit(main())
