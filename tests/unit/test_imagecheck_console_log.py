"""image-check's --console-log and image inputs: what they may name, and
that the log is replaced only once a boot has a verdict.

Each run is a real one (qemu-system-aarch64 and AAVMF), on a blank disk:
the firmware finds nothing to boot and falls to its shell within
seconds, which fails ``firmware-boots-disk``.
"""

import hashlib
import os
import shutil

import fixtures

from tests import base
from tests import cliprocess

OLD_LOG = b'console of an earlier boot\n'
# Bounded time for inputs that must be refused before any boot.
REFUSE_WITHIN = 30


def blank_image(directory, name='disk.raw'):
    path = os.path.join(directory, name)
    with open(path, 'wb') as f:
        f.truncate(1024 * 1024)
    return path


def digest(path):
    with open(path, 'rb') as f:
        return hashlib.sha256(f.read()).hexdigest()


def _files(directory):
    return [name for _, _, names in os.walk(directory) for name in names]


class TestConsoleLog(base.TestCase):

    def setUp(self):
        super().setUp()
        self.tmp = self.tempdir()
        self.image = blank_image(self.tmp)
        self.log = os.path.join(self.tmp, 'console.log')
        with open(self.log, 'wb') as f:
            f.write(OLD_LOG)

    def image_check(self, *args, timeout=180):
        """(exit code, stdout, stderr) of a run in its own process, which
        may not hang: a run that does is killed and fails the test."""
        work = os.path.join(self.tmp, 'work')
        os.makedirs(work, exist_ok=True)
        run = cliprocess.Run(['image-check', *args], work)
        self.addCleanup(run.kill)
        code, out, err = run.finish(timeout)
        self.assertEqual([], os.listdir(work), 'temporary files left')
        self.assertEqual({}, run.leftovers(self.image, settle=5))
        return code, out, err

    def old_log_kept(self):
        with open(self.log, 'rb') as f:
            self.assertEqual(OLD_LOG, f.read())

    def test_the_log_is_replaced_once_the_boot_has_a_verdict(self):
        code, out, err = self.image_check(self.image, '--console-log',
                                          self.log)
        self.assertEqual(1, code, err)
        self.assertIn('FAIL firmware-boots-disk', out)
        with open(self.log, 'rb') as f:
            console = f.read()
        self.assertIn(b'starting Boot0002 "EFI Internal Shell"', console)
        self.assertNotIn(OLD_LOG, console)

    def test_a_run_that_exits_2_keeps_the_old_log(self):
        # qemu refuses the memory size before the guest prints anything.
        code, _, err = self.image_check(self.image, '--memory', '999999999',
                                        '--console-log', self.log)
        self.assertEqual(2, code, err)
        self.assertIn('qemu-system-aarch64 exited with', err)
        self.assertEqual(1, len(err.splitlines()), err)
        self.old_log_kept()

    def test_the_image_itself_is_refused_as_the_log(self):
        before = digest(self.image)
        link = os.path.join(self.tmp, 'link.raw')
        os.symlink(self.image, link)
        hard = os.path.join(self.tmp, 'hard.raw')
        os.link(self.image, hard)
        for log in (self.image, link, hard):
            code, _, err = self.image_check(self.image, '--console-log', log,
                                            timeout=REFUSE_WITHIN)
            self.assertEqual(2, code, err)
            self.assertIn('which the boot reads', err)
            self.assertEqual(before, digest(self.image))

    def test_the_firmware_is_refused_as_the_log(self):
        # On a copy of the firmware the command is pointed at, so that a
        # regression destroys the copy, not the machine's AAVMF.
        from nodepool_aarch64.imagecheck import qemu
        copies = []
        for path in qemu.firmware():
            copy = os.path.join(self.tmp, os.path.basename(path))
            shutil.copyfile(path, copy)
            copies.append(copy)
        self.useFixture(fixtures.MockPatchObject(
            qemu, 'FIRMWARE_PAIRS', (tuple(copies),)))
        before = digest(copies[0])
        code, _, err = self.run_cli('image-check', self.image,
                                    '--console-log', copies[0])
        self.assertEqual(2, code, err)
        self.assertIn('which the boot reads', err)
        self.assertEqual(before, digest(copies[0]))

    def test_devices_and_fifos_are_refused_as_the_log(self):
        fifo = os.path.join(self.tmp, 'fifo')
        os.mkfifo(fifo)
        for log in ('/dev/zero', '/dev/full', fifo, self.tmp):
            code, _, err = self.image_check(self.image, '--console-log', log,
                                            timeout=REFUSE_WITHIN)
            self.assertEqual(2, code, (log, err))
            self.assertIn(f'{log}: ', err)
            self.assertEqual(1, len(err.splitlines()), err)

    def test_devices_and_fifos_are_refused_as_the_image(self):
        fifo = os.path.join(self.tmp, 'fifo')
        os.mkfifo(fifo)
        link = os.path.join(self.tmp, 'zero.raw')
        os.symlink('/dev/zero', link)
        for image in ('/dev/zero', '/dev/full', fifo, link, self.tmp):
            code, _, err = self.image_check(image, '--console-log', self.log,
                                            timeout=REFUSE_WITHIN)
            self.assertEqual(2, code, (image, err))
            self.assertIn(f'{image}: ', err)
            self.assertIn('not a regular file', err)
            self.old_log_kept()

    def test_qemu_is_given_no_named_temporary_file(self):
        # What qemu reads and writes lives in unnamed files it reaches
        # through inherited descriptors, so a kill leaves nothing behind.
        work = os.path.join(self.tmp, 'work')
        os.makedirs(work)
        run = cliprocess.Run(['image-check', self.image], work)
        self.addCleanup(run.kill)
        run.wait_for(lambda: cliprocess.qemu(self.image),
                     what='qemu to start')
        qemu_pid = cliprocess.qemu(self.image)[0]
        # qemu names the overlay of snapshot=on for the moment it takes
        # to open it.
        run.wait_for(lambda: not _files(work), timeout=10,
                     what='no file named in TMPDIR while qemu runs')
        names = []
        for fd in os.listdir(f'/proc/{qemu_pid}/fd'):
            try:
                names.append(os.readlink(f'/proc/{qemu_pid}/fd/{fd}'))
            except OSError:
                pass
        self.assertEqual([], _files(work))
        self.assertEqual([], [n for n in names if n.startswith(work)
                              and not n.endswith('(deleted)')])
        self.assertTrue(cliprocess.alive(qemu_pid), 'the boot was over')
        run.finish(120)


class TestBlankImageUnderRealQemu(base.TestCase):

    def test_the_shell_fallback_is_seen_without_any_built_image(self):
        # The same path as above, through the library: no stray process
        # and a verdict on the firmware.
        from nodepool_aarch64 import model
        from nodepool_aarch64.imagecheck import run
        image = blank_image(self.tempdir())
        result = run.check(image, model.uefi_boot(), 120)
        self.assertEqual('fail', result.verdict)
        self.assertEqual('firmware-boots-disk', result.first_failure.name)
        self.assertEqual([], cliprocess.naming(image))
