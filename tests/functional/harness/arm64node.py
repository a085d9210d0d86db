"""An emulated aarch64 node shaped like an OpenDev test node.

A Debian bookworm arm64 root, made once per machine by ``debootstrap
--arch=arm64`` and run on this x86 machine through qemu-user-static and
binfmt_misc (``tools/binfmt-aarch64.sh`` registers it with the
credentials flag that setuid ``sudo`` needs).  ``Arm64Node`` starts that
root's own sshd on 127.0.0.1 with a ``zuul`` user who logs in by key
only and has passwordless sudo, as Ansible on a zuul-executor expects.

``cached_root(packages)`` is shared by every test that needs an arm64
userland (the job path, and the UEFI image builds, which add a kernel):
each package set is built once, under a lock, and reused.
"""

import hashlib
import os
import shutil
import subprocess
import time

import fixtures

from tests.functional.harness import processes
from tests.functional.harness.region_mirrors import (CACHE_DIR, cache_lock,
                                                     debian_uri)
from tests.functional.harness.region_mirrors import dpkg_arch as rm_dpkg_arch

RELEASE = 'bookworm'
BINFMT_ENTRY = '/proc/sys/fs/binfmt_misc/qemu-aarch64'
NODE_PACKAGES = ('openssh-server', 'python3', 'sudo')
NODE_USER = 'zuul'
SSHD_START_TIMEOUT = 60


class Arm64Unavailable(Exception):
    pass


def check_binfmt():
    """Raise Arm64Unavailable unless aarch64 binaries run with credentials."""
    try:
        with open(BINFMT_ENTRY) as f:
            entry = f.read()
    except OSError:
        raise Arm64Unavailable(
            'qemu-aarch64 is not registered in binfmt_misc: run '
            'tools/test-setup.sh (as root)')
    flags = [line.split(':', 1)[1].strip() for line in entry.splitlines()
             if line.startswith('flags:')]
    if not flags or 'C' not in flags[0] or 'enabled' not in entry:
        raise Arm64Unavailable(
            'qemu-aarch64 is registered without the C flag (sudo fails '
            'inside the node): run tools/binfmt-aarch64.sh')


def cached_root(packages=NODE_PACKAGES, setup=None, name='node',
                arch='arm64'):
    """A pristine arm64 root with ``packages``, built once per machine.

    ``setup(root)``, if given, runs once on the fresh root before it is
    published (for example to add users); change ``name`` when changing
    what it does, since the cache key is the name and the package set.
    ``arch`` is the Debian architecture; this machine's own runs without
    emulation (a faster node where the architecture does not matter).
    """
    native = arch == rm_dpkg_arch()
    if not native:
        check_binfmt()
    key = hashlib.sha256(' '.join(sorted(packages)).encode()).hexdigest()
    root = os.path.join(CACHE_DIR, f'{arch}-{RELEASE}-{name}-{key[:12]}')
    # A finished root is never changed: no need to wait behind another
    # root's build for the lock.
    if os.path.exists(os.path.join(root, '.complete')):
        return root
    # One lock per architecture: a native root need not wait behind an
    # emulated build, which takes minutes.
    with cache_lock(f'.{arch}.lock'):
        if os.path.exists(os.path.join(root, '.complete')):
            return root
        partial = root + '.partial'
        shutil.rmtree(partial, ignore_errors=True)
        proc = subprocess.run(
            ['debootstrap', f'--arch={arch}', '--variant=minbase',
             '--include=' + ','.join(sorted(packages)), RELEASE, partial,
             debian_uri()], capture_output=True, text=True)
        if proc.returncode != 0:
            raise Arm64Unavailable(
                f'debootstrap --arch={arch} failed:\n' + proc.stdout[-2000:]
                + proc.stderr[-2000:])
        if setup is not None:
            setup(partial)
        shutil.rmtree(root, ignore_errors=True)
        with open(os.path.join(partial, '.complete'), 'w'):
            pass
        os.rename(partial, root)
        return root


