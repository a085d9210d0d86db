"""The qemu-system-aarch64 command line for one boot, as Nova's would be.

Nova (through libvirt) gives an AArch64 UEFI guest the ``virt`` machine
with ACPI on, edk2 (AAVMF) as read-only pflash code plus a per-guest
copy of the variable store, the disk on the bus the image properties
name with the disk as the first boot device, the config drive as a
CD-ROM on the same controller, a virtio NIC and the PL011 serial port
whose output becomes the console log.  Everything that depends on the
image comes from ``model.UefiBoot``.
"""

import dataclasses
import os
import platform

from nodepool_aarch64 import model

# Debian's qemu-efi-aarch64 (AAVMF) first; Fedora's edk2-aarch64 next.
FIRMWARE_PAIRS = (
    ('/usr/share/AAVMF/AAVMF_CODE.fd', '/usr/share/AAVMF/AAVMF_VARS.fd'),
    ('/usr/share/edk2/aarch64/QEMU_EFI-pflash.raw',
     '/usr/share/edk2/aarch64/vars-template-pflash.raw'),
)
# Under TCG, -cpu max emulates pointer authentication slowly; a
# Cortex-A57 boots the same images several times faster.
TCG_CPU = 'cortex-a57'
KVM_DEVICE = '/dev/kvm'


class FirmwareMissing(Exception):
    pass


@dataclasses.dataclass(frozen=True)
class Guest:
    """One boot: the files it uses and the resources it gets."""

    image: str
    image_format: str
    code: str
    vars: str
    config_drive: str
    console_log: str
    memory: int = 1024
    cpus: int = 1
    accel: str = 'tcg'
    # Off only to measure what a guest without ACPI (device tree) does;
    # Nova's guests have it.
    acpi: bool = True
    # A guest that is used, not only checked: its NIC routes out through
    # qemu's user network, and this port on 127.0.0.1 reaches its sshd.
    ssh_port: int | None = None


def firmware():
    """(code, vars template) of the first AAVMF/edk2 build installed."""
    for code, template in FIRMWARE_PAIRS:
        if os.path.exists(code) and os.path.exists(template):
            return code, template
    raise FirmwareMissing(
        'no AArch64 UEFI firmware found (install qemu-efi-aarch64); '
        'looked for ' + ', '.join(code for code, _ in FIRMWARE_PAIRS))


def best_accel():
    """KVM where this host is AArch64 and may use it, TCG elsewhere."""
    if platform.machine() in model.ARM64_NAMES and \
            os.access(KVM_DEVICE, os.R_OK | os.W_OK):
        return 'kvm'
    return 'tcg'


def disk_devices(boot, guest):
    """Controller, disk and config drive for the bus ``boot`` names."""
    disk = (f'if=none,id=disk0,format={guest.image_format},'
            f'file={guest.image},snapshot=on')
    cdrom = (f'if=none,id=cd0,format=raw,media=cdrom,readonly=on,'
             f'file={guest.config_drive}')
    if boot.disk_bus == 'scsi':
        return ['-device', 'virtio-scsi-pci,id=scsi0',
                '-drive', disk,
                '-device', 'scsi-hd,drive=disk0,bus=scsi0.0,bootindex=1',
                '-drive', cdrom,
                '-device', 'scsi-cd,drive=cd0,bus=scsi0.0']
    # hw_disk_bus virtio: virtio-blk for the disk; Nova puts AArch64
    # CD-ROMs on scsi whatever the disk bus.
    return ['-drive', disk,
            '-device', 'virtio-blk-pci,drive=disk0,bootindex=1',
            '-device', 'virtio-scsi-pci,id=scsi0',
            '-drive', cdrom,
            '-device', 'scsi-cd,drive=cd0,bus=scsi0.0']


def boot_entry_pattern(boot):
    """How the firmware names the disk's boot entry on this bus."""
    if boot.disk_bus == 'scsi':
        return 'QEMU HARDDISK'
    return 'Misc Device'


def command(boot, guest, binary='qemu-system-aarch64'):
    """The argv that boots ``guest`` as Nova boots an image like it."""
    cpu = 'host' if guest.accel == 'kvm' else TCG_CPU
    return [
        binary, '-nodefaults', '-no-user-config',
        # ACPI on, as libvirt sets it for Nova's AArch64 UEFI guests:
        # it decides how the kernel finds its console (SPCR table).
        '-machine', 'virt,acpi=' + ('on' if guest.acpi else 'off'),
        '-accel', guest.accel,
        '-cpu', cpu, '-smp', str(guest.cpus), '-m', str(guest.memory),
        '-drive', f'if=pflash,format=raw,unit=0,readonly=on,'
                  f'file={guest.code}',
        '-drive', f'if=pflash,format=raw,unit=1,file={guest.vars}',
        *disk_devices(boot, guest),
        '-netdev', _netdev(guest),
        '-device', 'virtio-net-pci,netdev=net0,romfile=',
        '-chardev', f'file,id=console0,path={guest.console_log}',
        '-serial', 'chardev:console0',
        '-display', 'none', '-monitor', 'none',
    ]


def _netdev(guest):
    if guest.ssh_port is None:
        # A NIC with no route out: the firmware's network boot fallback
        # shows on the console as it would in a cloud.
        return 'user,id=net0,restrict=on'
    return (f'user,id=net0,'
            f'hostfwd=tcp:127.0.0.1:{guest.ssh_port}-:22')
