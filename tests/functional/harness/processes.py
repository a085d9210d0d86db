"""Small helpers for the services the functional tests start.

Each service runs in its own session (process group), so stopping it can
signal exactly the processes the test started and nothing else, and a
leak can be detected by asking whether that group still has members.
"""

import os
import signal
import socket
import time

from nodepool_aarch64 import children


class ProcessLeak(Exception):
    pass


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


# One answer to "is that group still there?" for commands and harness.
group_alive = children.group_alive


def stop_group(proc, sig=signal.SIGINT, grace=20.0):
    """Stop a process started with ``start_new_session=True``.

    Sends ``sig`` to the leader first so it can shut down cleanly, then
    SIGKILL to the whole group if anything is left after ``grace``
    seconds.  Returns True when the group had to be killed; raises
    ProcessLeak if even that left a process behind.
    """
    pgid = proc.pid
    if proc.poll() is None:
        try:
            proc.send_signal(sig)
        except ProcessLookupError:
            pass
    killed = False
    deadline = time.monotonic() + grace
    # The leader is reaped by poll(); an unreaped zombie would still count
    # as a member of its group.
    while (proc.poll() is None or group_alive(pgid)):
        if time.monotonic() > deadline:
            if killed:
                raise ProcessLeak(
                    'process group %d survived SIGKILL' % pgid)
            killed = True
            try:
                os.killpg(pgid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            deadline = time.monotonic() + 10
        time.sleep(0.1)
    return killed


def _socket_inodes(pid):
    inodes = set()
    fd_dir = '/proc/%d/fd' % pid
    try:
        names = os.listdir(fd_dir)
    except FileNotFoundError:
        return inodes
    for name in names:
        try:
            target = os.readlink(os.path.join(fd_dir, name))
        except OSError:
            continue
        if target.startswith('socket:['):
            inodes.add(target[len('socket:['):-1])
    return inodes


def _decode_address(hex_addr):
    addr, port = hex_addr.split(':')
    raw = bytes.fromhex(addr)
    if len(raw) == 4:
        host = socket.inet_ntop(socket.AF_INET, raw[::-1])
    else:
        # /proc stores IPv6 as four host-order 32-bit words.
        words = [raw[i:i + 4][::-1] for i in range(0, 16, 4)]
        host = socket.inet_ntop(socket.AF_INET6, b''.join(words))
    return host, int(port, 16)


def listening_addresses(pid):
    """(host, port) of every TCP socket ``pid`` listens on."""
    inodes = _socket_inodes(pid)
    found = []
    for table in ('/proc/net/tcp', '/proc/net/tcp6'):
        try:
            with open(table) as f:
                lines = f.readlines()[1:]
        except FileNotFoundError:
            continue
        for line in lines:
            fields = line.split()
            # State 0A is LISTEN.
            if fields[3] == '0A' and fields[9] in inodes:
                found.append(_decode_address(fields[1]))
    return found


def is_loopback(host):
    return host.startswith('127.') or host in (
        '::1', '::ffff:127.0.0.1') or host.startswith('::ffff:127.')


def _pids():
    return [int(name) for name in os.listdir('/proc') if name.isdigit()]


def _running(pid):
    """Alive and not a zombie waiting for its parent to reap it."""
    try:
        with open('/proc/%d/stat' % pid) as f:
            return f.read().rsplit(')', 1)[1].split()[0] != 'Z'
    except (OSError, IndexError):
        return False


def pids_inside(root):
    """Processes whose root directory is ``root`` (a chroot's)."""
    root = os.path.realpath(root)
    found = []
    for pid in _pids():
        try:
            if os.readlink('/proc/%d/root' % pid) == root:
                found.append(pid)
        except OSError:
            continue
    return found


def pids_naming(text):
    """Processes whose command line contains ``text`` (a path that only
    this test's processes use, such as its temporary directory)."""
    needle = text.encode()
    found = []
    for pid in _pids():
        try:
            with open('/proc/%d/cmdline' % pid, 'rb') as f:
                if needle in f.read():
                    found.append(pid)
        except OSError:
            continue
    return [pid for pid in found if pid != os.getpid()]


def terminate(pids, grace=5.0):
    """SIGTERM ``pids``, then SIGKILL what is left after ``grace``."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in pids:
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            pids = [p for p in pids if _running(p)]
            if not pids:
                return
            time.sleep(0.1)


def pids_in_group(pgid):
    """Every process of process group ``pgid``."""
    found = []
    for pid in _pids():
        try:
            with open('/proc/%d/stat' % pid) as f:
                fields = f.read().rsplit(')', 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[2]) == pgid:
            found.append(pid)
    return found
