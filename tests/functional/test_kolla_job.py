"""Kolla's Arm64 playbooks on the emulated aarch64 node, through Zuul.

A push to ``openstack/kolla`` (the Kolla sdist from PyPI, as a git
repository) runs ``kolla-dockerfiles-aarch64`` through the real
scheduler, ``nodepool-launcher`` and executor on an emulated aarch64
Debian bookworm node: the site's base job puts the checkouts on the
node, ``base-arm64`` points apt and pip at the China region's loopback
mirror, ``playbooks/kolla/pre.yaml`` installs Kolla in a virtualenv
with ``openstack/requirements``' constraints from that mirror's aarch64
wheels, and ``playbooks/kolla/dockerfiles.yaml`` renders the Arm64
Dockerfiles with ``kolla-build --template-only``.

Kolla's own ``zuul.d`` is loaded too, with empty repositories for the
projects its jobs require: its jobs, nodesets, secrets and templates,
but not its project stanza (``exclude: [project]``), which attaches
OpenDev's shared templates; a project stanza naming a template the
tenant lacks makes Zuul fail every item of the project.  What Kolla's
jobs name from the rest of OpenDev's tenant (``openstack-tox``) is not
here, and its secrets are encrypted to OpenDev's key for Kolla, so Zuul
reports those stanzas as errors; the tests hold the errors to exactly
those kinds, check that Kolla's own Arm64 job loads, and run this
project's job beside them.

``playbooks/kolla/docker.yaml`` and ``registry.yaml`` do not run here:
the node has no systemd to start dockerd, and Docker Hub (registry:2)
is out of reach from this machine.

The node's root has the Debian packages ``pre.yaml`` installs
(python3-pip, python3-venv, python3-dev, gcc, git) already, and
python3-apt, which Ansible's apt module would otherwise install first:
the loopback apt mirror serves only a test package.
"""

import os
import re

import fixtures
import testtools

from nodepool_aarch64.render import REGION_MIRRORS
from tests.functional.harness import arm64node
from tests.functional.harness import gitrepos
from tests.functional.harness import jobpath
from tests.functional.harness import kolla_sources
from tests.functional.harness import processes
from tests.functional.harness import region_mirrors as rm

JOB = 'kolla-dockerfiles-aarch64'
NODESET = 'debian-bookworm-arm64'
KOLLA = 'openstack/kolla'
REQUIREMENTS = 'openstack/requirements'
NODE_PACKAGES = arm64node.NODE_PACKAGES + (
    'gcc', 'git', 'python3-apt', 'python3-dev', 'python3-pip',
    'python3-venv')
# Installing Kolla and rendering under qemu-user takes minutes.
BUILD_TIMEOUT = 1200
# nova-libvirt's Dockerfile differs most between architectures (the
# guests' UEFI firmware); its parent is base.
IMAGES = ['^nova-libvirt$']
DOCKERFILES = '~/zuul-output/logs/kolla/dockerfiles'

# A site runs the job on Kolla's changes as a project stanza in its own
# config project would.
SITE_PROJECT_STANZA = """\
- project:
    name: %(kolla)s
    %(pipeline)s:
      jobs:
        - %(job)s:
            vars:
              # The harness's archive is unsigned.
              configure_region_mirror_apt_options: trusted=yes
              configure_region_mirror_probe_timeout: 3
              kolla_dockerfiles_images: %(images)s
""" % {'kolla': KOLLA, 'pipeline': jobpath.PUSH_PIPELINE, 'job': JOB,
       'images': IMAGES}


