"""The configure-region-mirror role, run for real.

The node is shaped like an OpenDev node: a debootstrap'd Debian root
running its own sshd on 127.0.0.1, where Ansible logs in as the
unprivileged ``zuul`` user with passwordless sudo, as a zuul-executor
does (this machine's architecture, so it runs at native speed; the job
path test runs the same role on the emulated aarch64 node).  It has a
real apt and a real pip, shares this machine's loopback with the
mirrors, and is thrown away after each test.  The mirrors are two HTTP
servers on 127.0.0.1 serving a tiny Debian archive and a tiny simple
PyPI index, and they record every request, so the tests see which
mirror each fetch really used.
"""

import os
import shutil
import subprocess

import fixtures
import testtools

from tests.functional.harness import arm64node
from tests.functional.harness import region_mirrors as rm

APT_TRUST = {'configure_region_mirror_apt_options': 'trusted=yes'}
NODE_PACKAGES = arm64node.NODE_PACKAGES + ('python3-pip',)


def require_root_tools(test):
    if os.geteuid() != 0:
        test.skipTest('needs root for chroot')
    for tool in ('debootstrap', 'dpkg-deb', 'chroot'):
        if shutil.which(tool) is None:
            test.fail(f'{tool} is missing: run tools/test-setup.sh')


class RoleTestCase(testtools.TestCase):

    def setUp(self):
        super().setUp()
        require_root_tools(self)
        self.tmp = self.useFixture(fixtures.TempDir()).path
        self.names = rm.build_mirror_tree(os.path.join(self.tmp, 'near'))
        rm.build_mirror_tree(os.path.join(self.tmp, 'far'))
        self.near = rm.MirrorServer(os.path.join(self.tmp, 'near')).start()
        self.far = rm.MirrorServer(os.path.join(self.tmp, 'far')).start()
        self.addCleanup(self.near.stop)
        self.addCleanup(self.far.stop)
        self.node = self.useFixture(arm64node.Arm64Node(
            os.path.join(self.tmp, 'node'),
            base_root=arm64node.node_root(rm.dpkg_arch(), NODE_PACKAGES)))
        self.root = self.node.root

    def node_vars(self):
        # How Zuul describes a node of the China region.
        return {'nodepool': {'cloud': 'linaro', 'region': 'RegionOne',
                             'provider': 'linaro-cn1'}}

    def role_vars(self, **extra):
        # The rendered mirror list, with the China region's mirror and
        # its first fallback pointed at the loopback mirrors.
        v = dict(APT_TRUST,
                 configure_region_mirror_providers={'linaro-cn1': {
                     'cloud': 'linaro', 'region': 'RegionOne',
                     'mirrors': [self.near.url, self.far.url]}},
                 configure_region_mirror_probe_timeout=2)
        v.update(extra)
        return v

    def apply(self, **extra):
        run = rm.apply_role(self.node, self.role_vars(**extra),
                            host_vars=self.node_vars())
        self.addDetail(f'ansible-{len(self.getDetails())}',
                       testtools.content.text_content(run.output))
        return run

    def assertApplied(self, run):
        self.assertEqual(0, run.returncode, run.output[-3000:])

    def assertFetches(self):
        ok, seconds, output = rm.fetch(self.root, self.names)
        self.assertTrue(ok, output[-3000:])
        return output

    def read(self, path):
        with open(os.path.join(self.root, path.lstrip('/'))) as f:
            return f.read()