def in_root(root, *argv, check=True, **kwargs):
    """Run a command inside the root (emulated where it is arm64)."""
    proc = subprocess.run(['chroot', root, *argv], capture_output=True,
                          text=True, **kwargs)
    if check and proc.returncode != 0:
        raise RuntimeError('%s in %s failed (%s): %s' % (
            ' '.join(argv), root, proc.returncode, proc.stderr[-2000:]))
    return proc


def _add_node_user(root):
    """The OpenDev node shape: an unprivileged user with passwordless sudo."""
    in_root(root, 'useradd', '--create-home', '--shell', '/bin/bash',
            NODE_USER)
    # A locked password blocks key logins under some PAM setups; an
    # impossible hash keeps password logins off without locking.
    in_root(root, 'usermod', '-p', '*', NODE_USER)
    sudoers = os.path.join(root, 'etc', 'sudoers.d', 'zuul')
    with open(sudoers, 'w') as f:
        f.write(f'{NODE_USER} ALL=(ALL) NOPASSWD:ALL\n')
    os.chmod(sudoers, 0o440)


def node_root(arch='arm64', packages=NODE_PACKAGES):
    """The cached root of a test node (sshd, python3, sudo, zuul), arm64
    unless told otherwise."""
    return cached_root(packages, setup=_add_node_user, name='node',
                       arch=arch)


def fresh_root(fixture, lower, parent, root):
    """A throw-away copy of the cached root ``lower`` at ``root``.

    An overlay mount (upper and work directories under ``parent``) makes
    it in milliseconds, unmounted in ``fixture``'s cleanup; where
    overlayfs is unavailable the root is copied.
    """
    upper = os.path.join(parent, 'upper')
    work = os.path.join(parent, 'work')
    for d in (root, upper, work):
        os.makedirs(d)
    mount = subprocess.run(
        ['mount', '-t', 'overlay', 'overlay', '-o',
         f'lowerdir={lower},upperdir={upper},workdir={work}', root],
        capture_output=True, text=True)
    if mount.returncode == 0:
        fixture.addCleanup(Arm64Node._umount, root)
    else:
        os.rmdir(root)
        subprocess.run(['cp', '-a', lower, root], check=True)


