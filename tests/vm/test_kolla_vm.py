"""Kolla's Arm64 build job on a full-system aarch64 VM, through Zuul.

The node is vmnode's VM: its image was built by the harness, passed
``nodepool-aarch64 image-check``, and boots with systemd, sshd and
Docker, its hostname and the executor's key from a config drive.
Nodepool's static driver hands it out as the China region's
(linaro-cn1) node; the region's mirror host (inregion) serves Debian
through a caching proxy, the PyPI index with Kolla's aarch64 wheels, and
``debian:<release>`` for arm64 from a registry mirror.  Nothing comes
from Docker Hub.

``openstack/kolla`` is Kolla's sdist from PyPI as a git repository
(kolla_sources).  Two buildsets run through the real scheduler,
launcher and executor, each starting with
``kolla-aarch64-buildset-registry`` (the base job's mirror role, with
Docker's registry mirror, whose handler restarts dockerd under systemd,
then Debian's ``docker-registry`` on the node; the job pauses) and
sharing the node with it:

* the publish: ``kolla-publish-debian-source-aarch64``, what a site runs
  weekly, builds ``base`` for aarch64 (what the change's build stands
  on; a site's job builds its whole profile) and pushes it to the
  published registry on the mirror host.  It is started by a
  push to ``site/kolla-publish``, standing in for the periodic
  pipeline; it runs only when this machine has not kept a publish made
  from the same inputs (``PublishedRegistry``), and the node is then
  booted afresh before the next buildset;
* the change: a push to Kolla that changes only ``memcached``'s
  Dockerfile runs ``kolla-build-debian-source-aarch64``: ``docker.yaml``,
  ``pre.yaml``, ``build.yaml`` (``kolla-images`` against the revision
  the published ``base`` is labelled with, the published ``base``
  pulled, ``memcached`` alone built by ``kolla-build`` and pushed to
  the buildset registry) and ``arm64/post.yaml``; then
  ``kolla-ansible-debian-source-aarch64``: Kolla-Ansible from
  ``openstack/kolla-ansible`` (its PyPI sdist), with the ``ansible``
  package's collections from the region's PyPI mirror, runs prechecks,
  pull, deploy and check for memcached alone.

The first test reads the selection the job logged, the registry's
manifests (arm64, the job's tag, ``memcached``'s lower layers being the
published ``base``'s), runs the leaf on the node and asks memcached for
its stats; the second waits for the deploy and finds Kolla-Ansible's
memcached container running the buildset's image, healthy, answering on
the node's address.

What does not run: Kolla-Ansible's common services and
``bootstrap-servers`` (Docker comes from ``docker.yaml``), and Kolla's
own zuul.d (its jobs need the rest of OpenDev's tenant).  The test's
template override leaves out what this machine cannot reach: the
third-party repositories' signing keys and the OpenStack backports
repository that ``extrepo`` enables (neither ``base`` nor ``memcached``
installs anything from them).
"""

import glob
import hashlib
import json
import os
import re
import shutil

import fixtures
import testtools

from nodepool_aarch64.render import REGION_MIRRORS
from tests.functional import test_vm_node
from tests.functional.harness import artefacts
from tests.functional.harness import gitrepos
from tests.functional.harness import inregion
from tests.functional.harness import jobpath
from tests.functional.harness import kolla_sources
from tests.functional.harness import processes
from tests.functional.harness import vmnode

