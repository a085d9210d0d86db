"""Kolla's Arm64 build job on a full-system aarch64 VM, through Zuul.

The node is vmnode's VM: its image was built by the harness, passed
``nodepool-aarch64 image-check``, and boots with systemd, sshd and
Docker, its hostname and the executor's key from a config drive.
Nodepool's static driver hands it out as the China region's
(linaro-cn1) node; the region's mirror host (inregion) serves Debian
through a caching proxy, the PyPI index with Kolla's aarch64 wheels, and
``debian:<release>`` for arm64 from a registry mirror.  Nothing comes
from Docker Hub.

A push to ``openstack/kolla`` (Kolla's sdist from PyPI as a git
repository; see kolla_sources) runs, through the real scheduler,
launcher and executor:

* ``kolla-aarch64-buildset-registry``: the base job's mirror role (apt,
  pip and Docker's registry mirror, whose handler restarts dockerd
  under systemd), then Debian's ``docker-registry`` on the node; the job
  pauses;
* ``kolla-build-debian-source-aarch64``, on the same node (it takes two
  jobs at once): ``docker.yaml``, ``pre.yaml`` (Kolla in a virtualenv
  with the constraints), ``build.yaml`` (``kolla-build`` of ``base`` and
  ``memcached`` for aarch64, pushed to the buildset registry), and
  ``arm64/post.yaml``.

The test then reads the registry's manifests (arm64, the job's tag),
runs the leaf image on the node and asks memcached for its stats.

What does not run here: the deploy job (kolla-ansible), and Kolla's own
zuul.d (its jobs need the rest of OpenDev's tenant).  The test's
template override leaves out what this machine cannot reach: the
third-party repositories' signing keys and the OpenStack backports
repository that ``extrepo`` enables (neither ``base`` nor ``memcached``
installs anything from them).
"""

import json
import os

import fixtures
import testtools

from nodepool_aarch64.render import REGION_MIRRORS
from tests.functional.harness import inregion
from tests.functional.harness import jobpath
from tests.functional.harness import kolla_sources
from tests.functional.harness import processes
from tests.functional.harness import vmnode

KOLLA = 'openstack/kolla'
REQUIREMENTS = 'openstack/requirements'
REGISTRY_JOB = 'kolla-aarch64-buildset-registry'
BUILD_JOB = 'kolla-build-debian-source-aarch64'
NODESET = 'debian-bookworm-arm64'
DEBIAN_RELEASE = 'trixie'
IMAGES = ['^memcached$']
TAG = 'master-aarch64'
# Base and leaf under TCG, with Kolla's install in the pre-run.
BUILD_TIMEOUT = 3600
WORK_ROOT = os.environ.get('NODEPOOL_AARCH64_VM_WORK', '/var/tmp')

# What this machine cannot reach, left out of the images: the keys of
# third-party repositories (fetched from their own sites and a
# keyserver), and extrepo, which downloads its index from outside
# Debian's archive and enables the OpenStack backports repository.  A
# site keeps such an override in a repository of its own, which the
# build job requires.
OVERRIDES = 'site/kolla-overrides'
OVERRIDE_FILE = 'unreachable.j2'
UNREACHABLE_OVERRIDE = r"""{% extends parent_template %}
{% set base_apt_keys_override = [] %}
{% set base_remote_apt_keys_override = [] %}
{% block base_ubuntu_package_sources_list %}
{{ super() }}
RUN printf '#!/bin/sh\n# Not reachable from this test machine.\nexit 0\n' \
        > /usr/local/bin/extrepo \
    && chmod 755 /usr/local/bin/extrepo
{% endblock %}
{% block base_ubuntu_package_apt_preferences %}
RUN rm -f /usr/local/bin/extrepo
{{ super() }}
{% endblock %}
"""


