"""``nodepool-aarch64 image-check``: boot an image as Nova would, once."""

import argparse
import os

from nodepool_aarch64 import model
from nodepool_aarch64 import options
from nodepool_aarch64.errors import InputError
from nodepool_aarch64.formats.readfile import is_regular_or_absent
from nodepool_aarch64.imagecheck import criteria
from nodepool_aarch64.imagecheck import qemu
from nodepool_aarch64.imagecheck import report
from nodepool_aarch64.imagecheck import run
from nodepool_aarch64.options import add_command, positive_seconds

DEFAULT_TIMEOUT = 600
DISK_FORMATS = ('raw', 'qcow2')

DESCRIPTION = """\
Boot an Arm64 disk image under UEFI the way Nova boots it from the image
properties this project renders (hw_firmware_type uefi, hw_disk_bus
scsi, hw_scsi_model virtio-scsi, console on ttyAMA0): qemu-system-aarch64
-M virt with ACPI, AAVMF firmware with a fresh variable store, the disk
on virtio-scsi, a config-2 config drive holding a random hostname, and
the serial console read against these criteria, in order:

  firmware-boots-disk  the firmware starts the disk's boot entry (not the
                       UEFI shell, startup.nsh or network boot)
  kernel-console       the kernel prints on the serial console
  root-filesystem      the initramfs finds and mounts the root
  init                 an init runs (no kernel panic)
  config-drive         the hostname from the config drive appears on the
                       console (e.g. in the login prompt)

A shell, a panic or a login prompt under another name fails at once.
Each stage has its own deadline, counted from the stage before it
passing (the first from the start); a boot that stalls fails the stage
it is stuck in when its time is up, or when --timeout is:

{deadlines}

KVM is used on an AArch64 host that has it, TCG elsewhere.  The image
is never written to; --console-log is replaced only once the boot has
a verdict.

Exit codes: 0 pass, 1 fail, 2 unusable input.
""".format(deadlines='\n'.join(
    f'  {name:<20} {seconds} s'
    for name, seconds in criteria.DEADLINES.items()))


def register(subparsers):
    parser = add_command(
        subparsers, 'image-check',
        help='boot an Arm64 image under UEFI as Nova would',
        description=DESCRIPTION)
    parser.add_argument('image', metavar='IMAGE', help='disk image file')
    parser.add_argument('--disk-format', choices=DISK_FORMATS,
                        help='image format (default: read from the image)')
    parser.add_argument('--timeout', type=positive_seconds,
                        default=DEFAULT_TIMEOUT,
                        metavar='SECONDS', help='longest a boot may take '
                        '(default %(default)s)')
    options.inventory(parser, help='take the image properties of '
                      '--diskimage from this inventory (default: the '
                      'shipped one)')
    parser.add_argument('--diskimage', metavar='NAME',
                        help='boot with this diskimage\'s properties '
                        '(default: the UEFI properties of every Arm64 '
                        'diskimage)')
    parser.add_argument('--accel', choices=('auto', 'kvm', 'tcg'),
                        default='auto', help='qemu accelerator')
    parser.add_argument('--memory', type=int, default=1024, metavar='MIB')
    parser.add_argument('--cpus', type=int, default=1, metavar='N')
    parser.add_argument('--console-log', metavar='FILE',
                        help='keep the whole serial console here (replaced '
                        'once the boot has a verdict)')
    parser.add_argument('--format', type=_format, default='text',
                        action=_Format, metavar='{text,json}',
                        help='how to print the result')
    # What --format text|json was called here before every command
    # spelled it --format.
    parser.add_argument('--output-format', dest='format',
                        choices=options.OUTPUT_FORMATS,
                        help=argparse.SUPPRESS)
    parser.set_defaults(func=main)


def _format(value):
    """``--format``'s type: text or json, or (its old meaning here) a
    disk format."""
    if value not in options.OUTPUT_FORMATS + DISK_FORMATS:
        raise argparse.ArgumentTypeError(
            f'{value!r}: expected text or json (--disk-format takes '
            f'{" or ".join(DISK_FORMATS)})')
    return value


class _Format(argparse.Action):
    """``--format raw|qcow2`` named the disk format before --format meant
    text or json everywhere: it still does, with a line saying to write
    --disk-format."""

    def __call__(self, parser, namespace, value, option_string=None):
        if value in DISK_FORMATS:
            options.deprecated(parser, f'{option_string} {value}',
                               f'--disk-format {value}')
            namespace.disk_format = value
        else:
            namespace.format = value


def boot_settings(args):
    """The UefiBoot the cloud would use for this image (model.uefi_boot)."""
    metadata = model.UEFI_METADATA
    if args.diskimage:
        from nodepool_aarch64.inventory import load
        inventory = load.load_inventory(args.inventory)
        image = inventory.diskimages.get(args.diskimage)
        if image is None:
            raise InputError(inventory.path, None, 'diskimages',
                             f'no diskimage named {args.diskimage!r}')
        metadata = image.metadata
    elif args.inventory:
        raise InputError(args.inventory, None, '',
                         '--inventory needs --diskimage')
    try:
        return model.uefi_boot(metadata)
    except ValueError as e:
        raise InputError(args.inventory or 'inventory', None,
                         f'diskimages.{args.diskimage}.metadata', str(e))


def _same_file(a, b):
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def check_console_log(path, inputs):
    """Refuse, before any boot, a --console-log that could not be
    replaced by the console once the boot is over, or that names a file
    the boot reads (the image itself, the firmware)."""
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise InputError(path, None, '', 'its directory does not exist')
    if os.path.isdir(path):
        raise InputError(path, None, '', 'is a directory')
    if not is_regular_or_absent(path):
        raise InputError(path, None, '', 'not a regular file (a FIFO or '
                         'device cannot hold the console log)')
    for name in inputs:
        if _same_file(path, name):
            raise InputError(path, None, '', f'is {name}, which the boot '
                             'reads: the console log must go elsewhere')


def main(args):
    boot = boot_settings(args)
    try:
        run.image_format(args.image, args.disk_format)
    except run.UnusableImage as e:
        raise InputError(args.image, None, '', str(e))
    if args.console_log:
        try:
            firmware = qemu.firmware()
        except qemu.FirmwareMissing:
            firmware = ()
        check_console_log(args.console_log, (args.image, *firmware))
    try:
        result = run.check(
            args.image, boot, args.timeout,
            requested_format=args.disk_format,
            accel=None if args.accel == 'auto' else args.accel,
            memory=args.memory, cpus=args.cpus, console_log=args.console_log)
    except (run.UnusableImage, qemu.FirmwareMissing) as e:
        raise InputError(args.image, None, '', str(e))
    except run.ConsoleLogUnwritable as e:
        raise InputError(e.path, None, '', str(e))
    except FileNotFoundError as e:
        raise InputError(args.image, None, '', f'cannot run {e.filename}: '
                         'install qemu-system-arm, qemu-efi-aarch64 and '
                         'xorriso')
    if args.format == 'json':
        print(report.as_json(result))
    else:
        print('\n'.join(report.text(result)))
    return 0 if result.verdict == criteria.PASS else 1
