"""image-check: boot settings from the model, qemu's command line, the
config drive, the criteria on small consoles, and unusable input."""

import json
import os
import subprocess

from nodepool_aarch64 import cli
from nodepool_aarch64 import model
from nodepool_aarch64.imagecheck import configdrive
from nodepool_aarch64.imagecheck import criteria
from nodepool_aarch64.imagecheck import qemu
from tests import base


def _guest(**kwargs):
    values = dict(image='/images/disk.raw', image_format='raw',
                  code='/fw/CODE.fd', vars='/work/VARS.fd',
                  config_drive='/work/config-2.iso',
                  console_log='/work/console.log')
    values.update(kwargs)
    return qemu.Guest(**values)


def _option_values(argv, option):
    return [argv[i + 1] for i, word in enumerate(argv) if word == option]


class TestBootSettings(base.TestCase):

    def test_the_rendered_metadata_is_what_the_check_boots_with(self):
        boot = model.uefi_boot(model.UEFI_METADATA)
        self.assertEqual(('uefi', 'scsi', 'virtio-scsi', 'ttyAMA0'),
                         (boot.firmware, boot.disk_bus, boot.scsi_model,
                          boot.console))

    def test_every_arm64_diskimage_of_the_inventory_boots_the_same(self):
        from nodepool_aarch64.inventory import load
        inv = load.load_inventory()
        arm64 = [d for d in inv.diskimages.values() if d.is_arm64]
        self.assertTrue(arm64)
        for image in arm64:
            self.assertEqual(model.uefi_boot(), model.uefi_boot(
                image.metadata), image.name)

    def test_metadata_a_cloud_cannot_boot_on_aarch64_is_refused(self):
        for change, word in (({'hw_firmware_type': 'bios'}, 'firmware'),
                             ({'hw_disk_bus': 'ide'}, 'hw_disk_bus'),
                             ({'hw_scsi_model': 'lsilogic'}, 'scsi_model')):
            metadata = dict(model.UEFI_METADATA, **change)
            e = self.assertRaises(ValueError, model.uefi_boot, metadata)
            self.assertIn(word, str(e))

    def test_the_last_console_argument_names_the_console(self):
        boot = model.uefi_boot(dict(
            model.UEFI_METADATA,
            os_command_line='console=tty0 console=ttyS0,115200'))
        self.assertEqual('ttyS0', boot.console)


class TestQemuCommand(base.TestCase):

    def test_disk_and_config_drive_on_virtio_scsi(self):
        argv = qemu.command(model.uefi_boot(), _guest())
        devices = _option_values(argv, '-device')
        self.assertIn('virtio-scsi-pci,id=scsi0', devices)
        self.assertIn('scsi-hd,drive=disk0,bus=scsi0.0,bootindex=1',
                      devices)
        self.assertIn('scsi-cd,drive=cd0,bus=scsi0.0', devices)
        drives = _option_values(argv, '-drive')
        self.assertIn('if=none,id=disk0,format=raw,file=/images/disk.raw,'
                      'snapshot=on', drives)

    def test_uefi_pflash_with_the_code_read_only_and_own_vars(self):
        drives = _option_values(qemu.command(model.uefi_boot(), _guest()),
                                '-drive')
        self.assertIn('if=pflash,format=raw,unit=0,readonly=on,'
                      'file=/fw/CODE.fd', drives)
        self.assertIn('if=pflash,format=raw,unit=1,file=/work/VARS.fd',
                      drives)

    def test_virt_machine_with_acpi_and_a_fast_cpu_under_tcg(self):
        argv = qemu.command(model.uefi_boot(), _guest())
        self.assertEqual(['virt,acpi=on'], _option_values(argv, '-machine'))
        self.assertEqual(['cortex-a57'], _option_values(argv, '-cpu'))
        self.assertEqual(['host'], _option_values(
            qemu.command(model.uefi_boot(), _guest(accel='kvm')), '-cpu'))

    def test_serial_console_goes_to_the_log(self):
        argv = qemu.command(model.uefi_boot(), _guest())
        self.assertEqual(['chardev:console0'],
                         _option_values(argv, '-serial'))
        self.assertIn('file,id=console0,path=/work/console.log',
                      _option_values(argv, '-chardev'))

    def test_a_virtio_disk_bus_gets_virtio_blk(self):
        boot = model.uefi_boot(dict(model.UEFI_METADATA,
                                    hw_disk_bus='virtio'))
        argv = qemu.command(boot, _guest(image_format='qcow2'))
        devices = _option_values(argv, '-device')
        self.assertIn('virtio-blk-pci,drive=disk0,bootindex=1', devices)
        self.assertIn('scsi-cd,drive=cd0,bus=scsi0.0', devices)
        self.assertEqual('Misc Device', qemu.boot_entry_pattern(boot))

    def test_qemu_accepts_the_command_line(self):
        # qemu parses every option and device before it boots; -S stops
        # it before the first instruction and "quit" ends it.
        work = self.tempdir()
        code, template = qemu.firmware()
        image = os.path.join(work, 'disk.raw')
        with open(image, 'wb') as f:
            f.truncate(1024 * 1024)
        iso = configdrive.build(os.path.join(work, 'cd.iso'), 'h', 'u')
        with open(os.path.join(work, 'VARS.fd'), 'wb') as f, \
                open(template, 'rb') as t:
            f.write(t.read())
        argv = qemu.command(model.uefi_boot(), _guest(
            image=image, code=code, vars=os.path.join(work, 'VARS.fd'),
            config_drive=iso, console_log=os.path.join(work, 'c.log')))
        monitor = argv.index('-monitor')
        del argv[monitor:monitor + 2]
        proc = subprocess.run(argv + ['-S', '-monitor', 'stdio'],
                              input='quit\n', capture_output=True,
                              text=True, timeout=60)
        self.assertEqual(0, proc.returncode, proc.stderr)