def site_project(mirror_docker_port):
    return [{'project': {
        'name': KOLLA,
        'vars': {
            'configure_region_mirror_probe_timeout': 5,
            'configure_region_mirror_docker_port': mirror_docker_port,
        },
        jobpath.PUSH_PIPELINE: {'jobs': [
            REGISTRY_JOB,
            {BUILD_JOB: {
                # The China region serves no -large label; its regular
                # Arm64 label is the one the node carries.
                'nodeset': NODESET,
                'required-projects': [OVERRIDES],
                'vars': {
                    'kolla_build_images': IMAGES,
                    'kolla_build_retries': 0,
                    'kolla_build_threads': 2,
                    'kolla_template_override_files': [
                        "{{ ansible_user_dir }}/{{ (zuul.projects.values() "
                        "| selectattr('name', 'equalto', '%s') | first)"
                        ".src_dir }}/%s" % (OVERRIDES, OVERRIDE_FILE)],
                }}},
        ]},
    }}]


class KollaVMFixture(jobpath.ChinaNodeFixture):
    """The region's mirror host, the VM node, Nodepool and Zuul."""

    def _setUp(self):
        self.sources = kolla_sources.fetch()
        os.makedirs(WORK_ROOT, exist_ok=True)
        self.base = self.useFixture(fixtures.TempDir(WORK_ROOT)).path
        self.mirror = inregion.CachingMirror(inregion.mirror_tree(
            os.path.join(self.base, 'mirror'), self.sources.wheels)).start()
        self.addCleanup(self.mirror.stop)
        self.registry_mirror = self.useFixture(inregion.RegistryMirror(
            os.path.join(self.base, 'registry-mirror'), DEBIAN_RELEASE))
        region_mirror = 'http://%s:%d' % (vmnode.HOST_FROM_GUEST,
                                          self.mirror.port)
        closed = 'http://%s:%d' % (vmnode.HOST_FROM_GUEST,
                                   processes.free_port())
        inventory = jobpath.harness_inventory(
            os.path.join(self.base, 'inventory.yaml'),
            {'linaro-cn1': region_mirror, 'linaro-london': closed,
             'linaro-us': closed})
        mirror_list = jobpath.rendered_mirror_list(
            inventory, os.path.join(self.base, 'rendered'))
        self.node = self.useFixture(vmnode.Arm64VM(
            os.path.join(self.base, 'node')))
        # The paused registry job and the build job share the node.
        self.node.max_parallel_jobs = 2
        tenant = jobpath.TenantRepos(
            os.path.join(self.base, 'git'),
            this_repo_files={REGION_MIRRORS: mirror_list},
            projects={
                KOLLA: lambda path: kolla_sources.make_kolla_repo(
                    self.sources, path),
                REQUIREMENTS: lambda path:
                    kolla_sources.make_requirements_repo(self.sources, path),
                OVERRIDES: {OVERRIDE_FILE: UNREACHABLE_OVERRIDE},
            },
            site_files={'zuul.d/kolla.yaml': json.dumps(
                site_project(self.registry_mirror.port))},
            prepare_workspace=True)
        self.start_stack(tenant, inventory)

    def log_paths(self):
        paths = super().log_paths()
        if self.node is not None:
            paths.append(os.path.join(self.node.parent, 'qemu.log'))
        return paths