class KollaJobFixture(jobpath.ChinaNodeFixture):
    """A mirror with Kolla's wheels, the node, Nodepool and Zuul."""

    def _setUp(self):
        arm64node.check_binfmt()
        self.sources = kolla_sources.fetch()
        self.base = self.useFixture(fixtures.TempDir()).path
        top = os.path.join(self.base, 'mirror')
        rm.build_mirror_tree(top, arch='arm64', machine='aarch64',
                             extra_wheels=self.sources.wheels)
        self.mirror = rm.MirrorServer(top).start()
        self.addCleanup(self.mirror.stop)
        closed = 'http://127.0.0.1:%d' % processes.free_port()
        inventory = jobpath.harness_inventory(
            os.path.join(self.base, 'inventory.yaml'),
            {'linaro-cn1': self.mirror.url, 'linaro-london': closed,
             'linaro-us': closed})
        mirror_list = jobpath.rendered_mirror_list(
            inventory, os.path.join(self.base, 'rendered'))
        self.node = self.useFixture(arm64node.Arm64Node(
            os.path.join(self.base, 'node'),
            base_root=arm64node.node_root(packages=NODE_PACKAGES)))
        self.kolla_zuul_d = kolla_sources.kolla_zuul_config(
            self.sources, os.path.join(self.base, 'kolla-zuul'))
        # The jobs and templates Kolla's zuul.d defines itself.
        self.kolla_defines = {
            body.get('name') for kind, body in
            gitrepos.zuul_stanzas(self.kolla_zuul_d)
            if kind in ('job', 'project-template')}
        projects = {
            KOLLA: lambda path: kolla_sources.make_kolla_repo(
                self.sources, path, zuul_config=True),
            REQUIREMENTS: lambda path:
                kolla_sources.make_requirements_repo(
                    self.sources.wheels, path),
        }
        # What Kolla's jobs require, as empty repositories: the tenant
        # must hold them for the jobs to load.
        for project in gitrepos.required_projects(
                loaded=list(projects), zuul_d=self.kolla_zuul_d):
            projects[project] = {}
        tenant = jobpath.TenantRepos(
            os.path.join(self.base, 'git'),
            this_repo_files={REGION_MIRRORS: mirror_list},
            projects=projects,
            site_files={'zuul.d/kolla.yaml': SITE_PROJECT_STANZA},
            # Kolla's own project stanza attaches OpenDev's shared
            # templates (check-requirements, ...), which this tenant
            # lacks; Zuul then fails every item of the project, this
            # project's jobs too, "because it has an invalid
            # configuration".  A site without them loads the rest.
            tenant_settings={KOLLA: {'exclude': ['project']}},
            prepare_workspace=True)
        self.start_stack(tenant, inventory)


# How Zuul 14.3 words what a test tenant cannot give a consumer's own
# configuration: a job or template defined elsewhere in OpenDev's
# tenant, and a secret encrypted to OpenDev's key for the project.
ELSEWHERE = (re.compile(r'Job (\S+) not defined'),
             re.compile(r'project template "([^"]+)" was not found'))
UNDECRYPTABLE = 'Decryption failed'
# One of Kolla's own Arm64 jobs, and the nodeset it asks for.
KOLLA_ARM64_JOB = 'kolla-build-debian-trixie-arm64'
KOLLA_ARM64_NODESET = 'kolla-debian-trixie-arm64-8GB'


