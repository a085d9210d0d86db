"""The full-system aarch64 VM node runs a job through the real executor,
handed out by Nodepool's static driver and by zuul-launcher's.

The node is vmnode's VM: its image was built by the harness and passed
``nodepool-aarch64 image-check`` before it was kept, and that file
boots under UEFI with its hostname and the executor's key from a config
drive.  Each class starts its own TLS ZooKeeper and Zuul (merger,
scheduler, web, an executor of the China region's zone and nothing
else) on the shipped inventory, and serves the VM as the China region's
(linaro-cn1) ``debian-bookworm-arm64`` node:

* through a real ``nodepool-launcher`` with the rendered launcher
  config, its provider switched to the static driver;
* through zuul-launcher (one of Zuul's components), with this project's
  rendered zuul-launcher objects in the site's config project, the
  China provider on Zuul's static driver.

A consumer project's push runs a job on that nodeset.  The job records
what the node is (machine, PID 1, Docker, hostname, the login user and
root through sudo); the test reads that back from the node and checks
that Zuul ran the build once.  The executor takes only its zone's
nodes, so a build also shows that the rendered ``executor-zone`` reached
the node through each launcher.
"""

import json
import os

import fixtures
import testtools

from nodepool_aarch64.formats.yamltext import dump
from nodepool_aarch64.inventory import load_inventory
from nodepool_aarch64.render import zuul as render_zuul
from tests.functional.harness import jobpath
from tests.functional.harness import vmnode
from tests.functional.harness import zuul_launcher

PROVIDER = 'linaro-cn1'
LABEL = 'debian-bookworm-arm64'
CONSUMER = 'arm64-consumer'
JOB = 'arm64-vm-node'
FACTS = 'vm-node-facts.json'
# Boot to SSH is about a minute under TCG; Ansible on the node is slow.
BUILD_TIMEOUT = 900
HOSTNAME = 'debian-bookworm-arm64-vm'
# Zuul gathers facts in a setup and a freeze playbook before the job's
# own, each within ansible_setup_timeout (60 s by default, for real
# nodes).  Under TCG on a loaded machine that alone took 58 s: a
# timeout there makes Zuul retry the build.
VM_EXECUTOR_SETTINGS = {'ansible_setup_timeout': '300'}
CONSUMER_FILES = {
    '.zuul.yaml': """\
- job:
    name: %(job)s
    nodeset: %(label)s
    run: playbooks/vm-node.yaml
- project:
    %(pipeline)s:
      jobs:
        - %(job)s
""" % {'job': JOB, 'label': LABEL, 'pipeline': jobpath.PUSH_PIPELINE},
    'playbooks/vm-node.yaml': """\
- hosts: all
  tasks:
    - name: Ask systemd whether the node has finished booting
      ansible.builtin.command: systemctl is-system-running --wait
      register: vm_system
      changed_when: false
      failed_when: vm_system.stdout not in ['running', 'degraded']

    - name: Ask Docker what it runs on
      become: true
      ansible.builtin.command: docker info --format "{{ '{{json .}}' }}"
      register: vm_docker
      changed_when: false

    - name: Ask who PID 1 is and who sudo makes us
      ansible.builtin.shell: |
        set -e
        printf '%%s\\n' "$(cat /proc/1/comm)" "$(sudo -n id -u)"
      register: vm_ids
      changed_when: false

    - name: Write down what the node is
      ansible.builtin.copy:
        dest: "{{ ansible_user_dir }}/%(facts)s"
        mode: "0644"
        content: "{{ facts | to_nice_json }}\\n"
      vars:
        docker: "{{ vm_docker.stdout | from_json }}"
        facts:
          provider: "{{ nodepool.provider }}"
          label: "{{ nodepool.label }}"
          machine: "{{ ansible_facts.machine }}"
          hostname: "{{ ansible_facts.hostname }}"
          user: "{{ ansible_facts.user_id }}"
          system: "{{ vm_system.stdout }}"
          pid1: "{{ vm_ids.stdout_lines[0] }}"
          sudo_uid: "{{ vm_ids.stdout_lines[1] }}"
          docker_architecture: "{{ docker.Architecture }}"
          docker_cgroup_driver: "{{ docker.CgroupDriver }}"
""" % {'facts': FACTS},
}