KOLLA = 'openstack/kolla'
KOLLA_ANSIBLE = 'openstack/kolla-ansible'
REQUIREMENTS = 'openstack/requirements'
REGISTRY_JOB = 'kolla-aarch64-buildset-registry'
BUILD_JOB = 'kolla-build-debian-source-aarch64'
PUBLISH_JOB = 'kolla-publish-debian-source-aarch64'
DEPLOY_JOB = 'kolla-ansible-debian-source-aarch64'
PUBLISH_PROJECT = 'site/kolla-publish'
REVISION_LABEL = 'org.opencontainers.image.revision'
NODESET = 'debian-bookworm-arm64'
DEBIAN_RELEASE = 'trixie'
IMAGES = ['^memcached$']
# The publish builds what the change's build stands on: base.  (A
# site's periodic job builds its whole profile.)
PUBLISHED_IMAGES = ['^base$']
TAG = 'master-aarch64'
# Base and leaf under TCG, with Kolla's install in the pre-run.
BUILD_TIMEOUT = 3600
# The publish builds base in full and pushes it through the node's
# user-mode network, gzipping its layers under TCG: measured past 60
# minutes on a loaded machine.
PUBLISH_TIMEOUT = 6000
# Kolla-Ansible and the ansible collections installed under TCG, then
# its prechecks, pull, deploy and check of one service.
DEPLOY_TIMEOUT = 3600
# What the deploy job deploys: the leaf the change rebuilt, alone.
# Kolla-Ansible's common services (fluentd, kolla-toolbox, cron) are not
# built, so they are not deployed either.
DEPLOY_VARS = {
    'kolla_ansible_actions': ['prechecks', 'pull', 'deploy', 'check'],
    'kolla_ansible_tags': ['memcached'],
    'kolla_ansible_collections': 'pypi',
    'kolla_ansible_globals': {
        'enable_openstack_core': False,
        'enable_fluentd': False,
        'enable_keepalived': False,
        'enable_memcached': True,
    },
}
WORK_ROOT = os.environ.get('NODEPOOL_AARCH64_VM_WORK', '/var/tmp')
# Set, the publish runs even where this machine kept one (to time it).
REPUBLISH = 'NODEPOOL_AARCH64_REPUBLISH'
IMAGE_NAMES = ('base', 'memcached')
# kolla-build's line at the end of each image's log.
TOOK = re.compile(r'Built at .* \(took ([0-9:.]+)\)')

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


def job_vars(published_port, images=IMAGES):
    return {
        'kolla_build_images': images,
        'kolla_build_retries': 0,
        'kolla_build_threads': 2,
        'kolla_template_override_files': [
            "{{ ansible_user_dir }}/{{ (zuul.projects.values() "
            "| selectattr('name', 'equalto', '%s') | first)"
            ".src_dir }}/%s" % (OVERRIDES, OVERRIDE_FILE)],
        'kolla_published_registry': '%s:%d' % (vmnode.HOST_FROM_GUEST,
                                               published_port),
        'kolla_published_registry_insecure': True,
    }


def site_project(mirror_docker_port, published_port):
    mirror_vars = {
        'configure_region_mirror_probe_timeout': 5,
        'configure_region_mirror_docker_port': mirror_docker_port,
    }

    def buildset(job, images, deploy=False):
        jobs = [
            REGISTRY_JOB,
            {job: {
                # The China region serves no -large label; its regular
                # Arm64 label is the one the node carries.
                'nodeset': NODESET,
                'required-projects': [OVERRIDES],
                'vars': job_vars(published_port, images)}}]
        if deploy:
            jobs.append({DEPLOY_JOB: {'nodeset': NODESET,
                                      'vars': DEPLOY_VARS}})
        return {jobpath.PUSH_PIPELINE: {'jobs': jobs}}

    return [
        {'project': dict(name=KOLLA, vars=mirror_vars,
                         **buildset(BUILD_JOB, IMAGES, deploy=True))},
        # What a site's periodic pipeline runs on Kolla's branch.
        {'project': dict(name=PUBLISH_PROJECT, vars=mirror_vars,
                         **buildset(PUBLISH_JOB, PUBLISHED_IMAGES))},
    ]


def build_times(node, images):
    """Seconds kolla-build reports each of ``images`` took, from its
    logs on ``node`` (None for one it did not build)."""
    took = {}
    for image in images:
        out = node.ssh('cat ~/zuul-output/logs/kolla/build/%s.log' % image,
                       timeout=120)
        match = TOOK.search(out.stdout) if out.returncode == 0 else None
        if match:
            hours, minutes, seconds = match.group(1).split(':')
            took[image] = (int(hours) * 3600 + int(minutes) * 60
                           + float(seconds))
        else:
            took[image] = None
    return took