class TestKollaJob(jobpath.ClassStackTestCase):

    fixture_class = KollaJobFixture

    def elsewhere(self, error):
        """What ``error`` names from outside Kolla's own zuul.d, if it
        is of that kind."""
        for pattern in ELSEWHERE:
            match = pattern.search(error)
            if match and match.group(1) not in self.f.kolla_defines:
                return match.group(1)
        return None

    def unexpected_config_errors(self, errors):
        return [e for e in errors
                if (e.get('source_context') or {}).get('project') != KOLLA
                or not (UNDECRYPTABLE in e.get('error', '')
                        or self.elsewhere(e.get('error', '')))]

    def test_kollas_own_zuul_config_loads_beside_this_projects(self):
        errors = self.f.stack.config_errors()
        # Only Kolla's files have errors, and only of the two kinds a
        # test tenant cannot help (setUp holds them to that).
        self.assertTrue(errors)
        self.assertEqual({KOLLA}, {e['source_context']['project']
                                   for e in errors})
        missing = {self.elsewhere(e['error']) for e in errors} - {None}
        self.assertIn('openstack-tox', missing)
        self.assertTrue(any(UNDECRYPTABLE in e['error'] for e in errors))
        # Kolla's own Arm64 build job loaded, on its own nodeset.
        variants = self.f.stack.zuul.get('/tenant/%s/job/%s' % (
            jobpath.TENANT, KOLLA_ARM64_JOB))
        self.assertTrue(variants)
        self.assertEqual(KOLLA_ARM64_NODESET,
                         variants[0]['nodeset']['name'])

    def node_file(self, path):
        out = self.f.node.ssh('cat %s' % path)
        self.assertEqual(0, out.returncode, out.stderr)
        return out.stdout

    def test_dockerfiles_render_for_arm64(self):
        before = len(self.f.mirror.requests)
        build, seconds = self.f.stack.push_and_wait(
            KOLLA, {'kolla/docker/base/Dockerfile.j2': self._base_template()},
            BUILD_TIMEOUT, message='Touch the base template')
        self.addDetail('build', testtools.content.json_content(build))
        self.addDetail('seconds', testtools.content.text_content(
            '%.0f' % seconds))
        self.assertEqual('SUCCESS', build['result'], build)
        self.assertEqual(JOB, build['job_name'])
        self.assertEqual(NODESET, build['nodeset'])
        self.assertEqual(KOLLA, build['ref']['project'])

        # The Dockerfiles the job kept: base names Debian and Arm64, and
        # nova-libvirt takes the Arm64 guests' firmware, not the x86 one.
        base = self.node_file(DOCKERFILES + '/base/Dockerfile')
        self.assertRegex(base, r'(?m)^FROM debian:\S+$')
        self.assertRegex(base, r'(?m)^\s*KOLLA_BASE_ARCH=aarch64$')
        self.assertIn('# harness change', base)
        libvirt = self.node_file(
            DOCKERFILES + '/nova/nova-libvirt/Dockerfile')
        self.assertIn('qemu-efi-aarch64', libvirt)
        self.assertNotIn('ovmf', libvirt)
        # Only the images asked for (and their parents) were kept.
        out = self.f.node.ssh('cd %s && find . -name Dockerfile | sort'
                              % DOCKERFILES)
        self.assertEqual(['./base/Dockerfile',
                          './nova/nova-libvirt/Dockerfile'],
                         out.stdout.split(), out.stderr)

        # Kolla ran on aarch64 with the aarch64 wheels from the mirror,
        # at the versions the constraints pin.
        venv = '~/kolla-venv/bin/python'
        out = self.f.node.ssh(
            venv + ' -c "import platform, markupsafe._speedups as s;'
            ' print(platform.machine(), s.__file__)"')
        self.assertEqual(0, out.returncode, out.stderr)
        self.assertTrue(out.stdout.startswith('aarch64 '), out.stdout)
        fetched = self.f.mirror.requests[before:]
        markupsafe = [p for p in fetched if p.startswith(
            '/pypi/simple/markupsafe/') and 'aarch64' in p]
        self.assertEqual(1, len(markupsafe), fetched)
        freeze = self.f.node.ssh(venv + ' -m pip freeze').stdout
        pins = kolla_sources.upper_constraints(self.f.sources.wheels)
        for pin in pins.split():
            name, version = pin.split('===')
            if name in ('jinja2', 'docker', 'oslo-config', 'gitpython'):
                self.assertRegex(freeze, '(?im)^%s==%s$' % (
                    name.replace('-', '[-_.]'), version))

    def _base_template(self):
        """Kolla's base template with a marker a rendered file keeps, so
        the build is for this change."""
        path = os.path.join(self.f.stack.tenant.path(KOLLA), 'kolla',
                            'docker', 'base', 'Dockerfile.j2')
        with open(path) as f:
            text = f.read()
        return text.replace('\nLABEL kolla_version=',
                            '\n# harness change\nLABEL kolla_version=', 1)
