"""A full-system aarch64 VM as a job node: systemd, sshd, Docker.

The qemu-user node (arm64node) runs Ansible well but has no init and so
no dockerd; Kolla's build and deploy jobs need a machine.  This one is
made and used the way a cloud's is:

1. **Build.**  ``node_image()`` takes the UEFI image root (uefi_images:
   the arm64 node root plus a kernel, GRUB and a small initramfs), adds
   systemd as init, Docker and what Kolla's jobs install, a boot-time
   reader of the config drive, and assembles a GPT disk image with
   room for Docker's images.
2. **Boot-check.**  ``nodepool-aarch64 image-check`` (the command the
   image-build job runs) boots it under UEFI with a fresh config drive;
   only an image that passes is published to the cache, as the job
   returns an image to zuul-launcher only after the check.
3. **Use.**  ``Arm64VM`` boots that exact file (writes go to a
   throw-away overlay: ``snapshot=on``) with the settings image-check
   used (``model.uefi_boot()``), a config drive naming its hostname
   and the executor's public key, and qemu's user network with
   127.0.0.1:PORT forwarded to its sshd, where Nodepool's static driver
   (or zuul-launcher's) hands it out.

The image is cached under the shared cache directory, keyed by the
content of everything that makes it: the package set, the files written
into it, and this module's and uefi_images' source.
"""

import hashlib
import inspect
import json
import os
import shutil
import subprocess
import sys
import time
import uuid

import fixtures

from nodepool_aarch64 import children
from nodepool_aarch64 import model
from nodepool_aarch64.imagecheck import configdrive
from nodepool_aarch64.imagecheck import qemu
from tests.functional.harness import arm64node
from tests.functional.harness import processes
from tests.functional.harness import uefi_images
from tests.functional.harness.region_mirrors import CACHE_DIR, cache_lock

# What a node for Kolla's jobs runs: systemd as PID 1 and udev for
# devices, networkd for DHCP on qemu's user network, Docker (with
# AppArmor, which Debian's kernel enables), and what Kolla's pre-run
# builds its virtualenv with.  python3-apt lets Ansible's apt module
# work without installing it first.
VM_PACKAGES = (
    'apparmor', 'ca-certificates', 'dbus', 'docker.io', 'gcc', 'git',
    'iproute2', 'kmod', 'python3-apt', 'python3-dev', 'python3-pip',
    'python3-venv', 'systemd', 'systemd-sysv', 'udev')
# Room on the root filesystem for Docker's images, containers and the
# buildset registry (the file is sparse: only what is written counts).
FREE_MIB = 12 * 1024
# qemu's user network: the host's loopback as the guest sees it, and
# the DNS forwarder.
HOST_FROM_GUEST = '10.0.2.2'
GUEST_DNS = '10.0.2.3'
KEY_NAME = 'zuul-executor'
MEMORY_MIB = 4096
CPUS = 2
BOOT_TIMEOUT = 600
IMAGE_CHECK_TIMEOUT = 900

READ_CONFIG_DRIVE = r'''#!/usr/bin/python3
"""Read the config drive as glean does: hostname and SSH keys."""
import json
import os
import pwd
import subprocess
import time

MOUNT = '/run/config-drive'
# The CD-ROM may show up after this starts: wait for it, not for every
# device (systemd-udev-settle takes minutes under emulation).
for attempt in range(120):
    device = subprocess.run(
        ['blkid', '-t', 'LABEL=config-2', '-o', 'device'],
        capture_output=True, text=True).stdout.split()
    if device:
        break
    time.sleep(0.5)
else:
    raise SystemExit('no config drive (LABEL=config-2) found')
os.makedirs(MOUNT, exist_ok=True)
subprocess.run(['mount', '-o', 'ro', device[0], MOUNT], check=True)
try:
    with open(MOUNT + '/openstack/latest/meta_data.json') as f:
        meta = json.load(f)
finally:
    subprocess.run(['umount', MOUNT])
hostname = meta['hostname']
with open('/etc/hostname', 'w') as f:
    f.write(hostname + '\n')
subprocess.run(['hostname', hostname], check=True)
# The node resolves its own name (sudo asks), as Debian's installer
# and cloud-init set it up.
with open('/etc/hosts') as f:
    hosts = [line for line in f if not line.startswith('127.0.1.1')]
with open('/etc/hosts', 'w') as f:
    f.writelines(hosts + ['127.0.1.1 %s\n' % hostname])
user = pwd.getpwnam('zuul')
ssh = os.path.join(user.pw_dir, '.ssh')
os.makedirs(ssh, mode=0o700, exist_ok=True)
keys = os.path.join(ssh, 'authorized_keys')
with open(keys, 'w') as f:
    f.write(''.join(k.strip() + '\n' for k in meta['public_keys'].values()))
for path in (ssh, keys):
    os.chown(path, user.pw_uid, user.pw_gid)
os.chmod(keys, 0o600)
print('config drive %s read: hostname %s, %d key(s)'
      % (device[0], hostname, len(meta['public_keys'])))
'''

