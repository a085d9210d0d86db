"""Time Kolla's Arm64 build job on the full-system aarch64 VM node.

Starts what ``tests/vm/test_kolla_vm.py`` starts (the region's mirror
host, the VM node booted from the image-checked node image, a
static-driver Nodepool and Zuul with an executor, the published
registry), runs the publish where this machine kept none (or always,
with ``--republish``), then pushes a change to Kolla's memcached
template, waits for the build job, and prints, each against the CI
budget:

* qemu start to SSH answering, and to dockerd active;
* the publish (the periodic job, base built in full): trigger to
  SUCCESS and what kolla-build reports base took;
* the change (memcached alone built on the published base): trigger to
  SUCCESS, memcached's build, and its push to the buildset registry;
* the deploy job of the same buildset (Kolla-Ansible's prechecks, pull,
  deploy and check of memcached): the job's own duration in Zuul, and
  the change's trigger to the deploy's SUCCESS.

Run as root on a machine that ran ``tools/test-setup.sh``::

    .tox/kolla-vm/bin/python benchmarks/kolla_vm.py [--republish]
"""

import argparse
import datetime
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(
    __file__))))

from tests.vm import test_kolla_vm as kv  # noqa: E402

# Seconds: the part of .ci/run's budgets (40 minutes warm, 60 cold) the
# Kolla VM test may take beside the rest of the suite, warm and cold,
# and the build job's own share of the warm part.
WARM_BUDGET = 20 * 60
COLD_BUDGET = 45 * 60
BUILD_JOB_BUDGET = 15 * 60


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


def _push(fixture, image):
    """From the image's creation to its manifest in the buildset
    registry."""
    created = _node(fixture, "docker image inspect --format "
                    "'{{.Created}}' 127.0.0.1:5000/kolla/%s:%s"
                    % (image, kv.TAG)).strip()
    link = ('/var/lib/docker-registry/docker/registry/v2/repositories/'
            'kolla/%s/_manifests/tags/%s/current/link' % (image, kv.TAG))
    pushed = float(_node(fixture, 'sudo stat -c %%Y %s' % link))
    start = datetime.datetime.fromisoformat(
        created[:26].rstrip('Z') + '+00:00').timestamp()
    return pushed - start


def _line(name, seconds, budget=None):
    if seconds is None:
        return '%-34s %10s' % (name, 'not run')
    text = '%-34s %8.0f s' % (name, seconds)
    if budget:
        text += '   (%.0f%% of %d s)' % (100 * seconds / budget, budget)
    return text


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--republish', action='store_true',
                        help='run the publish even where this machine '
                        'kept one')
    args = parser.parse_args()
    if args.republish:
        os.environ[kv.REPUBLISH] = '1'
    started = time.monotonic()
    fixture = kv.KollaVMFixture()
    fixture.setUp()
    try:
        dockerd = _dockerd_active(fixture)
        kv.TestKollaBuildOnVM.fixture = fixture
        start = time.monotonic()
        total = None
        for test in ('test_leaf_change_builds_only_the_leaf',
                     'test_leaf_is_deployed_by_kolla_ansible'):
            result = kv.TestKollaBuildOnVM(test).run()
            if not result.wasSuccessful():
                for _, error in result.errors + result.failures:
                    print(error, file=sys.stderr)
                return 1
            # The first also runs the leaf on the node, a few seconds.
            total = total or time.monotonic() - start
        to_deploy = time.monotonic() - start
        deploy = fixture.stack.zuul.wait_for_build(
            kv.jobpath.TENANT, 60, project=kv.KOLLA, job_name=kv.DEPLOY_JOB)
        leaf = kv.build_times(fixture.node, ('memcached',))['memcached']
        push = _push(fixture, 'memcached')
        publish = fixture.publish or {}
        took = publish.get('took', {})
        everything = time.monotonic() - started
        print(_line('qemu start -> SSH', fixture.node.boot_seconds))
        print(_line('qemu start -> dockerd active', dockerd))
        print(_line('publish: trigger -> SUCCESS', publish.get('seconds')))
        print(_line('publish: kolla-build base', took.get('base')))
        print(_line('change: kolla-build memcached', leaf))
        print(_line('change: push memcached', push))
        print(_line('change: trigger -> SUCCESS', total, BUILD_JOB_BUDGET))
        print(_line('deploy job (Zuul duration)', deploy['duration']))
        print(_line('change: trigger -> deploy SUCCESS', to_deploy))
        print(_line('whole run (%s)' % ('cold: published here'
                                        if publish else 'warm: publish kept'),
                    everything, COLD_BUDGET if publish else WARM_BUDGET))
        print(json.dumps({'boot': fixture.node.boot_seconds,
                          'dockerd': dockerd,
                          'publish': {'seconds': publish.get('seconds'),
                                      'took': took},
                          'leaf_build': leaf, 'leaf_push': push,
                          'trigger_to_success': total,
                          'deploy_job': deploy['duration'],
                          'trigger_to_deploy_success': to_deploy,
                          'whole_run': everything}))
    finally:
        fixture.cleanUp()
    return 0


if __name__ == '__main__':
    sys.exit(main())
