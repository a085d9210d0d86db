"""image-check's criteria on serial consoles recorded from real boots."""

import json
import os

from nodepool_aarch64.imagecheck import criteria
from tests import base
from tests.unit.test_imagecheck import _feed

FIXTURES = os.path.join(os.path.dirname(__file__), 'fixtures', 'consoles')


class TestRecordedConsoles(base.TestCase):
    """Serial consoles recorded from real boots of the functional tests'
    images (``benchmarks/image_check.py --measure --consoles DIR``), with
    the hostname each boot's config drive held."""

    def replay(self, name, chunk=509):
        with open(os.path.join(FIXTURES, name + '.json')) as f:
            recorded = json.load(f)
        with open(os.path.join(FIXTURES, name + '.log'),
                  errors='replace') as f:
            text = f.read()
        console = _feed(criteria.Console(recorded['hostname']), text, chunk)
        if console.verdict is None:
            console.finish(300.0, 'not seen within 300s')
        return console

    def assertFailedOn(self, console, name):
        self.assertEqual(criteria.FAIL, console.verdict)
        self.assertEqual(name, console.first_failure.name)
        names = list(criteria.NAMES)
        for earlier in names[:names.index(name)]:
            self.assertEqual(criteria.PASS,
                             console.outcomes[earlier].status, earlier)

    def test_good_image_passes_every_criterion(self):
        console = self.replay('good')
        self.assertEqual(criteria.PASS, console.verdict)
        self.assertIn('QEMU HARDDISK',
                      console.outcomes['firmware-boots-disk'].evidence)
        self.assertIn('Booting Linux',
                      console.outcomes['kernel-console'].evidence)

    def test_missing_bootloader_fails_the_firmware(self):
        console = self.replay('no-bootloader')
        self.assertFailedOn(console, 'firmware-boots-disk')
        self.assertIn('Not Found', console.first_failure.evidence)

    def test_missing_root_fails_the_root_filesystem(self):
        console = self.replay('missing-root')
        self.assertFailedOn(console, 'root-filesystem')
        self.assertIn('Gave up waiting for root',
                      console.first_failure.evidence)

    def test_init_that_cannot_run_fails_init(self):
        console = self.replay('no-init')
        self.assertFailedOn(console, 'init')
        self.assertIn('Kernel panic', console.first_failure.evidence)

    def test_login_without_the_config_drive_fails_it(self):
        console = self.replay('no-config-drive')
        self.assertFailedOn(console, 'config-drive')

    def test_an_mbr_disk_with_an_ef_esp_boots(self):
        console = self.replay('mbr')
        self.assertEqual(criteria.PASS, console.verdict)
        self.assertIn('QEMU HARDDISK',
                      console.outcomes['firmware-boots-disk'].evidence)

    def test_console_ttys0_still_reaches_ttyama0_under_acpi(self):
        console = self.replay('ttys0')
        self.assertEqual(criteria.PASS, console.verdict)
        self.assertIn('Booting Linux',
                      console.outcomes['kernel-console'].evidence)

    def test_console_ttys0_is_silent_without_acpi(self):
        # Device tree instead of ACPI: the kernel obeys console=ttyS0,
        # which the virt machine lacks, and prints nothing after GRUB.
        console = self.replay('ttys0-acpi-off')
        self.assertFailedOn(console, 'kernel-console')
        self.assertIn('EFI stub: Exiting boot services', console.tail()[-1])

    def test_the_verdict_does_not_depend_on_how_the_log_is_read(self):
        for name in ('good', 'no-bootloader', 'missing-root', 'no-init',
                     'no-config-drive', 'mbr', 'ttys0'):
            verdicts = set()
            for chunk in (7, 64, 4096, 10 ** 7):
                console = self.replay(name, chunk)
                failure = console.first_failure
                verdicts.add((console.verdict, failure and failure.name))
            self.assertEqual(1, len(verdicts), name)
