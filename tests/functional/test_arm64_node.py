"""The emulated aarch64 node is shaped like an OpenDev node."""

import os

import fixtures
import testtools

from tests.functional.harness import arm64node


class TestArm64Node(testtools.TestCase):

    def setUp(self):
        super().setUp()
        try:
            arm64node.check_binfmt()
        except arm64node.Arm64Unavailable as e:
            self.fail(str(e))
        parent = self.useFixture(fixtures.TempDir()).path
        self.node = self.useFixture(
            arm64node.Arm64Node(os.path.join(parent, 'node')))

    def test_unprivileged_key_login_on_aarch64_with_sudo(self):
        node = self.node
        out = node.ssh('uname -m; id -un; id -u; sudo -n id -u')
        self.assertEqual(0, out.returncode, out.stderr)
        arch, user, uid, sudo_uid = out.stdout.split()
        self.assertEqual('aarch64', arch)
        self.assertEqual('zuul', user)
        self.assertNotEqual('0', uid)
        self.assertEqual('0', sudo_uid)

    def test_stopped_sshd_refuses_connections(self):
        self.node.stop_sshd()
        out = self.node.ssh('true', timeout=30)
        self.assertNotEqual(0, out.returncode)
