"""Arm64 UEFI disk images, good and broken, built without loop devices.

The root is the emulated node's root (``arm64node.node_root``) with a
kernel, GRUB for arm64-efi, busybox and zstd installed by apt under
qemu-user and an initramfs of only the modules the virt machine needs
(Debian's default takes over half an hour to build under qemu-user).
Each image is assembled
on plain files: ``grub-mkstandalone`` (run in the arm64 root under
qemu-user) makes ``BOOTAA64.EFI`` with its config inside, ``mkfs.vfat``
and mtools make the ESP, ``mke2fs -d`` makes the root filesystem from a
hard-linked copy of the root, ``sfdisk`` partitions the disk file and
``dd`` puts both filesystems in place.

A small shell script replaces ``/sbin/init``: it mounts the config drive
and prints the hostname from ``meta_data.json`` the way a cloud image
shows it, which boots in a fraction of the time systemd takes under
TCG.  Each variant reproduces one failure seen in real Arm64 images:

``good``            boots and shows the config drive's hostname.
``no-bootloader``   GRUB only at ``EFI/debian/grubaa64.efi``, with no
                    ``EFI/BOOT/BOOTAA64.EFI``: with a fresh variable
                    store the firmware has no entry for it.
``missing-root``    the kernel command line names a root UUID that is not
                    on the disk (a build-time device leaking into the
                    boot config): the initramfs drops to its shell.
``no-init``         ``/sbin/init`` is a binary the kernel cannot execute
                    (built for x86-64): PID 1 dies, the kernel panics.
``no-config-drive`` boots to a real ``agetty`` login prompt under the
                    image's own hostname and never reads the config drive.
``silent-kernel``   the kernel prints nothing on the console after the
                    firmware hands over (``quiet loglevel=0``) and the
                    init never shows anything: only a deadline ends it.
``mbr``, ``ttys0``  good images with an MBR partition table (ESP type
                    ``EF``) or ``console=ttyS0``: how the firmware and the
                    kernel treat them is measured, see doc/source.

Built images are cached under the shared cache directory, keyed by
everything that goes into them, and built under a lock.
"""

import glob
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import uuid

from tests.functional.harness import arm64node
from tests.functional.harness.region_mirrors import CACHE_DIR, cache_lock

KERNEL_PACKAGES = ('linux-image-arm64', 'grub-efi-arm64-bin', 'busybox',
                   'zstd')
# What the virt machine's disk, config drive and root need in the
# initramfs.  Debian's default (MODULES=most) takes over half an hour
# to build under qemu-user and much longer to unpack under TCG.
INITRAMFS_MODULES = ('virtio_pci', 'virtio_scsi', 'sd_mod', 'sr_mod',
                     'ext4', 'isofs')
# Bump when the way images are assembled changes.
BUILD_VERSION = 1
ESP_MIB = 32
ESP_TYPE = {'gpt': 'C12A7328-F81F-11D2-BA4B-00A0C93EC93B', 'dos': 'ef'}
ROOT_TYPE = {'gpt': '0FC63DAF-8483-4772-8E79-3D69D8477DE4', 'dos': '83'}
IMAGE_HOSTNAME = 'debian'
API_MOUNTS = ('proc', 'sys', 'dev', 'run', 'tmp')
# Not needed to boot: left out to keep the images small.
PRUNE = ('usr/share/doc', 'usr/share/man', 'usr/share/locale',
         'usr/share/info', 'var/cache/apt', 'var/lib/apt/lists')

CONFIG_DRIVE_INIT = """\
#!/bin/sh
# Test image init: read the config drive as cloud-init or glean would
# and show the hostname it names, then power off.
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
modprobe -q sr_mod; modprobe -q isofs
mkdir -p /run/config-drive
drive=$(blkid -t LABEL=config-2 -o device | head -n 1)
mount -t iso9660 -o ro "$drive" /run/config-drive
name=$(sed -n 's/.*"hostname": *"\\([^"]*\\)".*/\\1/p' \\
    /run/config-drive/openstack/latest/meta_data.json)
hostname "$name"
echo "config drive $drive read: hostname $(hostname)"
echo 1 > /proc/sys/kernel/sysrq
echo o > /proc/sysrq-trigger
sleep 60
"""

GETTY_INIT = """\
#!/bin/sh
# Test image init: a system with no cloud agent; it never looks at the
# config drive and waits at a login prompt under its own hostname.
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
hostname -F /etc/hostname
exec /sbin/agetty --noclear ttyAMA0 115200 vt100
"""

SILENT_INIT = """\
#!/bin/sh
# Test image init: shows nothing and never ends, like a system whose
# console went silent after the firmware handed over.
while :; do sleep 3600; done
"""