def first_attempts(zuul, project, build, jobs):
    """Why ``build``'s buildset is not one successful, final first
    attempt of each of ``jobs`` (a build Zuul retried is not a pass),
    or None."""
    buildset = build['buildset']['uuid']
    for job in jobs:
        done = zuul.wait_for_build(jobpath.TENANT, 300, project=project,
                                   job_name=job)
        if done['result'] != 'SUCCESS' or \
                done['buildset']['uuid'] != buildset:
            return '%s is not a SUCCESS of buildset %s: %s' % (
                job, buildset, done)
    mine = [b for b in zuul.builds(jobpath.TENANT, project=project,
                                   limit=50)
            if b.get('buildset', {}).get('uuid') == buildset
            and b['job_name'] in jobs]
    if sorted(b['job_name'] for b in mine) != sorted(jobs) or \
            not all(b['final'] for b in mine):
        return 'not one final first attempt of each of %s: %s' % (
            sorted(jobs), mine)
    return None


# Playbooks and roles no job of the publish runs: a change to them
# leaves what it published as it was.
NOT_IN_THE_PUBLISH = ('playbooks/kolla/deploy.yaml',
                      'playbooks/kolla/dockerfiles.yaml',
                      'roles/uefi-boot-check/')


def published_key(node_image):
    """What the published images are made from: the node's image, Kolla,
    the playbooks and roles that build them, the test's own settings."""
    digest = hashlib.sha256()
    digest.update(json.dumps([
        os.path.basename(node_image), kolla_sources.KOLLA_VERSION,
        DEBIAN_RELEASE, PUBLISHED_IMAGES, UNREACHABLE_OVERRIDE,
        job_vars(0)], sort_keys=True).encode())
    for top in ('playbooks', 'roles'):
        for root, dirs, files in sorted(os.walk(
                os.path.join(gitrepos.REPO, top))):
            dirs.sort()
            for name in sorted(files):
                path = os.path.join(root, name)
                relative = os.path.relpath(path, gitrepos.REPO)
                if relative.startswith(NOT_IN_THE_PUBLISH):
                    continue
                digest.update(relative.encode())
                with open(path, 'rb') as f:
                    digest.update(hashlib.sha256(f.read()).digest())
    return digest.hexdigest()[:16]