class TestKollaBuildOnVM(jobpath.ClassStackTestCase):

    fixture_class = KollaVMFixture

    def node(self, command, timeout=120):
        out = self.f.node.ssh(command, timeout=timeout)
        self.assertEqual(0, out.returncode, '%s: %s' % (command, out.stderr))
        return out.stdout

    def registry(self, path):
        return json.loads(self.node(
            "curl -sf -H 'Accept: application/vnd.docker.distribution."
            "manifest.v2+json' http://127.0.0.1:5000/v2/%s" % path))

    def test_build_job_pushes_arm64_images(self):
        template = os.path.join(self.f.stack.tenant.path(KOLLA), 'kolla',
                                'docker', 'memcached', 'Dockerfile.j2')
        if not os.path.exists(template):
            template = os.path.join(self.f.stack.tenant.path(KOLLA),
                                    'docker', 'memcached', 'Dockerfile.j2')
        rel = os.path.relpath(template, self.f.stack.tenant.path(KOLLA))
        with open(template) as f:
            text = f.read()
        build, seconds = self.f.stack.push_and_wait(
            KOLLA, {rel: text.replace(
                '{% block memcached_footer %}',
                'LABEL org.opendev.arm64-test="leaf change"\n'
                '{% block memcached_footer %}')},
            BUILD_TIMEOUT, message='Label the memcached image',
            job_name=BUILD_JOB)
        self.addDetail('build', testtools.content.json_content(build))
        self.addDetail('seconds', testtools.content.text_content(
            '%.0f' % seconds))
        self.assertEqual('SUCCESS', build['result'], build)
        self._assert_first_attempts(build)

        # The images the build pushed say arm64 and carry the job's tag.
        for image in ('base', 'memcached'):
            tags = self.registry('kolla/%s/tags/list' % image)
            self.assertIn(TAG, tags['tags'])
            manifest = self.registry('kolla/%s/manifests/%s' % (image, TAG))
            config = json.loads(self.node(
                'curl -sf http://127.0.0.1:5000/v2/kolla/%s/blobs/%s'
                % (image, manifest['config']['digest'])))
            self.assertEqual('arm64', config['architecture'], image)
        labels = config['config']['Labels']
        self.assertEqual('leaf change', labels['org.opendev.arm64-test'])

        # The leaf runs on the node and its service answers.
        ref = '127.0.0.1:5000/kolla/memcached:%s' % TAG
        self.assertEqual('aarch64', self.node(
            'docker run --rm --user root %s uname -m' % ref,
            timeout=600).strip())
        self.node('docker run -d --name memcached-test --network host %s '
                  'memcached -l 127.0.0.1 -p 11211' % ref,
                  timeout=600)
        stats = self.f.node.wait_for(
            "python3 -c \"import socket; s=socket.create_connection("
            "('127.0.0.1', 11211), 5); s.sendall(b'stats\\r\\n'); "
            "print(s.recv(65536).decode())\"", timeout=60)
        self.assertEqual(0, stats.returncode, stats.stderr)
        self.assertIn('STAT pid', stats.stdout)

    def _assert_first_attempts(self, build):
        """Both builds of the buildset ran once: the first attempt of
        each was final (a build Zuul retried is not a pass)."""
        registry = self.f.stack.zuul.wait_for_build(
            jobpath.TENANT, 300, project=KOLLA, job_name=REGISTRY_JOB)
        self.assertEqual('SUCCESS', registry['result'], registry)
        buildset = build['buildset']['uuid']
        self.assertEqual(buildset, registry['buildset']['uuid'])
        mine = [b for b in self.f.stack.zuul.builds(
                    jobpath.TENANT, project=KOLLA, limit=50)
                if b.get('buildset', {}).get('uuid') == buildset]
        self.assertEqual(
            sorted([REGISTRY_JOB, BUILD_JOB]),
            sorted(b['job_name'] for b in mine), mine)
        self.assertTrue(all(b['final'] for b in mine), mine)

    def test_region_mirror_role_restarted_docker_with_the_mirror(self):
        info = json.loads(self.node(
            "sudo docker info --format '{{json .}}'"))
        mirror = 'http://%s:%d/' % (vmnode.HOST_FROM_GUEST,
                                    self.f.registry_mirror.port)
        self.assertIn(mirror, info['RegistryConfig']['Mirrors'])
        self.assertIn('127.0.0.1:5000',
                      info['RegistryConfig']['IndexConfigs'])

    def test_post_run_recorded_the_node(self):
        logs = '~/zuul-output/logs/arm64/'
        uname = self.node('cat %s*/uname.txt' % logs)
        self.assertIn('aarch64', uname)
        cpuinfo = self.node('cat %s*/cpuinfo.txt' % logs)
        self.assertIn('CPU implementer', cpuinfo)