class Arm64Node(fixtures.Fixture):
    """A running emulated aarch64 node at ``<parent>/root``.

    Attributes once set up: ``root``, ``host`` (127.0.0.1), ``port``,
    ``username``, ``private_key`` (path), ``public_key`` (text),
    ``host_key`` (the ``ssh-ed25519 AAAA...`` line Zuul and Nodepool take
    as a host key), ``log_path``.  ``stop_sshd()`` takes the node off the
    network while keeping its files, as a crashed node would be.
    """

    def __init__(self, parent, base_root=None):
        super().__init__()
        self.parent = parent
        self.base_root = base_root
        self.root = os.path.join(parent, 'root')
        self.host = '127.0.0.1'
        self.username = NODE_USER
        self.sshd = None

    def _setUp(self):
        lower = self.base_root or node_root()
        os.makedirs(self.parent, exist_ok=True)
        self._mount_root(lower)
        self._mount_api_filesystems()
        self._keys()
        self.port = processes.free_port()
        self.log_path = os.path.join(self.parent, 'sshd.log')
        self.start_sshd()

    def _mount_root(self, lower):
        fresh_root(self, lower, self.parent, self.root)

    def _mount_api_filesystems(self):
        # sshd needs /dev/null, ptys and /proc; sudo needs /proc too.
        for fstype, source, target, opts in (
                ('proc', 'proc', 'proc', None),
                (None, '/dev', 'dev', 'bind'),
                ('devpts', 'devpts', 'dev/pts', 'newinstance,ptmxmode=0666')):
            path = os.path.join(self.root, target)
            argv = ['mount']
            if fstype:
                argv += ['-t', fstype]
            if opts == 'bind':
                argv += ['--bind']
            elif opts:
                argv += ['-o', opts]
            subprocess.run(argv + [source, path], check=True,
                           capture_output=True)
            self.addCleanup(self._umount, path)

    @staticmethod
    def _umount(path):
        subprocess.run(['umount', '--lazy', path], capture_output=True)

    def _keys(self):
        keydir = os.path.join(self.parent, 'keys')
        os.makedirs(keydir)
        self.private_key = os.path.join(keydir, 'id_ed25519')
        subprocess.run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '',
                        '-C', 'zuul-executor', '-f', self.private_key],
                       check=True)
        with open(self.private_key + '.pub') as f:
            self.public_key = f.read()
        home = os.path.join(self.root, 'home', NODE_USER)
        ssh_dir = os.path.join(home, '.ssh')
        os.makedirs(ssh_dir, mode=0o700, exist_ok=True)
        with open(os.path.join(ssh_dir, 'authorized_keys'), 'w') as f:
            f.write(self.public_key)
        uid_gid = in_root(self.root, 'id', '-u', NODE_USER).stdout.strip(), \
            in_root(self.root, 'id', '-g', NODE_USER).stdout.strip()
        for path in (ssh_dir, os.path.join(ssh_dir, 'authorized_keys')):
            os.chown(path, int(uid_gid[0]), int(uid_gid[1]))
        os.chmod(os.path.join(ssh_dir, 'authorized_keys'), 0o600)
        in_root(self.root, 'ssh-keygen', '-A')
        with open(os.path.join(self.root, 'etc', 'ssh',
                               'ssh_host_ed25519_key.pub')) as f:
            self.host_key = ' '.join(f.read().split()[:2])

    def start_sshd(self):
        """Start the node's own (aarch64) sshd and wait until it answers."""
        os.makedirs(os.path.join(self.root, 'run', 'sshd'), exist_ok=True)
        log = open(self.log_path, 'ab')
        self.sshd = subprocess.Popen(
            ['chroot', self.root, '/usr/sbin/sshd', '-D', '-e',
             '-p', str(self.port), '-o', f'ListenAddress={self.host}',
             '-o', 'PasswordAuthentication=no',
             '-o', 'KbdInteractiveAuthentication=no',
             '-o', 'UsePAM=no', '-o', 'PermitRootLogin=no'],
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True)
        log.close()
        self.addCleanup(self.stop_sshd)
        deadline = time.monotonic() + SSHD_START_TIMEOUT
        while time.monotonic() < deadline:
            if self.sshd.poll() is not None:
                raise Arm64Unavailable('sshd in the arm64 root exited: see '
                                       + self.log_path)
            if self.ssh('true', timeout=30).returncode == 0:
                return
            time.sleep(0.5)
        raise Arm64Unavailable('sshd in the arm64 root did not answer '
                               'within %ss' % SSHD_START_TIMEOUT)

    def stop_sshd(self):
        """Stop sshd and everything running inside the node.

        sshd's per-connection children start sessions of their own, so
        stopping its process group leaves them (and what they run) as
        long as a client, such as an SSH control master, holds on.
        """
        if self.sshd is not None:
            processes.stop_group(self.sshd, grace=10)
            self.sshd = None
        processes.terminate(processes.pids_inside(self.root))

    def ssh(self, command, timeout=60):
        """Run ``command`` on the node as the node user, over SSH."""
        return ssh(self, command, timeout)


def ssh(node, command, timeout=60):
    """Run ``command`` on ``node`` (host, port, username, private_key,
    host_key, parent) as its user, over SSH, checking its host key."""
    known_hosts = os.path.join(node.parent, 'known_hosts')
    with open(known_hosts, 'w') as f:
        f.write(f'[{node.host}]:{node.port} {node.host_key}\n')
    try:
        return subprocess.run(
            ['ssh', '-i', node.private_key, '-p', str(node.port),
             '-o', 'BatchMode=yes', '-o', 'IdentitiesOnly=yes',
             '-o', f'UserKnownHostsFile={known_hosts}',
             '-o', 'StrictHostKeyChecking=yes',
             '-o', 'ConnectTimeout=10',
             f'{node.username}@{node.host}', command],
            capture_output=True, text=True, timeout=timeout,
            stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired as e:
        return subprocess.CompletedProcess(e.cmd, 124, '', 'timeout')