READ_CONFIG_DRIVE_UNIT = '''[Unit]
Description=Read the config drive (hostname, SSH keys)
DefaultDependencies=no
After=local-fs.target systemd-udevd.service
Before=ssh.service systemd-user-sessions.service network-pre.target
Wants=network-pre.target

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/usr/local/sbin/read-config-drive
StandardOutput=journal+console

[Install]
WantedBy=multi-user.target
'''

NETWORK = '''[Match]
Name=en* eth*

[Network]
DHCP=ipv4
'''

FSTAB = 'LABEL=cloudimg-rootfs / ext4 defaults,errors=remount-ro 0 1\n'


def _source(module):
    with open(module.__file__, 'rb') as f:
        return hashlib.sha256(f.read()).hexdigest()


def _key(*parts):
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()
                          ).hexdigest()[:12]


def _write(root, rel, text, mode=0o644):
    path = os.path.join(root, rel)
    if os.path.lexists(path):
        os.unlink(path)
    with open(path, 'w') as f:
        f.write(text)
    os.chmod(path, mode)


# What makes a Debian root a cloud node, written into the image (not
# the cached root, so changing them costs an image, not a root).
NODE_FILES = {
    'etc/fstab': (FSTAB, 0o644),
    'usr/local/sbin/read-config-drive': (READ_CONFIG_DRIVE, 0o755),
    'etc/systemd/system/read-config-drive.service': (
        READ_CONFIG_DRIVE_UNIT, 0o644),
    'etc/systemd/network/20-dhcp.network': (NETWORK, 0o644),
    # No resolver daemon: qemu's user network answers DNS here.
    'etc/resolv.conf': ('nameserver %s\n' % GUEST_DNS, 0o644),
    # Nothing waits for "network online" longer than DHCP takes.
    'etc/systemd/system/systemd-networkd-wait-online.service.d/'
    'timeout.conf': (
        '[Service]\nExecStart=\nExecStart=/lib/systemd/'
        'systemd-networkd-wait-online --any --timeout=30\n', 0o644),
}
NODE_LINKS = {
    'etc/systemd/system/multi-user.target.wants/read-config-drive.service':
        '/etc/systemd/system/read-config-drive.service',
    'etc/systemd/system/multi-user.target.wants/systemd-networkd.service':
        '/lib/systemd/system/systemd-networkd.service',
}


def vm_root():
    """The image root plus systemd, Docker and what Kolla's jobs use,
    built once per machine."""
    base = uefi_images.image_root()
    root = os.path.join(CACHE_DIR, 'arm64-%s-vm-%s' % (
        arm64node.RELEASE, _key(base, VM_PACKAGES,
                                inspect.getsource(_install))))
    if os.path.exists(os.path.join(root, '.complete')):
        return root
    with cache_lock('.vm-root.lock'):
        if not os.path.exists(os.path.join(root, '.complete')):
            partial = root + '.partial'
            shutil.rmtree(partial, ignore_errors=True)
            subprocess.run(['cp', '-a', base, partial], check=True)
            os.unlink(os.path.join(partial, '.complete'))
            _install(partial)
            with open(os.path.join(partial, '.complete'), 'w'):
                pass
            shutil.rmtree(root, ignore_errors=True)
            os.rename(partial, root)
    return root