class KollaVMFixture(jobpath.ChinaNodeFixture):
    """The region's mirror host, the VM node, Nodepool and Zuul."""

    EXECUTOR_SETTINGS = test_vm_node.VM_EXECUTOR_SETTINGS

    mirror = registry_mirror = published = change_build = None

    def _setUp(self):
        self.sources = kolla_sources.fetch()
        self.deploy_sources = kolla_sources.fetch_kolla_ansible(self.sources)
        wheels = kolla_sources.node_wheels(self.sources, self.deploy_sources)
        os.makedirs(WORK_ROOT, exist_ok=True)
        self.base = self.useFixture(fixtures.TempDir(WORK_ROOT)).path
        self.mirror = inregion.CachingMirror(inregion.mirror_tree(
            os.path.join(self.base, 'mirror'), wheels)).start()
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
        self.published = self.useFixture(inregion.PublishedRegistry(
            os.path.join(self.base, 'published'),
            published_key(self.node._image)))
        tenant = jobpath.TenantRepos(
            os.path.join(self.base, 'git'),
            this_repo_files={REGION_MIRRORS: mirror_list},
            projects={
                KOLLA: lambda path: kolla_sources.make_kolla_repo(
                    self.sources, path),
                KOLLA_ANSIBLE: lambda path:
                    kolla_sources.make_kolla_ansible_repo(
                        self.deploy_sources, path),
                REQUIREMENTS: lambda path:
                    kolla_sources.make_requirements_repo(wheels, path),
                OVERRIDES: {OVERRIDE_FILE: UNREACHABLE_OVERRIDE},
                PUBLISH_PROJECT: {'README': 'Starts the publish.\n'},
            },
            site_files={'zuul.d/kolla.yaml': json.dumps(
                site_project(self.registry_mirror.port,
                             self.published.port))},
            prepare_workspace=True)
        self.start_stack(tenant, inventory)
        self.published_revision = gitrepos.git(
            'rev-parse', 'HEAD', cwd=tenant.path(KOLLA)).strip()
        self.publish = None
        if not self.published.cached or os.environ.get(REPUBLISH):
            self._publish()

    def _publish(self):
        """Publish as the periodic job does, keep it for later runs, and
        give the change a fresh node."""
        try:
            build, seconds = self.stack.push_and_wait(
                PUBLISH_PROJECT, {'README': 'Publish.\n'}, PUBLISH_TIMEOUT,
                message='Publish', job_name=PUBLISH_JOB)
            if build['result'] != 'SUCCESS':
                raise AssertionError('the publish failed: %s' % build)
            problem = first_attempts(self.stack.zuul, PUBLISH_PROJECT, build,
                                     [REGISTRY_JOB, PUBLISH_JOB])
            if problem:
                raise AssertionError('the publish: %s' % problem)
        except Exception:
            # The fixture's directories go with its cleanup, before the
            # test case could keep them.
            self.keep_logs('publish')
            raise
        self.publish = dict(build, seconds=seconds)
        # What each image took, from kolla-build's logs on the node,
        # before the node goes.
        self.publish['took'] = build_times(self.node, IMAGE_NAMES)
        self.published.save()
        self.node.restart()

    def keep_logs(self, name):
        """Copy the logs, and the executor's job outputs, to
        functional-logs/ now."""
        target = os.path.join(artefacts.ARTEFACT_ROOT, '%s.%s' % (
            __name__, name))
        os.makedirs(target, exist_ok=True)
        outputs = glob.glob(os.path.join(self.base, 'zuul', 'builds', '*',
                                         'work', 'logs', 'job-output.txt'))
        for path in [p for p in self.log_paths() if p] + outputs:
            if os.path.exists(path):
                shutil.copy2(path, os.path.join(target, '%s-%s' % (
                    os.path.basename(os.path.dirname(path)),
                    os.path.basename(path))))

    def log_paths(self):
        paths = super().log_paths()
        if self.node is not None:
            paths.append(os.path.join(self.node.parent, 'qemu.log'))
        for fixture in (self.mirror, self.registry_mirror, self.published):
            if fixture is not None:
                paths.append(getattr(fixture, 'log_path', None))
        return paths