VARIANTS = {
    'good': {},
    'no-bootloader': {'loader_path': 'EFI/debian/grubaa64.efi'},
    'missing-root': {'root_arg': 'UUID=' + str(uuid.UUID(int=0xbad))},
    'no-init': {'init': 'foreign'},
    'no-config-drive': {'init': 'getty'},
    'silent-kernel': {'init': 'silent', 'kernel_args': 'quiet loglevel=0'},
    'mbr': {'table': 'dos'},
    'ttys0': {'console': 'ttyS0'},
}
DEFAULTS = {'loader_path': 'EFI/BOOT/BOOTAA64.EFI', 'root_arg': None,
            'init': 'config-drive', 'table': 'gpt', 'console': 'ttyAMA0',
            'free_mib': 64, 'files': {}, 'links': {}}


def image_root():
    """The arm64 root every test image is made from: the node's root
    plus a kernel, GRUB and a small initramfs, built once per machine."""
    node = arm64node.node_root()
    key = hashlib.sha256(json.dumps(
        [node, KERNEL_PACKAGES, INITRAMFS_MODULES]).encode()).hexdigest()
    root = os.path.join(CACHE_DIR, f'arm64-{arm64node.RELEASE}-image-'
                                   f'{key[:12]}')
    if os.path.exists(os.path.join(root, '.complete')):
        return root
    with cache_lock('.uefi-image-root.lock'):
        if not os.path.exists(os.path.join(root, '.complete')):
            _install_kernel(node, root + '.partial')
            shutil.rmtree(root, ignore_errors=True)
            os.rename(root + '.partial', root)
    return root


def _install_kernel(node, partial):
    shutil.rmtree(partial, ignore_errors=True)
    _run('cp', '-a', node, partial)
    os.unlink(os.path.join(partial, '.complete'))
    conf = os.path.join(partial, 'etc', 'initramfs-tools')
    os.makedirs(os.path.join(conf, 'conf.d'), exist_ok=True)
    with open(os.path.join(conf, 'conf.d', 'image-check.conf'), 'w') as f:
        f.write('MODULES=list\n')
    with open(os.path.join(conf, 'modules'), 'a') as f:
        f.write(''.join(m + '\n' for m in INITRAMFS_MODULES))
    proc = os.path.join(partial, 'proc')
    _run('mount', '-t', 'proc', 'proc', proc)
    try:
        _run('chroot', partial, 'apt-get', 'update', '-q')
        _run('chroot', partial, 'env', 'DEBIAN_FRONTEND=noninteractive',
             'apt-get', 'install', '-y', '-q', '--no-install-recommends',
             *KERNEL_PACKAGES)
        _run('chroot', partial, 'apt-get', 'clean')
    finally:
        subprocess.run(['umount', '--lazy', proc], capture_output=True)
    with open(os.path.join(partial, '.complete'), 'w'):
        pass


def image(variant):
    """Path of the cached raw image of ``variant``, built if needed."""
    spec = dict(DEFAULTS, **VARIANTS[variant])
    root = image_root()
    # The silent init counts only for the image that has it, so adding
    # it did not change (and rebuild) the others.
    extra = [SILENT_INIT] if spec['init'] == 'silent' else []
    key = hashlib.sha256(json.dumps(
        [BUILD_VERSION, spec, root, CONFIG_DRIVE_INIT, GETTY_INIT,
         _kernel(root)] + extra, sort_keys=True).encode()).hexdigest()[:12]
    directory = os.path.join(CACHE_DIR, 'uefi-images')
    path = os.path.join(directory, f'{variant}-{key}.raw')
    with cache_lock(os.path.join('uefi-images', '.lock')):
        if not os.path.exists(path):
            assemble(root, spec, path)
    return path


def assemble(root, spec, path):
    """Write the raw image of ``spec`` (DEFAULTS overridden) made from
    ``root`` to ``path``, through ``path``.partial."""
    spec = dict(DEFAULTS, **spec)
    directory = os.path.dirname(path)
    os.makedirs(directory, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=directory) as work:
        _build(root, spec, work, path + '.partial')
    os.rename(path + '.partial', path)
    return path


def _kernel(root):
    kernels = sorted(glob.glob(os.path.join(root, 'boot', 'vmlinuz-*')))
    if not kernels:
        raise arm64node.Arm64Unavailable(f'no kernel in {root}/boot')
    return os.path.basename(kernels[-1])[len('vmlinuz-'):]


def _run(*argv, **kwargs):
    proc = subprocess.run(argv, capture_output=True, text=True, **kwargs)
    if proc.returncode != 0:
        raise RuntimeError(f'{" ".join(argv)} failed: {proc.stderr[-1500:]}')
    return proc.stdout