class TestInRegionMirror(RoleTestCase):

    def test_fetches_go_through_the_in_region_mirror(self):
        run = self.apply()
        self.assertApplied(run)
        self.assertGreater(run.changed, 0)
        # The new sources were read at once (the handler), with sudo, by
        # a role that logged in as the unprivileged user.
        self.assertIn("RUNNING HANDLER [configure-region-mirror : "
                      "Refresh apt's package lists]", run.output)
        self.assertTrue(self.near.fetched('/debian/dists/bookworm/'))
        self.assertEqual(0, os.stat(os.path.join(
            self.root, 'etc/pip.conf')).st_uid)
        out = self.node.ssh('id -u')
        self.assertNotEqual('0', out.stdout.strip())

        self.assertFetches()
        near_apt = self.near.fetched('/debian/')
        self.assertIn('/debian/dists/bookworm/Release', near_apt)
        self.assertIn('/debian/pool/main/n/npa-hello/npa-hello_1.0_all.deb',
                      near_apt)
        self.assertTrue(self.near.fetched(
            '/pypi/simple/npa-hello/npa_hello-1.0-py3-none-any.whl'))
        # The Arm64-style wheel mirror is an extra index next to PyPI.
        self.assertTrue(self.near.fetched(
            f'/wheel/{rm.wheel_dir()}/npa-wheel-only/'))
        # The in-region mirror answered: the next was not even probed.
        self.assertEqual([], self.far.requests)

        self.assertConfiguration()

        lists_before = len(self.near.fetched('/debian/dists/'))
        again = self.apply()
        self.assertApplied(again)
        self.assertEqual(0, again.changed, again.output[-3000:])
        # Nothing changed, so the lists were not refreshed.
        self.assertEqual(lists_before,
                         len(self.near.fetched('/debian/dists/')))

    def assertConfiguration(self):
        sources = self.read('/etc/apt/sources.list')
        near = self.near.url
        self.assertIn(f'deb [trusted=yes] {near}/debian bookworm main',
                      sources)
        self.assertIn(f'{near}/debian bookworm-updates main', sources)
        self.assertIn(f'{near}/debian-security bookworm-security main',
                      sources)
        self.assertNotIn(self.far.url, sources)
        apt_conf = self.read('/etc/apt/apt.conf.d/99configure-region-mirror')
        self.assertIn('Acquire::Retries "10";', apt_conf)
        self.assertIn('Acquire::http::Timeout "60";', apt_conf)
        pip_conf = self.read('/etc/pip.conf')
        self.assertIn(f'index-url = {near}/pypi/simple', pip_conf)
        self.assertIn(f'extra-index-url = {near}/wheel/{rm.wheel_dir()}',
                      pip_conf)
        self.assertIn('\nretries = 10', pip_conf)
        self.assertIn('resume-retries = 10', pip_conf)
        daemon = self.read('/etc/docker/daemon.json')
        self.assertIn('"http://127.0.0.1:8082"', daemon)
        info = self.read('/etc/ci/mirror_info.sh')
        self.assertIn('export NODEPOOL_MIRROR_HOST=127.0.0.1', info)

    def test_without_a_rendered_entry_the_region_names_the_mirror(self):
        # A node of a provider the inventory does not know: OpenDev's
        # naming from cloud and region, then the fallbacks.
        run = self.apply(
            configure_region_mirror_providers={},
            configure_region_mirror_scheme='http',
            configure_region_mirror_fqdn=f'127.0.0.1:{self.near.port}',
            configure_region_mirror_fallbacks=[self.far.url])
        self.assertApplied(run)
        self.assertIn(f'index-url = {self.near.url}/pypi/simple',
                      self.read('/etc/pip.conf'))

    def test_other_docker_settings_are_kept(self):
        out = self.node.ssh(
            "sudo mkdir -p /etc/docker && echo '{\"storage-driver\": "
            "\"overlay2\"}' | sudo tee /etc/docker/daemon.json")
        self.assertEqual(0, out.returncode, out.stderr)
        self.assertApplied(self.apply())
        daemon = self.read('/etc/docker/daemon.json')
        self.assertIn('"storage-driver": "overlay2"', daemon)
        self.assertIn('"registry-mirrors"', daemon)


class TestFallback(RoleTestCase):

    def test_falls_back_when_the_in_region_mirror_is_down(self):
        self.assertApplied(self.apply())
        self.assertFetches()

        self.near.stop()
        far_before = len(self.far.requests)
        run = self.apply()
        self.assertApplied(run)
        self.assertGreater(run.changed, 0)
        self.assertIn('fallback', run.output)

        self.assertFetches()
        far_fetches = self.far.requests[far_before:]
        self.assertIn('/debian/pool/main/n/npa-hello/npa-hello_1.0_all.deb',
                      far_fetches)
        self.assertIn('/pypi/simple/npa-hello/npa_hello-1.0-py3-none-any.whl',
                      far_fetches)
        self.assertIn(self.far.url, self.read('/etc/pip.conf'))

        again = self.apply()
        self.assertApplied(again)
        self.assertEqual(0, again.changed, again.output[-3000:])

    def test_in_region_mirror_down_from_the_start(self):
        self.near.stop()
        self.assertApplied(self.apply())
        self.assertFetches()
        self.assertTrue(self.far.fetched('/debian/pool/'))

    def test_every_mirror_down_fails_with_a_clear_message(self):
        self.near.stop()
        self.far.stop()
        run = self.apply()
        self.assertNotEqual(0, run.returncode)
        self.assertIn('No mirror answered within 2s', run.output)
        self.assertIn(self.far.url, run.output)

    def test_explicit_list_wins_over_the_region(self):
        run = self.apply(configure_region_mirror_hosts=[self.far.url])
        self.assertApplied(run)
        self.assertFetches()
        self.assertEqual([], self.near.requests)
        self.assertTrue(self.far.fetched('/debian/pool/'))