def _install(root):
    proc = os.path.join(root, 'proc')
    subprocess.run(['mount', '-t', 'proc', 'proc', proc], check=True)
    try:
        arm64node.in_root(root, 'apt-get', 'update', '-q')
        # No service starts inside the build root (policy-rc.d says no),
        # and the image root's small initramfs stays as it is: packages
        # with initramfs hooks (udev) would rebuild it, which takes
        # over ten minutes under qemu-user and adds nothing the virt
        # machine's boot needs.
        _write(root, 'usr/sbin/policy-rc.d', '#!/bin/sh\nexit 101\n', 0o755)
        initramfs_conf = os.path.join(
            root, 'etc', 'initramfs-tools', 'update-initramfs.conf')
        with open(initramfs_conf) as f:
            kept = f.read()
        _write(root, initramfs_conf, 'update_initramfs=no\n')
        arm64node.in_root(
            root, 'env', 'DEBIAN_FRONTEND=noninteractive', 'apt-get',
            'install', '-y', '-q', '--no-install-recommends', *VM_PACKAGES)
        _write(root, initramfs_conf, kept)
        os.unlink(os.path.join(root, 'usr/sbin/policy-rc.d'))
        arm64node.in_root(root, 'apt-get', 'clean')
        arm64node.in_root(root, 'ssh-keygen', '-A')
    finally:
        subprocess.run(['umount', '--lazy', proc], capture_output=True)


def node_image():
    """The node's raw image, built and passed by image-check once per
    machine; only an image that passed is ever returned."""
    root = vm_root()
    spec = {'init': 'systemd', 'free_mib': FREE_MIB, 'files': NODE_FILES,
            'links': NODE_LINKS}
    directory = os.path.join(CACHE_DIR, 'vm-images')
    path = os.path.join(directory, 'node-%s.raw' % _key(
        root, spec, _source(uefi_images)))
    if os.path.exists(path):
        return path
    with cache_lock(os.path.join('vm-images', '.lock')):
        if os.path.exists(path):
            return path
        unchecked = uefi_images.assemble(root, spec, path + '.unchecked')
        check = image_check(unchecked)
        if check['verdict'] != 'pass':
            raise arm64node.Arm64Unavailable(
                'the node image failed image-check: %s'
                % json.dumps(check)[-3000:])
        with open(path + '.image-check.json', 'w') as f:
            json.dump(check, f, indent=1)
        # The image carries the host keys made when its root was built;
        # Nodepool and the executor are told this one.
        with open(os.path.join(root, 'etc', 'ssh',
                               'ssh_host_ed25519_key.pub')) as f:
            host_key = ' '.join(f.read().split()[:2])
        with open(path + '.host-key', 'w') as f:
            f.write(host_key + '\n')
        os.rename(unchecked, path)
    return path


def image_check(path):
    """``nodepool-aarch64 image-check`` on ``path``: its JSON result."""
    proc = subprocess.run(
        [sys.executable, '-m', 'nodepool_aarch64.cli', 'image-check',
         '--output-format', 'json', '--timeout', str(IMAGE_CHECK_TIMEOUT),
         '--cpus', str(CPUS), '--console-log', path + '.console.log',
         path],
        capture_output=True, text=True, timeout=IMAGE_CHECK_TIMEOUT + 120)
    try:
        return json.loads(proc.stdout)
    except ValueError:
        raise arm64node.Arm64Unavailable(
            'image-check gave no result (exit %d): %s'
            % (proc.returncode, proc.stderr[-2000:]))


