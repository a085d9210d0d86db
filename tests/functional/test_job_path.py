"""A project's Arm64 job, run the way production runs it.

A push to a consumer project (an untrusted git repository whose job has
``parent: base-arm64`` and ``nodeset: ubuntu-bionic-arm64``) is seen by
Zuul's git driver; the scheduler asks Nodepool for the node; a real
``nodepool-launcher`` on the rendered shipped inventory hands out an
emulated aarch64 node from the China region's provider (switched, in
the harness copy only, to the static driver); a real zuul-executor runs
``base-arm64``'s pre-run (the mirror role) and the consumer's playbook
over SSH as the node's unprivileged ``zuul`` user.  Results come from
zuul-web's builds API, and the node and the mirrors are read back.

The harness copy of the inventory points each region's ``mirror`` at a
loopback mirror: the China region's own, the London region's (the first
fallback) and a closed port for the US region.  The role's mirror list
is rendered from that copy by ``nodepool-aarch64 render``, the same
path that writes the shipped list.

One stack serves every test of the class: starting it and building each
emulated job is what costs, so the builds are few.
"""

import os

import fixtures
import testtools

from nodepool_aarch64.render import REGION_MIRRORS
from tests.functional.harness import arm64node
from tests.functional.harness import jobpath
from tests.functional.harness import processes
from tests.functional.harness import region_mirrors as rm

NODESET = 'ubuntu-bionic-arm64'
CONSUMER = 'arm64-consumer'
BROKEN_CONSUMER = 'arm64-consumer-broken'
# An emulated job runs every Ansible task under qemu-user.
BUILD_TIMEOUT = 600

CONSUMER_JOB = """\
- job:
    name: %(name)s
    parent: base-arm64
    nodeset: %(nodeset)s
    run: playbooks/run.yaml
    vars:
      # The harness's archive is unsigned.
      configure_region_mirror_apt_options: trusted=yes
      configure_region_mirror_probe_timeout: 3

- project:
    %(pipeline)s:
      jobs:
        - %(name)s
"""

CONSUMER_PLAYBOOK = """\
- name: Use the Arm64 node as a project's job does
  hosts: all
  tasks:
    - name: The node is an Arm64 machine
      ansible.builtin.assert:
        that: ansible_architecture == 'aarch64'

    # A static node keeps what earlier builds installed: fetch afresh,
    # so that every build's mirror sees the downloads.
    - name: Install a Debian package from the mirror
      become: true
      ansible.builtin.shell: |
        set -e
        apt-get clean
        apt-get install -y -q --reinstall npa-hello
      environment:
        DEBIAN_FRONTEND: noninteractive

    - name: Install a wheel with pip from the mirror
      ansible.builtin.shell: |
        set -e
        index=$(sed -n 's/^index-url = //p' /etc/pip.conf)
        wheel=$(python3 - "$index" <<'EOF'
        import re, sys, urllib.request
        index = sys.argv[1]
        page = urllib.request.urlopen(index + '/pip/').read().decode()
        name = re.search(r'href="([^"#]+[.]whl)', page).group(1)
        urllib.request.urlretrieve(index + '/pip/' + name, '/tmp/' + name)
        print('/tmp/' + name)
        EOF
        )
        python3 "$wheel/pip" install --user --break-system-packages \\
            --no-cache-dir --disable-pip-version-check --force-reinstall \\
            npa-hello
        python3 -c 'import npa_hello'
"""

BROKEN_PLAYBOOK = """\
- name: Fail as a broken test suite does
  hosts: all
  tasks:
    - name: Run the tests
      ansible.builtin.command: /bin/false
"""


def consumer_files(name, playbook):
    return {
        '.zuul.yaml': CONSUMER_JOB % {
            'name': name, 'nodeset': NODESET,
            'pipeline': jobpath.PUSH_PIPELINE},
        'playbooks/run.yaml': playbook,
    }


class JobPathFixture(jobpath.ChinaNodeFixture):
    """Mirrors, the node, Nodepool and Zuul, for one test class."""

    def _setUp(self):
        arm64node.check_binfmt()
        self.base = self.useFixture(fixtures.TempDir()).path
        pip = rm.current_pip_wheel()
        self.mirrors = {}
        for name in ('near', 'far'):
            top = os.path.join(self.base, 'mirror-' + name)
            rm.build_mirror_tree(top, arch='arm64', machine='aarch64',
                                 extra_wheels=[pip])
            server = rm.MirrorServer(top).start()
            self.addCleanup(server.stop)
            self.mirrors[name] = server
        self.near, self.far = self.mirrors['near'], self.mirrors['far']
        closed = 'http://127.0.0.1:%d' % processes.free_port()
        inventory = jobpath.harness_inventory(
            os.path.join(self.base, 'inventory.yaml'),
            {'linaro-cn1': self.near.url, 'linaro-london': self.far.url,
             'linaro-us': closed})
        mirror_list = jobpath.rendered_mirror_list(
            inventory, os.path.join(self.base, 'rendered'))
        self.node = self.useFixture(
            arm64node.Arm64Node(os.path.join(self.base, 'node')))
        tenant = jobpath.TenantRepos(
            os.path.join(self.base, 'git'),
            this_repo_files={REGION_MIRRORS: mirror_list},
            projects={
                CONSUMER: consumer_files(CONSUMER, CONSUMER_PLAYBOOK),
                BROKEN_CONSUMER: consumer_files(BROKEN_CONSUMER,
                                                BROKEN_PLAYBOOK)})
        self.start_stack(tenant, inventory)