class VMNodeFixture(jobpath.ChinaNodeFixture):
    """The VM node and a stack serving it through ``provider``."""

    provider = None
    EXECUTOR_SETTINGS = VM_EXECUTOR_SETTINGS

    def _setUp(self):
        self.base = self.useFixture(fixtures.TempDir()).path
        self.node = self.useFixture(vmnode.Arm64VM(
            os.path.join(self.base, 'node'), hostname=HOSTNAME))
        site_files = {}
        if self.provider == 'zuul-launcher':
            inv = load_inventory(None)
            self.objects = zuul_launcher.one_node_objects(
                render_zuul.launcher_objects(inv), self.node, PROVIDER,
                LABEL)
            site_files['zuul.d/zuul-launcher.yaml'] = dump(
                self.objects, 'inventory linaro.yaml')
        tenant = jobpath.TenantRepos(
            os.path.join(self.base, 'git'),
            projects={CONSUMER: CONSUMER_FILES}, site_files=site_files)
        if self.provider == 'nodepool':
            self.start_stack(tenant, None)
        else:
            self.start_stack(
                tenant, None,
                lambda workdir, zk: zuul_launcher.LauncherComponent(
                    workdir, self.objects))


class NodepoolVMNode(VMNodeFixture):
    provider = 'nodepool'


class ZuulLauncherVMNode(VMNodeFixture):
    provider = 'zuul-launcher'


class VMNodeTests:
    """What each launcher's class checks."""

    def test_a_job_runs_on_the_vm_node(self):
        stack = self.f.stack
        build, seconds = stack.push_and_wait(
            CONSUMER, {'README': 'Run the job.\n'}, BUILD_TIMEOUT,
            job_name=JOB)
        self.addDetail('build', testtools.content.json_content(build))
        self.addDetail('seconds', testtools.content.text_content(
            '%.0f' % seconds))
        self.assertEqual('SUCCESS', build['result'], build)
        # A build Zuul retried is not a pass.
        self.assertTrue(build['final'], build)
        ran = [b for b in stack.zuul.builds(jobpath.TENANT, project=CONSUMER,
                                            job_name=JOB, limit=20)
               if b['buildset']['uuid'] == build['buildset']['uuid']]
        self.assertEqual([build['uuid']], [b['uuid'] for b in ran])

        out = self.f.node.ssh('cat %s' % FACTS)
        self.assertEqual(0, out.returncode, out.stderr)
        facts = json.loads(out.stdout)
        self.assertEqual({
            'machine': 'aarch64',
            # From the config drive the VM booted with.
            'hostname': HOSTNAME,
            'user': 'zuul',
            'pid1': 'systemd',
            'sudo_uid': '0',
            'docker_architecture': 'aarch64',
            'docker_cgroup_driver': 'systemd',
        }, {k: v for k, v in facts.items()
            if k not in ('system', 'provider', 'label')})
        self.assertIn(facts['system'], ('running', 'degraded'))

        # The launcher handed the node out as the China region's, as
        # Zuul tells the job (zuul-launcher names the provider by its
        # canonical name).
        self.assertEqual(PROVIDER, facts['provider'].rsplit('/', 1)[-1])
        self.assertEqual(LABEL, facts['label'])


class TestNodepoolHandsOutTheVM(VMNodeTests, jobpath.ClassStackTestCase):
    fixture_class = NodepoolVMNode


class TestZuulLauncherHandsOutTheVM(VMNodeTests,
                                    jobpath.ClassStackTestCase):
    fixture_class = ZuulLauncherVMNode