class TestConfigDrive(base.TestCase):

    def test_iso_is_labelled_config_2_and_holds_the_hostname(self):
        work = self.tempdir()
        iso = configdrive.build(os.path.join(work, 'cd.iso'),
                                'image-check-abc', 'u-1')
        pvd = subprocess.run(['xorriso', '-indev', iso, '-pvd_info'],
                             capture_output=True, text=True).stdout
        self.assertRegex(pvd, r"Volume Id\s*:\s*config-2")
        out = os.path.join(work, 'out')
        subprocess.run(['xorriso', '-osirrox', 'on', '-indev', iso,
                        '-extract', '/openstack', out],
                       check=True, capture_output=True)
        with open(os.path.join(out, 'latest', 'meta_data.json')) as f:
            meta = json.load(f)
        self.assertEqual('image-check-abc', meta['hostname'])
        self.assertEqual('u-1', meta['uuid'])


class TestCliInput(base.TestCase):

    def test_missing_image_is_unusable_input(self):
        code, out, err = self.run_cli('image-check', '/nonexistent.raw')
        self.assertEqual(2, code)
        self.assertEqual(1, len(err.splitlines()), err)
        self.assertIn('/nonexistent.raw: cannot read the image: No such file '
                      'or directory', err)

    def test_format_that_does_not_match_the_image(self):
        path = os.path.join(self.tempdir(), 'disk.raw')
        with open(path, 'wb') as f:
            f.truncate(1024 * 1024)
        code, _, err = self.run_cli('image-check', '--disk-format', 'qcow2',
                                    path)
        self.assertEqual(2, code)
        self.assertEqual(1, len(err.splitlines()), err)
        self.assertIn('--disk-format qcow2 given, but the image is raw', err)

    def test_format_once_named_the_disk_format(self):
        path = os.path.join(self.tempdir(), 'disk.raw')
        with open(path, 'wb') as f:
            f.truncate(1024 * 1024)
        code, _, err = self.run_cli('image-check', '--format', 'qcow2', path)
        self.assertEqual(2, code)
        self.assertEqual(
            ['nodepool-aarch64 image-check: --format qcow2 is deprecated; '
             'use --disk-format qcow2',
             f'nodepool-aarch64: {path}: --disk-format qcow2 given, but the '
             'image is raw'], err.splitlines())

    def test_format_means_text_or_json(self):
        code, _, err = self.run_cli('image-check', '--format', 'yaml', 'x')
        self.assertEqual(2, code)
        self.assertIn("argument --format: 'yaml': expected text or json "
                      '(--disk-format takes raw or qcow2)', err)
        args = cli.build_parser().parse_args(
            ['image-check', '--output-format', 'json', 'x'])
        self.assertEqual(('json', None), (args.format, args.disk_format))
        args = cli.build_parser().parse_args(
            ['image-check', '--format', 'json', '--disk-format', 'raw',
             'x'])
        self.assertEqual(('json', 'raw'), (args.format, args.disk_format))

    def test_an_empty_file_is_no_disk(self):
        path = os.path.join(self.tempdir(), 'disk.raw')
        open(path, 'wb').close()
        code, _, err = self.run_cli('image-check', path)
        self.assertEqual(2, code)
        self.assertIn('too small to hold a partition table', err)

    def test_unknown_diskimage(self):
        path = os.path.join(self.tempdir(), 'disk.raw')
        code, _, err = self.run_cli('image-check', '--diskimage', 'nope',
                                    path)
        self.assertEqual(2, code)
        self.assertIn("diskimages: no diskimage named 'nope'", err)

    def test_timeout_must_be_positive(self):
        code, _, err = self.run_cli('image-check', '--timeout', '0', 'x')
        self.assertEqual(2, code)
        self.assertIn("argument --timeout: '0': expected a whole number of "
                      'seconds above 0', err)


