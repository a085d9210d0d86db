"""image-check boots real Arm64 UEFI images under qemu-system-aarch64.

One good image and five broken ones (``uefi_images``), each booted once:
the good one and the one without a bootloader through the
``uefi-boot-check`` role run by ansible-playbook, the others through the
command.  Each broken image must fail on its own criterion, and the ones
whose console shows the failure must fail well before the timeout, and
a kernel that goes silent must fail at its stage's deadline.  The good
image is also booted and stopped mid-boot, as a CI timeout would stop
it, to show that qemu does not outlive the command.
Under TCG on a shared 2-core machine a full boot takes about a minute.
"""

import json
import os
import shutil
import signal
import subprocess
import sys

import fixtures
import testtools

from nodepool_aarch64.imagecheck import criteria
from tests import base
from tests import cliprocess
from tests.functional.harness import arm64node
from tests.functional.harness import artefacts
from tests.functional.harness import uefi_images

REPO = base.REPO
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
             '--console-log', self.console_log, '--format', 'json'],
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

    def test_a_silent_kernel_fails_kernel_console_at_its_deadline(self):
        code, result = self.check('silent-kernel')
        self.assertEqual(1, code)
        self.assertFailedOn(result, 'kernel-console', 'not seen within')
        firmware, kernel = result['criteria'][:2]
        self.assertLessEqual(
            kernel['at'] - firmware['at'],
            criteria.DEADLINES['kernel-console'] + 5)
        self.assertLess(kernel['at'], 120)


class TestStoppedMidBoot(ImageCheckTestCase):
    """The issue's reproducer: a stopped image-check left its qemu."""

    def stop_mid_boot(self, sig):
        # The silent kernel keeps the check running until the kernel
        # console's deadline: a good image can pass before the signal
        # comes, on a fast machine.
        image = self.image('silent-kernel')
        work = self.useFixture(fixtures.TempDir()).path
        with open(self.console_log, 'wb') as f:
            f.write(b'earlier\n')
        run = cliprocess.Run(
            ['image-check', image, '--console-log', self.console_log], work)
        self.addCleanup(run.kill)
        run.wait_for(lambda: cliprocess.qemu(image), what='qemu to start')
        # Well into the boot: past the firmware's start.
        qemu_pid = cliprocess.qemu(image)[0]
        run.wait_for(lambda: _cpu_seconds(qemu_pid) > 5, timeout=240,
                     what='the boot to get going')
        code, _, err = run.stop(sig)
        self.assertEqual({}, run.leftovers(image))
        self.assertEqual([], cliprocess.qemu(image))
        self.assertEqual([], os.listdir(work))
        with open(self.console_log, 'rb') as f:
            self.assertEqual(b'earlier\n', f.read())
        return code, err

    def test_sigterm_stops_qemu(self):
        code, err = self.stop_mid_boot(signal.SIGTERM)
        self.assertEqual(128 + signal.SIGTERM, code)
        self.assertEqual(['nodepool-aarch64: stopped by SIGTERM'],
                         err.splitlines())

    def test_sigkill_takes_qemu_with_it(self):
        code, _ = self.stop_mid_boot(signal.SIGKILL)
        self.assertEqual(-signal.SIGKILL, code)


def _cpu_seconds(pid):
    try:
        with open(f'/proc/{pid}/stat') as f:
            fields = f.read().rsplit(')', 1)[1].split()
    except OSError:
        return 0
    return (int(fields[11]) + int(fields[12])) / os.sysconf('SC_CLK_TCK')