class TestKollaBuildOnVM(jobpath.ClassStackTestCase):

    fixture_class = KollaVMFixture

    def node(self, command, timeout=120):
        out = self.f.node.ssh(command, timeout=timeout)
        self.assertEqual(0, out.returncode, '%s: %s' % (command, out.stderr))
        return out.stdout

    def registry(self, path):
        """JSON from the buildset registry's API on the node (with the
        node's Python: the node has no curl)."""
        return json.loads(self.node(
            "python3 -c 'import sys, urllib.request as r; print(r.urlopen("
            "r.Request(sys.argv[1], headers={\"Accept\": sys.argv[2]}), "
            "timeout=60).read().decode())' http://127.0.0.1:5000/v2/%s "
            "application/vnd.docker.distribution.manifest.v2+json" % path))

    def node_json(self, path):
        return json.loads(self.node('cat %s' % path))

    def test_leaf_change_builds_only_the_leaf(self):
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
        if self.f.publish:
            self.addDetail('publish', testtools.content.json_content(
                self.f.publish))
        self.assertEqual('SUCCESS', build['result'], build)
        self.f.change_build = build
        # The registry job stays paused until the deploy job is done too:
        # its first attempt is the deploy test's to check.
        self.assertIsNone(first_attempts(self.f.stack.zuul, KOLLA, build,
                                         [BUILD_JOB]))

        # The published images say which Kolla they were built from.
        published_base = self.f.published.manifest('kolla/base', TAG)
        base_config = self.f.published.config(
            'kolla/base', published_base['config']['digest'])
        self.assertEqual('arm64', base_config['architecture'])
        self.assertEqual(self.f.published_revision,
                         base_config['config']['Labels'][REVISION_LABEL])

        # The job chose the leaf alone, from that revision, and built it
        # alone.
        logs = '~/zuul-output/logs/kolla/'
        selection = self.node_json(logs + 'kolla-images.json')
        self.assertIsNone(selection['fallback'], selection)
        self.assertEqual(['memcached'], selection['build'])
        self.assertEqual({'memcached': 'Dockerfile changed'},
                         selection['why'])
        self.assertEqual(['base'], selection['pull'])
        summary = self.node_json(logs + 'build-summary.json')
        self.assertEqual(['memcached'],
                         [image['name'] for image in summary['built']])

        # The leaf is in the buildset registry, arm64, with the job's
        # tag, built on the published base: its lower layers are base's.
        tags = self.registry('kolla/memcached/tags/list')
        self.assertIn(TAG, tags['tags'])
        manifest = self.registry('kolla/memcached/manifests/%s' % TAG)
        config = self.registry('kolla/memcached/blobs/%s'
                               % manifest['config']['digest'])
        self.assertEqual('arm64', config['architecture'])
        labels = config['config']['Labels']
        self.assertEqual('leaf change', labels['org.opendev.arm64-test'])
        base_layers = base_config['rootfs']['diff_ids']
        self.assertEqual(base_layers,
                         config['rootfs']['diff_ids'][:len(base_layers)])
        self.assertGreater(len(config['rootfs']['diff_ids']),
                           len(base_layers))

        # The leaf runs on the node and its service answers.
        ref = '127.0.0.1:5000/kolla/memcached:%s' % TAG
        self.assertEqual('aarch64', self.node(
            'docker run --rm --user root %s uname -m' % ref,
            timeout=600).strip())
        self.addCleanup(self.f.node.ssh, 'docker rm -f memcached-test',
                        timeout=300)
        self.node('docker run -d --name memcached-test --network host %s '
                  'memcached -l 127.0.0.1 -p 11211' % ref,
                  timeout=600)
        stats = self.f.node.wait_for(
            "python3 -c \"import socket; s=socket.create_connection("
            "('127.0.0.1', 11211), 5); s.sendall(b'stats\\r\\n'); "
            "print(s.recv(65536).decode())\"", timeout=60)
        self.assertEqual(0, stats.returncode, stats.stderr)
        self.assertIn('STAT pid', stats.stdout)

    def test_leaf_is_deployed_by_kolla_ansible(self):
        # The deploy job of the change's buildset, which the leaf test
        # started; it follows the build.
        build = self.f.change_build
        if build is None:
            self.fail('the change was not built (see the leaf test)')
        deploy = self.f.stack.zuul.wait_for_build(
            jobpath.TENANT, DEPLOY_TIMEOUT, project=KOLLA,
            job_name=DEPLOY_JOB)
        self.addDetail('deploy', testtools.content.json_content(deploy))
        self.assertIsNone(first_attempts(self.f.stack.zuul, KOLLA, build,
                                         [REGISTRY_JOB, BUILD_JOB,
                                          DEPLOY_JOB]))
        # Kolla-Ansible deployed the buildset's leaf: its memcached
        # container runs that image, Docker's health check passes, and
        # the service answers on the node's own address.
        ref = '127.0.0.1:5000/kolla/memcached:%s' % TAG
        inspect = "sudo docker inspect memcached --format '{{json .}}'"
        state = json.loads(self.node(inspect))
        self.assertEqual(ref, state['Config']['Image'])
        # Docker runs the first health check one interval after the
        # start.
        health = self.f.node.wait_for(
            inspect + " | grep -q '\"Status\":\"healthy\"'", timeout=180)
        self.assertEqual(0, health.returncode,
                         json.loads(self.node(inspect))['State'])
        address = self.node('hostname -I').split()[0]
        stats = self.f.node.wait_for(
            "python3 -c \"import socket; s=socket.create_connection("
            "('%s', 11211), 5); s.sendall(b'stats\\r\\n'); "
            "print(s.recv(65536).decode())\"" % address, timeout=60)
        self.assertEqual(0, stats.returncode, stats.stderr)
        self.assertIn('STAT pid', stats.stdout)

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