def _feed(console, text, chunk=37, step=0.01):
    """Feed ``text`` in small pieces, as a growing log file is read."""
    at = 0.0
    for start in range(0, len(text), chunk):
        at += step
        console.feed(text[start:start + chunk], at)
        if console.verdict is not None:
            break
    return console


class TestCriteria(base.TestCase):

    ENTRY = 'BdsDxe: starting Boot0001 "UEFI QEMU QEMU HARDDISK QM00001 "\n'

    def test_later_stages_imply_the_earlier_ones(self):
        console = _feed(criteria.Console('host-1'), self.ENTRY + (
            '[    0.000000] Booting Linux on physical CPU 0x0000000000\n'
            'host-1 login: '))
        self.assertEqual(criteria.PASS, console.verdict)
        self.assertEqual([criteria.PASS] * 5, [
            o.status for o in console.outcomes.values()])
        self.assertIn('implied', console.outcomes['init'].evidence)

    def test_escape_sequences_and_carriage_returns_are_ignored(self):
        console = _feed(criteria.Console('h'), (
            '\x1b[2J\x1b[01;01H\x1b[=3h\x1b[0m\x1b[37m\x1b[40mBdsDxe: '
            'starting Boot0001 "UEFI QEMU QEMU HARDDISK QM00001 " from '
            'PciRoot(0x0)\r\r\n'))
        self.assertEqual(criteria.PASS,
                         console.outcomes['firmware-boots-disk'].status)

    def test_a_prompt_without_a_newline_fails_at_once(self):
        console = _feed(criteria.Console('h'), 'UEFI Interactive Shell '
                        'v2.2\nShell> ')
        self.assertEqual(criteria.FAIL, console.verdict)
        self.assertEqual('firmware-boots-disk', console.first_failure.name)
        self.assertIn('Shell>', console.tail()[-1])

    def test_a_shell_after_the_loader_ran_fails_the_next_stage(self):
        console = _feed(criteria.Console('h'), self.ENTRY + 'Shell> ')
        self.assertEqual(criteria.PASS,
                         console.outcomes['firmware-boots-disk'].status)
        self.assertEqual('kernel-console', console.first_failure.name)

    def test_network_boot_is_a_fallback(self):
        console = _feed(criteria.Console('h'), (
            'BdsDxe: starting Boot0003 "UEFI PXEv4 (MAC:525400123456)" '
            'from PciRoot(0x0)/Pci(0x2,0x0)\n'))
        self.assertEqual('firmware-boots-disk', console.first_failure.name)

    def test_a_panic_about_the_root_names_the_root(self):
        console = _feed(criteria.Console('h'), self.ENTRY + (
            'Kernel panic - not syncing: VFS: Unable to mount root fs on '
            'unknown-block(0,0)\n'))
        self.assertEqual('root-filesystem', console.first_failure.name)

    def test_another_hostname_at_the_login_prompt_fails_the_drive(self):
        console = _feed(criteria.Console('image-check-1'), self.ENTRY + (
            'Debian GNU/Linux 12 debian ttyAMA0\n\ndebian login: '))
        self.assertEqual('config-drive', console.first_failure.name)
        self.assertIn("'debian'", console.first_failure.evidence)

    def test_timeout_fails_the_first_stage_not_passed(self):
        console = _feed(criteria.Console('h'), self.ENTRY + 'EFI stub: '
                        'Booting Linux Kernel...\n')
        self.assertIsNone(console.verdict)
        console.finish(300.0, 'not seen within 300s')
        self.assertEqual('kernel-console', console.first_failure.name)
        self.assertEqual(criteria.NOT_REACHED,
                         console.outcomes['config-drive'].status)
        self.assertEqual(['BdsDxe: starting Boot0001 "UEFI QEMU QEMU '
                          'HARDDISK QM00001 "', 'EFI stub: Booting Linux '
                          'Kernel...'], console.tail())