class TestArm64JobPath(jobpath.ClassStackTestCase):

    fixture_class = JobPathFixture

    def push(self, project, tag):
        build, seconds = self.f.stack.push_and_wait(
            project, {'trigger/%s' % tag: '%s\n' % tag}, BUILD_TIMEOUT,
            message='Trigger ' + tag)
        self.addDetail('build', testtools.content.json_content(build))
        return build, seconds

    def node_file(self, path):
        out = self.f.node.ssh('cat %s' % path)
        self.assertEqual(0, out.returncode, out.stderr)
        return out.stdout

    def assertMirror(self, mirror, other):
        sources = self.node_file('/etc/apt/sources.list')
        self.assertIn('deb [trusted=yes] %s/debian bookworm main'
                      % mirror.url, sources)
        self.assertNotIn(other.url, sources)
        pip_conf = self.node_file('/etc/pip.conf')
        self.assertIn('index-url = %s/pypi/simple' % mirror.url, pip_conf)
        self.assertIn('%s/wheel/debian-12-aarch64' % mirror.url, pip_conf)

    def assertFetchedFrom(self, mirror, since):
        fetched = mirror.requests[since:]
        self.assertIn('/debian/pool/main/n/npa-hello/npa-hello_1.0_all.deb',
                      fetched)
        self.assertIn('/pypi/simple/npa-hello/npa_hello-1.0-py3-none-any.whl',
                      fetched)
        self.assertTrue([p for p in fetched
                         if p.startswith('/debian/dists/bookworm/')])

    def test_services_listen_on_loopback_only(self):
        stack = self.f.stack
        groups = {'zookeeper': stack.zookeeper.proc,
                  'nodepool-launcher': stack.nodes.launcher.proc,
                  'sshd': self.f.node.sshd}
        groups.update(('zuul-' + name, proc)
                      for name, proc in stack.zuul.procs.items())
        finger = int(stack.zuul.executor_config['finger_port'])
        seen = []
        for name, proc in groups.items():
            for pid in processes.pids_in_group(proc.pid):
                for host, port in processes.listening_addresses(pid):
                    seen.append((name, host, port))
        # Zuul binds the executor's finger log streamer to "::" and
        # offers no setting for it; the harness gives it a free port.
        outside = [s for s in seen if not processes.is_loopback(s[1])
                   and s != ('zuul-executor', '::', finger)]
        self.assertEqual([], outside)
        self.assertIn(('zuul-executor', '::', finger), seen)
        self.assertTrue([s for s in seen if s[0] == 'sshd'])

    def test_consumer_job_succeeds_through_the_in_region_mirror(self):
        near_before = len(self.f.near.requests)
        far_before = len(self.f.far.requests)
        build, seconds = self.push(CONSUMER, 'in-region')
        self.assertEqual('SUCCESS', build['result'], build)
        self.assertEqual(CONSUMER, build['job_name'])
        self.assertEqual(NODESET, build['nodeset'])
        self.assertEqual(jobpath.PUSH_PIPELINE, build['pipeline'])
        self.assertMirror(self.f.near, self.f.far)
        self.assertFetchedFrom(self.f.near, near_before)
        # The fallback was not even probed.
        self.assertEqual([], self.f.far.requests[far_before:])

    def test_fallback_when_the_in_region_mirror_is_down(self):
        self.f.near.stop()
        self.addCleanup(self.f.near.start)
        far_before = len(self.f.far.requests)
        build, seconds = self.push(CONSUMER, 'fallback')
        self.assertEqual('SUCCESS', build['result'], build)
        self.assertMirror(self.f.far, self.f.near)
        self.assertFetchedFrom(self.f.far, far_before)

    def test_failing_consumer_playbook_is_a_failure(self):
        build, seconds = self.push(BROKEN_CONSUMER, 'broken')
        self.assertEqual('FAILURE', build['result'], build)
        self.assertEqual(BROKEN_CONSUMER, build['job_name'])

    def test_node_without_sshd_ends_the_build(self):
        self.f.node.stop_sshd()
        self.addCleanup(self.f.node.start_sshd)
        build, seconds = self.push(CONSUMER, 'no-sshd')
        # The executor cannot reach the node: Zuul retries the build
        # (three attempts) and then records RETRY_LIMIT.
        self.assertEqual('RETRY_LIMIT', build['result'], build)
        self.assertLess(seconds, BUILD_TIMEOUT)
