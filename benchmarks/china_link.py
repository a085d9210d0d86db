"""Fetch time over an emulated China link, with and without the mirror role.

A node in a network namespace reaches two mirrors, each in its own
namespace, over veth pairs:

* the in-region mirror, over a fast link;
* the far mirror (what a node reaches without the in-region mirror:
  the upstream archives), through a narrow ``tc tbf`` bandwidth limit and
  benchmarks/lossy_proxy.py for round-trip time, segment loss and
  dropped flows (netem is not available on these machines).

The node is a throw-away Debian root (tests/functional/harness/region_mirrors.py)
driven through Ansible's chroot connection inside the node's namespace.
The fixed fetch is ``apt-get update``, ``apt-get download`` of a few
packages and ``pip download`` of a few wheels, started cold each time.
Wheels are fetched with a current pip, as jobs do from their virtualenvs;
``--system-pip`` uses Debian 12's pip 23 instead, which cannot resume a
download that stalls, so a dropped flow fails it whatever the config.
It runs in three setups, side by side:

1. without the role: apt and pip point at the far mirror, with their
   default retries and timeouts (a stock node);
2. with the role, the in-region mirror up;
3. with the role, the in-region mirror down (the role falls back to the
   far mirror, with its retries and timeouts).

Target: setup 2 at least 10x faster than setup 1; no failure in setup 3.
Run as root:

    python benchmarks/china_link.py [--repeat 3] [--rtt-ms 300] \\
        [--loss 0.02] [--hang 0.02] [--far-rate 2mbit]
"""

import argparse
import contextlib
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO_ROOT)

from tests.functional.harness import region_mirrors as rm  # noqa: E402

NEAR_IP, NODE_NEAR_IP = '10.201.1.1', '10.201.1.2'
FAR_IP, NODE_FAR_IP = '10.201.2.1', '10.201.2.2'
FAR_BACKEND_PORT = 8080
TARGET_SPEEDUP = 10.0


def sh(*argv):
    subprocess.run(argv, check=True, capture_output=True, text=True)


class Topology:
    """Three namespaces and two veth pairs; removed on exit."""

    def __init__(self, far_rate):
        tag = f'npab{os.getpid()}'
        self.node, self.near, self.far = (f'{tag}-{n}' for n in
                                          ('node', 'near', 'far'))
        self.far_rate = far_rate

    def __enter__(self):
        try:
            for ns in (self.node, self.near, self.far):
                sh('ip', 'netns', 'add', ns)
                sh('ip', '-n', ns, 'link', 'set', 'lo', 'up')
            self._pair('to-near', NODE_NEAR_IP, self.near, 'near0', NEAR_IP)
            self._pair('to-far', NODE_FAR_IP, self.far, 'far0', FAR_IP)
            # The narrow link, in both directions.
            for ns, dev in ((self.far, 'far0'), (self.node, 'to-far')):
                sh('ip', 'netns', 'exec', ns, 'tc', 'qdisc', 'add', 'dev',
                   dev, 'root', 'tbf', 'rate', self.far_rate,
                   'burst', '16kb', 'latency', '1s')
        except BaseException:
            self.__exit__()
            raise
        return self

    def _pair(self, node_dev, node_ip, ns, dev, ip):
        sh('ip', 'link', 'add', node_dev, 'netns', self.node, 'type', 'veth',
           'peer', 'name', dev, 'netns', ns)
        for n, d, a in ((self.node, node_dev, node_ip), (ns, dev, ip)):
            sh('ip', '-n', n, 'addr', 'add', f'{a}/24', 'dev', d)
            sh('ip', '-n', n, 'link', 'set', d, 'up')

    def __exit__(self, *exc):
        for ns in (self.node, self.near, self.far):
            subprocess.run(['ip', 'netns', 'del', ns], capture_output=True)