class TestOtherDistributions(RoleTestCase):
    """Ubuntu's archive is out of reach here: render with its facts.

    One node is configured three times over, as three distributions.
    """

    def facts(self, distribution, release, version, arch):
        return {
            # The loopback mirror has no Ubuntu archive to refresh from.
            'configure_region_mirror_apt_refresh': False,
            'configure_region_mirror_distribution': distribution,
            'configure_region_mirror_distribution_release': release,
            'configure_region_mirror_distribution_version': version,
            'configure_region_mirror_distribution_major_version':
                version.split('.')[0],
            'configure_region_mirror_architecture': arch,
        }

    def test_rendered_for_other_distributions_and_architectures(self):
        near = self.near.url
        # Ubuntu on Arm64: ubuntu-ports, with the security pocket there.
        self.assertApplied(self.apply(
            **self.facts('Ubuntu', 'bionic', '18.04', 'aarch64')))
        lines = [line for line in self.read('/etc/apt/sources.list')
                 .splitlines() if line.startswith('deb ')]
        self.assertEqual([
            f'deb [trusted=yes] {near}/ubuntu-ports {suite} main universe'
            for suite in ('bionic', 'bionic-updates', 'bionic-backports',
                          'bionic-security')], lines)
        self.assertIn(f'extra-index-url = {near}/wheel/ubuntu-18.04-aarch64',
                      self.read('/etc/pip.conf'))
        self.assertIn(f'NODEPOOL_UBUNTU_PORTS_MIRROR={near}/ubuntu-ports',
                      self.read('/etc/ci/mirror_info.sh'))

        # Ubuntu on x86: the main archive path.
        self.assertApplied(self.apply(
            **self.facts('Ubuntu', 'noble', '24.04', 'x86_64')))
        self.assertIn(f'{near}/ubuntu noble main universe',
                      self.read('/etc/apt/sources.list'))

        # Debian before 11 named its security suite "<release>/updates".
        self.assertApplied(self.apply(
            **self.facts('Debian', 'stretch', '9', 'aarch64')))
        self.assertIn(f'{near}/debian-security stretch/updates main',
                      self.read('/etc/apt/sources.list'))
        self.assertIn(f'extra-index-url = {near}/wheel/debian-9-aarch64',
                      self.read('/etc/pip.conf'))


class TestRegionNames(testtools.TestCase):
    """The default mirror name comes from Zuul's nodepool host vars."""

    def test_mirror_name_for_each_linaro_region(self):
        defaults = os.path.join(rm.REPO_ROOT, 'roles',
                                'configure-region-mirror', 'defaults',
                                'main.yaml')
        for cloud, region, expected in (
                ('linaro', 'cn1', 'mirror.cn1.linaro.opendev.org'),
                ('linaro-london', 'London',
                 'mirror.london.linaro-london.opendev.org'),
                ('linaro-us', 'RegionOne',
                 'mirror.regionone.linaro-us.opendev.org')):
            out = subprocess.run(
                [os.path.join(os.path.dirname(rm.sys.executable),
                              'ansible'), 'localhost', '-c', 'local',
                 '-m', 'ansible.builtin.debug',
                 '-a', 'msg={{ configure_region_mirror_fqdn }}',
                 '-e', '@' + defaults,
                 '-e', f'{{"nodepool": {{"cloud": "{cloud}", '
                       f'"region": "{region}"}}}}'],
                capture_output=True, text=True,
                env=dict(os.environ, ANSIBLE_LOCALHOST_WARNING='false',
                         ANSIBLE_INVENTORY_UNPARSED_WARNING='false'))
            self.assertEqual(0, out.returncode, out.stdout + out.stderr)
            self.assertIn(f'"msg": "{expected}"', out.stdout)
