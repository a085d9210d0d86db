"""image-check boots real Arm64 UEFI images under qemu-system-aarch64.

One good image and four broken ones (``uefi_images``), each booted once:
the good one and the one without a bootloader through the
``uefi-boot-check`` role run by ansible-playbook, the others through the
command.  Each broken image must fail on its own criterion, and the ones
whose console shows the failure must fail well before the timeout.
Under TCG on a shared 2-core machine a full boot takes about a minute.
"""

import json
import os
import shutil
import subprocess
import sys

import fixtures
import testtools

from tests.functional import arm64node
from tests.functional import artefacts
from tests.functional import uefi_images

REPO = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
PLAYBOOK = os.path.join(REPO, 'tests', 'functional', 'playbooks',
                        'uefi-boot-check.yaml')
BIN = os.path.dirname(sys.executable)
TIMEOUT = 300
# A console that shows the failure must end the boot this early.
FAST = 150


class ImageCheckTestCase(testtools.TestCase):

    def setUp(self):
        super().setUp()
        if os.geteuid() != 0:
            self.skipTest('building the test images needs root (chroot)')
        for tool in ('qemu-system-aarch64', 'xorriso', 'mcopy', 'sfdisk'):
            if shutil.which(tool) is None:
                self.fail(f'{tool} is missing: run tools/test-setup.sh')
        self.tmp = self.useFixture(fixtures.TempDir()).path
        self.console_log = os.path.join(self.tmp, 'console.log')
        artefacts.keep_on_failure(self, lambda: [self.console_log])

    def image(self, variant):
        try:
            return uefi_images.image(variant)
        except arm64node.Arm64Unavailable as e:
            self.fail(str(e))

    def check(self, variant):
        proc = subprocess.run(
            [os.path.join(BIN, 'nodepool-aarch64'), 'image-check',
             self.image(variant), '--timeout', str(TIMEOUT),
             '--console-log', self.console_log, '--output-format', 'json'],
            capture_output=True, text=True, timeout=TIMEOUT + 60)
        self.addDetail('stderr', testtools.content.text_content(proc.stderr))
        self.assertIn(proc.returncode, (0, 1), proc.stderr)
        return proc.returncode, json.loads(proc.stdout)

    def role(self, variant):
        out = os.path.join(self.tmp, 'role')
        self.console_log = os.path.join(out, 'console.log')
        variables = {
            'uefi_boot_check_image': self.image(variant),
            'uefi_boot_check_timeout': TIMEOUT,
            'uefi_boot_check_install_packages': False,
            'uefi_boot_check_executable': os.path.join(
                BIN, 'nodepool-aarch64'),
            'uefi_boot_check_output_dir': out,
        }
        varfile = os.path.join(self.tmp, 'vars.json')
        with open(varfile, 'w') as f:
            json.dump(variables, f)
        proc = subprocess.run(
            [os.path.join(BIN, 'ansible-playbook'), '-i', 'localhost,',
             '-c', 'local', '-e', f'ansible_python_interpreter='
             f'{sys.executable}', '-e', '@' + varfile, PLAYBOOK],
            capture_output=True, text=True, cwd=REPO,
            env=dict(os.environ, ANSIBLE_ROLES_PATH=os.path.join(
                REPO, 'roles'), ANSIBLE_NOCOLOR='1'),
            timeout=TIMEOUT + 120)
        self.addDetail('ansible', testtools.content.text_content(
            proc.stdout[-5000:] + proc.stderr[-2000:]))
        with open(os.path.join(out, 'result.json')) as f:
            return proc, json.load(f)

    def assertFailedOn(self, result, criterion, *evidence):
        statuses = {c['name']: c['status'] for c in result['criteria']}
        failed = [c for c in result['criteria'] if c['status'] == 'fail']
        self.assertEqual('fail', result['verdict'])
        self.assertEqual([criterion], [c['name'] for c in failed], statuses)
        for word in evidence:
            self.assertIn(word, failed[0]['evidence'])
        names = [c['name'] for c in result['criteria']]
        for before in names[:names.index(criterion)]:
            self.assertEqual('pass', statuses[before], before)
        self.assertLess(result['elapsed'], FAST, 'not failed fast')


class TestImageCheck(ImageCheckTestCase):

    def test_good_image_passes_through_the_role(self):
        proc, result = self.role('good')
        self.assertEqual(0, proc.returncode, proc.stdout[-3000:])
        self.assertEqual('pass', result['verdict'])
        times = [c['at'] for c in result['criteria']]
        self.assertEqual(['pass'] * 5,
                         [c['status'] for c in result['criteria']])
        self.assertEqual(sorted(times), times)
        self.assertIn('QEMU HARDDISK', result['criteria'][0]['evidence'])
        with open(self.console_log, errors='replace') as f:
            console = f.read()
        self.assertIn(f'hostname {result["hostname"]}', console)

    def test_no_bootloader_fails_the_firmware_through_the_role(self):
        proc, result = self.role('no-bootloader')
        self.assertNotEqual(0, proc.returncode)
        self.assertIn('failed firmware-boots-disk', proc.stdout)
        self.assertFailedOn(result, 'firmware-boots-disk')

    def test_missing_root_fails_the_root_filesystem(self):
        code, result = self.check('missing-root')
        self.assertEqual(1, code)
        self.assertFailedOn(result, 'root-filesystem',
                            'Gave up waiting for root')

    def test_init_that_cannot_run_panics_and_fails_init(self):
        code, result = self.check('no-init')
        self.assertEqual(1, code)
        self.assertFailedOn(result, 'init', 'Kernel panic')

    def test_login_prompt_without_the_config_drive_fails_it(self):
        code, result = self.check('no-config-drive')
        self.assertEqual(1, code)
        self.assertFailedOn(result, 'config-drive', "'debian'", 'login:')