class TestStageDeadlines(base.TestCase):
    """Each stage's clock starts when the stage before it passed."""

    ENTRY = TestCriteria.ENTRY

    def test_a_kernel_silent_after_the_handover_fails_kernel_console(self):
        console = criteria.Console('h')
        console.feed(self.ENTRY + 'EFI stub: Exiting boot services...\n',
                     9.0)
        self.assertFalse(console.overdue(9.0 + 59))
        self.assertIsNone(console.verdict)
        self.assertTrue(console.overdue(9.0 + 60))
        failure = console.first_failure
        self.assertEqual('kernel-console', failure.name)
        self.assertEqual('not seen within 60s after firmware-boots-disk '
                         'passed', failure.evidence)
        self.assertLessEqual(failure.at, 120)

    def test_the_firmware_clock_starts_with_the_boot(self):
        console = criteria.Console('h', deadlines={'firmware-boots-disk': 5})
        console.feed('UEFI firmware (version  built at 13:10:49)\n', 1.0)
        self.assertTrue(console.overdue(5.0))
        self.assertEqual('not seen within 5s of the start',
                         console.first_failure.evidence)

    def test_each_later_stage_gets_its_own_time(self):
        console = criteria.Console('h')
        console.feed(self.ENTRY, 5.0)
        console.feed('[    0.000000] Booting Linux on physical CPU 0x0\n',
                     14.0)
        # Long past the kernel's deadline, within the root's.
        self.assertFalse(console.overdue(14.0 + 200))
        console.feed('[   30.1] EXT4-fs (sda2): mounted filesystem with '
                     'ordered data mode. Quota mode: none.\n', 250.0)
        self.assertEqual(criteria.PASS,
                         console.outcomes['root-filesystem'].status)
        self.assertFalse(console.overdue(250.0 + 179))
        self.assertTrue(console.overdue(250.0 + 180))
        self.assertEqual('init', console.first_failure.name)

    def test_markers_of_the_root_and_of_init(self):
        for line, stage in (
                ('[    2.5] VFS: Mounted root (ext4 filesystem) readonly '
                 'on device 8:2.', 'root-filesystem'),
                ('[    9.1] XFS (vda1): Ending clean mount',
                 'root-filesystem'),
                ('[    3.2] systemd[1]: systemd 252.33-1~deb12u1 running in '
                 'system mode', 'init'),
                ('Welcome to \x1b[1mDebian GNU/Linux 12 (bookworm)\x1b[0m!',
                 'init'),
                ('[    2.9] Run /sbin/init as init process', 'init')):
            console = criteria.Console('h')
            console.feed(self.ENTRY + line + '\n', 1.0)
            self.assertEqual(criteria.PASS, console.outcomes[stage].status,
                             line)

    def test_grub_welcome_and_the_initramfs_init_are_not_init(self):
        console = criteria.Console('h')
        console.feed(self.ENTRY + 'Welcome to GRUB!\n'
                     '[    1.0] Run /init as init process\n', 1.0)
        self.assertEqual(criteria.NOT_REACHED,
                         console.outcomes['init'].status)
        self.assertEqual(criteria.NOT_REACHED,
                         console.outcomes['root-filesystem'].status)

    def test_a_quiet_kernel_still_shows_by_its_timestamps(self):
        console = criteria.Console('h')
        console.feed(self.ENTRY + '[    1.234567] random: crng init done\n',
                     3.0)
        self.assertEqual(criteria.PASS,
                         console.outcomes['kernel-console'].status)

    def test_a_real_boot_stops_at_the_firmware_deadline(self):
        # A blank disk under the real firmware, with the first stage's
        # time cut short: the boot ends at that deadline, not --timeout.
        from nodepool_aarch64.imagecheck import run
        image = os.path.join(self.tempdir(), 'disk.raw')
        with open(image, 'wb') as f:
            f.truncate(1024 * 1024)
        result = run.check(image, model.uefi_boot(), 300,
                           deadlines={'firmware-boots-disk': 1})
        self.assertEqual('firmware-boots-disk', result.first_failure.name)
        self.assertIn('not seen within 1s of the start',
                      result.first_failure.evidence)
        self.assertLess(result.elapsed, 30)

    def test_the_documented_deadlines_are_the_ones_in_force(self):
        import re
        with open(os.path.join(base.REPO, 'doc', 'source',
                               'imagecheck.rst')) as f:
            documented = dict(
                (name, int(seconds)) for name, seconds in re.findall(
                    r'^``([a-z-]+)`` +(\d+) s ', f.read(), re.M))
        self.assertEqual(criteria.DEADLINES, documented)