def _build(root, spec, work, out):
    stage = os.path.join(work, 'root')
    os.makedirs(stage)
    # Hard links: the copy is instant and shares the cached root's data;
    # files that differ are replaced, never written through.  The API
    # filesystems' mount points stay empty (something may have mounted
    # them in the cached root).
    for entry in sorted(os.listdir(root)):
        if entry in API_MOUNTS:
            os.mkdir(os.path.join(stage, entry))
        elif entry != '.complete':
            _run('cp', '-al', os.path.join(root, entry), stage)
    for path in PRUNE:
        shutil.rmtree(os.path.join(stage, path), ignore_errors=True)
    _replace(stage, 'etc/hostname', IMAGE_HOSTNAME + '\n')
    _install_init(stage, spec['init'])
    for rel, (text, mode) in sorted(spec['files'].items()):
        os.makedirs(os.path.dirname(os.path.join(stage, rel)), exist_ok=True)
        _replace(stage, rel, text, mode)
    for rel, target in sorted(spec['links'].items()):
        link = os.path.join(stage, rel)
        os.makedirs(os.path.dirname(link), exist_ok=True)
        if os.path.lexists(link):
            os.unlink(link)
        os.symlink(target, link)
    fs_uuid = str(uuid.uuid4())
    loader = _grub(stage, spec, fs_uuid)
    esp = _esp(work, loader, spec['loader_path'])
    rootfs = _rootfs(work, stage, fs_uuid, spec['free_mib'])
    _disk(out, spec['table'], esp, rootfs)


def _replace(stage, rel, text, mode=0o644):
    path = os.path.join(stage, rel)
    if os.path.lexists(path):
        os.unlink(path)
    with open(path, 'wb' if isinstance(text, bytes) else 'w') as f:
        f.write(text)
    os.chmod(path, mode)


def _install_init(stage, kind):
    if kind == 'systemd':
        # The root's own init (systemd-sysv's /sbin/init) stays.
        return
    if kind == 'foreign':
        # An executable of the wrong architecture: passes every check the
        # initramfs makes, then fails to execute as PID 1.
        with open('/bin/true', 'rb') as f:
            _replace(stage, 'sbin/init', f.read(), mode=0o755)
        return
    text = {'getty': GETTY_INIT, 'silent': SILENT_INIT}.get(
        kind, CONFIG_DRIVE_INIT)
    _replace(stage, 'sbin/init', text, mode=0o755)


def _grub(stage, spec, fs_uuid):
    version = _kernel(stage)
    root_arg = spec['root_arg'] or f'UUID={fs_uuid}'
    extra = ' ' + spec['kernel_args'] if spec.get('kernel_args') else ''
    config = (
        'set timeout=0\n'
        f'search --no-floppy --fs-uuid --set=root {fs_uuid}\n'
        f'linux /boot/vmlinuz-{version} root={root_arg} ro '
        f'console={spec["console"]}{extra}\n'
        f'initrd /boot/initrd.img-{version}\n'
        'boot\n')
    _replace(stage, 'tmp/grub.cfg', config)
    _run('chroot', stage, 'grub-mkstandalone', '-O', 'arm64-efi',
         '-o', '/tmp/BOOTAA64.EFI',
         '--install-modules=linux normal search search_fs_uuid part_gpt '
         'part_msdos ext2 fat configfile echo',
         '--modules=part_gpt part_msdos ext2',
         '--locales=', '--themes=', '--fonts=',
         'boot/grub/grub.cfg=/tmp/grub.cfg')
    return os.path.join(stage, 'tmp', 'BOOTAA64.EFI')


def _esp(work, loader, loader_path):
    esp = os.path.join(work, 'esp.img')
    _run('mkfs.vfat', '-C', '-n', 'ESP', esp, str(ESP_MIB * 1024))
    parts = loader_path.split('/')
    for depth in range(1, len(parts)):
        _run('mmd', '-i', esp, '::/' + '/'.join(parts[:depth]))
    _run('mcopy', '-i', esp, loader, '::/' + loader_path)
    return esp


def _rootfs(work, stage, fs_uuid, free_mib):
    rootfs = os.path.join(work, 'root.img')
    used = int(_run('du', '-sm', '--apparent-size', stage).split()[0])
    size = used + used // 4 + free_mib
    _run('mke2fs', '-q', '-t', 'ext4', '-d', stage, '-L', 'cloudimg-rootfs',
         '-U', fs_uuid, '-E', 'root_owner=0:0', rootfs, f'{size}M')
    return rootfs


def _disk(out, table, esp, rootfs):
    mib = 1024 * 1024
    esp_mib = os.path.getsize(esp) // mib
    root_mib = -(-os.path.getsize(rootfs) // mib)
    # 1 MiB in front for the partition table, 1 MiB behind for GPT's
    # backup header.
    _run('truncate', '-s', f'{1 + esp_mib + root_mib + 1}M', out)
    script = (f'label: {table}\n'
              f'start=1MiB, size={esp_mib}MiB, type={ESP_TYPE[table]}\n'
              f'start={1 + esp_mib}MiB, size={root_mib}MiB, '
              f'type={ROOT_TYPE[table]}\n')
    _run('sfdisk', '--quiet', '--no-reread', '--no-tell-kernel', out,
         input=script)
    for source, offset in ((esp, 1), (rootfs, 1 + esp_mib)):
        _run('dd', f'if={source}', f'of={out}', 'bs=1M', f'seek={offset}',
             'conv=notrunc,sparse', 'status=none')