class Service:
    """A process started in a namespace and stopped by its own pid."""

    def __init__(self, ns, argv, log):
        self.proc = subprocess.Popen(
            ['ip', 'netns', 'exec', ns, sys.executable] + argv,
            cwd=REPO_ROOT, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True)

    def stop(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


def wait_listening(ns, ip, port, timeout=20):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        probe = subprocess.run(
            ['ip', 'netns', 'exec', ns, sys.executable, '-c',
             'import socket,sys; socket.create_connection('
             f'("{ip}", {port}), timeout=1)'], capture_output=True)
        if probe.returncode == 0:
            return
        time.sleep(0.2)
    raise RuntimeError(f'nothing listens on {ip}:{port} in {ns}')


def stock_config(root, far):
    """A node without the role: apt and pip go upstream, tool defaults."""
    with open(os.path.join(root, 'etc/apt/sources.list'), 'w') as f:
        f.write(f'deb [trusted=yes] {far}/debian bookworm main\n'
                f'deb [trusted=yes] {far}/debian bookworm-updates main\n'
                f'deb [trusted=yes] {far}/debian-security '
                'bookworm-security main\n')
    with open(os.path.join(root, 'etc/pip.conf'), 'w') as f:
        f.write(f'[global]\nindex-url = {far}/pypi/simple\n'
                f'trusted-host = {FAR_IP}\n')


def run_setup(name, topo, workdir, names, args, near_up, with_role,
              services):
    near_url, far_url = f'http://{NEAR_IP}', f'http://{FAR_IP}'
    parent = tempfile.mkdtemp(dir=workdir, prefix=name + '-')
    result = {'name': name, 'times': [], 'failures': 0, 'role': None,
              'errors': []}
    if near_up:
        services['near'].ensure_started()
    else:
        services['near'].stop()
    with rm.DebianNode(parent) as node:
        if with_role:
            run = rm.apply_role(node.root, {
                'configure_region_mirror_scheme': 'http',
                'configure_region_mirror_hosts': [near_url, far_url],
                'configure_region_mirror_apt_options': 'trusted=yes',
            }, netns=topo.node)
            result['role'] = run.seconds
            if run.returncode != 0:
                result['failures'] = args.repeat
                result['errors'].append(run.output[-2000:])
                return result
        else:
            stock_config(node.root, far_url)
        pip = 'python3 -m pip'
        if args.pip_wheel:
            # Unpacked, as in a virtualenv: imports from a zip are slow.
            with zipfile.ZipFile(args.pip_wheel) as wheel:
                wheel.extractall(os.path.join(node.root, 'opt/pip-current'))
            pip = 'PYTHONPATH=/opt/pip-current python3 -m pip'
        for _ in range(args.repeat):
            ok, seconds, output = rm.fetch(node.root, names, netns=topo.node,
                                           timeout=args.fetch_timeout,
                                           pip=pip)
            result['times'].append(seconds)
            if not ok:
                result['failures'] += 1
                result['errors'].append(output[-1500:])
            print(f'  {name}: {"ok" if ok else "FAILED"} in {seconds:.1f}s',
                  file=sys.stderr, flush=True)
    return result


class NearMirror:
    def __init__(self, topo, tree, logdir):
        self.topo, self.tree, self.logdir = topo, tree, logdir
        self.service = None

    def ensure_started(self):
        if self.service is None:
            self.service = Service(
                self.topo.near, ['-m', 'tests.functional.harness.region_mirrors',
                                 self.tree, NEAR_IP, '80',
                                 os.path.join(self.logdir, 'near.requests')],
                open(os.path.join(self.logdir, 'near.log'), 'a'))
            wait_listening(self.topo.node, NEAR_IP, 80)

    def stop(self):
        if self.service is not None:
            self.service.stop()
            self.service = None


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--repeat', type=int, default=3)
    parser.add_argument('--rtt-ms', type=float, default=300.0)
    parser.add_argument('--loss', type=float, default=0.02)
    parser.add_argument('--hang', type=float, default=0.02)
    parser.add_argument('--far-rate', default='2mbit')
    parser.add_argument('--packages', type=int, default=8,
                        help='packages and wheels fetched (each)')
    parser.add_argument('--size-kb', type=int, default=512,
                        help='payload of each package and wheel')
    parser.add_argument('--fetch-timeout', type=float, default=900.0,
                        help='a fetch still running after this fails')
    parser.add_argument('--system-pip', action='store_true',
                        help="fetch wheels with Debian's pip 23, which "
                        'cannot resume a download that stalls')
    parser.add_argument('--seed', type=int, default=1)
    parser.add_argument('--keep', action='store_true',
                        help='keep the work directory (logs)')
    args = parser.parse_args()
    if os.geteuid() != 0:
        sys.exit('china_link.py: needs root (network namespaces, chroot)')
    # Unwind (namespaces, servers, the node's mount) on SIGTERM too.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(143))

    # Jobs download wheels with a current pip in a virtualenv (Kolla's
    # tools, tox), which resumes a download that stalls; Debian 12's own
    # pip 23 gives up instead, with or without the role.
    args.pip_wheel = None if args.system_pip else rm.current_pip_wheel()

    workdir = tempfile.mkdtemp(prefix='china-link-')
    tree = os.path.join(workdir, 'mirror')
    built = rm.build_mirror_tree(tree, deb_packages=args.packages,
                                 wheels=args.packages,
                                 payload_bytes=args.size_kb * 1024)
    # Only what the far mirror (upstream) also has: no wheel mirror.
    names = {'debs': built['debs'],
             'wheels': [w for w in built['wheels']
                        if w != rm.WHEEL_ONLY_NAME]}
    payload = 2 * args.packages * args.size_kb
    print(f'link: far {args.far_rate}, {args.rtt_ms:.0f} ms RTT, '
          f'{args.loss:.1%} loss, {args.hang:.1%} dropped flows; '
          f'near unshaped', file=sys.stderr)
    print(f'fetch: apt-get update + {args.packages} packages + '
          f'{args.packages} wheels, {payload} KiB, x{args.repeat}; pip: '
          f'{os.path.basename(args.pip_wheel or "Debian 12 (23.0.1)")}',
          file=sys.stderr, flush=True)

    results = []
    with contextlib.ExitStack() as stack:
        topo = stack.enter_context(Topology(args.far_rate))
        near = NearMirror(topo, tree, workdir)
        stack.callback(near.stop)
        far_log = open(os.path.join(workdir, 'far.log'), 'a')
        stack.callback(far_log.close)
        far_server = Service(topo.far, [
            '-m', 'tests.functional.harness.region_mirrors', tree, '127.0.0.1',
            str(FAR_BACKEND_PORT), os.path.join(workdir, 'far.requests')],
            far_log)
        stack.callback(far_server.stop)
        proxy = Service(topo.far, [
            'benchmarks/lossy_proxy.py', FAR_IP, '80', '127.0.0.1',
            str(FAR_BACKEND_PORT), '--rtt-ms', str(args.rtt_ms),
            '--loss', str(args.loss), '--hang', str(args.hang),
            '--seed', str(args.seed)], far_log)
        stack.callback(proxy.stop)
        wait_listening(topo.far, '127.0.0.1', FAR_BACKEND_PORT)
        wait_listening(topo.node, FAR_IP, 80)
        services = {'near': near}
        for name, near_up, with_role in (
                ('without role', True, False),
                ('with role', True, True),
                ('with role, in-region down', False, True)):
            print(f'{name} ...', file=sys.stderr, flush=True)
            results.append(run_setup(name, topo, workdir, names, args,
                                     near_up, with_role, services))

    report(results, args)
    if args.keep:
        print(f'work directory: {workdir}', file=sys.stderr)
    else:
        shutil.rmtree(workdir, ignore_errors=True)
    without, with_role, fallback = results
    speedup = (statistics.median(without['times'])
               / statistics.median(with_role['times']))
    ok = speedup >= TARGET_SPEEDUP and fallback['failures'] == 0
    return 0 if ok else 1


def report(results, args):
    width = 28
    print()
    print(' ' * 24 + ''.join(r['name'].rjust(width) for r in results))
    rows = [
        ('fetch, median (s)',
         [f"{statistics.median(r['times']):.1f}" if r['times'] else '-'
          for r in results]),
        ('fetch, min-max (s)',
         [f"{min(r['times']):.1f}-{max(r['times']):.1f}" if r['times']
          else '-' for r in results]),
        ('failures',
         [f"{r['failures']}/{args.repeat}" for r in results]),
        ('role run, once (s)',
         [f"{r['role']:.1f}" if r['role'] is not None else '-'
          for r in results]),
    ]
    for label, cells in rows:
        print(label.ljust(24) + ''.join(c.rjust(width) for c in cells))
    without, with_role, fallback = results
    speedup = (statistics.median(without['times'])
               / statistics.median(with_role['times']))
    print()
    print(f'speed-up with the role: {speedup:.1f}x '
          f'(target >= {TARGET_SPEEDUP:.0f}x: '
          f'{"met" if speedup >= TARGET_SPEEDUP else "MISSED"})')
    print(f'failures with the in-region mirror down: {fallback["failures"]} '
          f'(target 0: {"met" if fallback["failures"] == 0 else "MISSED"})')
    for r in results:
        for err in r['errors']:
            print(f'--- {r["name"]} failure:\n{err}', file=sys.stderr)


if __name__ == '__main__':
    sys.exit(main())