class Arm64VM(fixtures.Fixture):
    """A booted node VM at ``parent``, reached on 127.0.0.1:``port``.

    The attributes are arm64node.Arm64Node's (``host``, ``port``,
    ``username``, ``private_key``, ``public_key``, ``host_key``,
    ``log_path``, ``ssh()``), so the static Nodepool and Zuul harness
    take either; ``console_path`` is the serial console and
    ``boot_seconds`` the time from qemu's start to SSH answering.
    """

    def __init__(self, parent, image=None, hostname='ubuntu-arm64-vm'):
        super().__init__()
        self.parent = parent
        self.image = image
        self.hostname = hostname
        self.host = '127.0.0.1'
        self.username = arm64node.NODE_USER
        self.proc = None

    def _setUp(self):
        self._image = self.image or node_image()
        os.makedirs(self.parent, exist_ok=True)
        self._keys()
        self.host_key = self._host_key(self._image)
        self.port = processes.free_port()
        self.console_path = os.path.join(self.parent, 'console.log')
        self.log_path = self.console_path
        self.addCleanup(self.stop)
        self._boot()

    def restart(self):
        """Power off and boot the same image again: a fresh node (the
        disk's writes are thrown away) with the same address, keys and
        host key, as a cloud hands out a new node of one label."""
        self.stop()
        os.replace(self.console_path, self.console_path + '.%d'
                   % time.time_ns())
        self._boot()

    def _boot(self):
        image = self._image
        code, vars_template = qemu.firmware()
        guest = qemu.Guest(
            image=image, image_format='raw', code=code,
            vars=os.path.join(self.parent, 'VARS.fd'),
            config_drive=os.path.join(self.parent, 'config-2.iso'),
            console_log=self.console_path, memory=MEMORY_MIB, cpus=CPUS,
            accel=qemu.best_accel(), ssh_port=self.port)
        shutil.copyfile(vars_template, guest.vars)
        configdrive.build(guest.config_drive, self.hostname,
                          str(uuid.uuid4()), {KEY_NAME: self.public_key})
        argv = qemu.command(model.uefi_boot(), guest)
        self.started = time.monotonic()
        with open(os.path.join(self.parent, 'qemu.log'), 'wb') as log:
            # snapshot=on (qemu.disk_devices) puts the node's writes in
            # a temporary file; point it at the test's directory.
            # With a parent-death signal: a VM left running after its
            # test process died would burn a core until someone noticed.
            self.proc = children.spawn(
                argv, stdin=subprocess.DEVNULL, stdout=log,
                stderr=subprocess.STDOUT,
                env=dict(os.environ, TMPDIR=self.parent))
        self._wait_for_ssh(BOOT_TIMEOUT)
        self.boot_seconds = time.monotonic() - self.started

    def _keys(self):
        keydir = os.path.join(self.parent, 'keys')
        os.makedirs(keydir)
        self.private_key = os.path.join(keydir, 'id_ed25519')
        subprocess.run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '',
                        '-C', KEY_NAME, '-f', self.private_key], check=True)
        with open(self.private_key + '.pub') as f:
            self.public_key = f.read().strip()

    @staticmethod
    def _host_key(image):
        with open(image + '.host-key') as f:
            return f.read().strip()

    def _wait_for_ssh(self, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise arm64node.Arm64Unavailable(
                    'qemu exited with %s: see %s' % (
                        self.proc.returncode,
                        os.path.join(self.parent, 'qemu.log')))
            if self.ssh('true', timeout=30).returncode == 0:
                return
            time.sleep(2)
        raise arm64node.Arm64Unavailable(
            'the node VM did not answer SSH within %ss: see %s'
            % (timeout, self.console_path))

    def wait_for(self, command, timeout, interval=3):
        """Run ``command`` over SSH until it succeeds; its result."""
        deadline = time.monotonic() + timeout
        while True:
            result = self.ssh(command)
            if result.returncode == 0 or time.monotonic() > deadline:
                return result
            time.sleep(interval)

    def stop(self):
        """Power the VM off (it is thrown away: no clean shutdown)."""
        if self.proc is not None:
            children.stop(self.proc, grace=10)
            self.proc = None

    def ssh(self, command, timeout=60):
        """Run ``command`` on the node as the node user, over SSH."""
        return arm64node.ssh(self, command, timeout)
