"""Time a launcher failover: from the SIGKILL of one of two launchers
until the survivor has served the requests it held.

For Nodepool it starts what tests/functional/test_launcher_failover.py
starts (a TLS ZooKeeper and one real nodepool-launcher per launcher host
of the shipped inventory, on Nodepool's fake cloud); for zuul-launcher,
what tests/functional/test_zuul_launcher_failover.py starts (Zuul and one
zuul-launcher per launcher host, on static nodes that are the emulated
aarch64 node).  Both use the same short ZooKeeper session timeout.  It
sends a burst of requests, kills one launcher while it holds some of
them, and prints per run:

- when ZooKeeper expired the dead launcher's session (its pools, or its
  registration, gone);
- when the survivor fulfilled the first and the last of the dead
  launcher's requests (ZooKeeper's own modification times);
- when the whole burst was served, and how long the cleanup took to
  leave ZooKeeper with no leaked node, request or held lock.

Usage: python benchmarks/launcher_failover.py [--runs N] [--burst N]
                     [--launcher nodepool|zuul-launcher|both]
                     [--keep-logs DIR]
Run it from the functional tox environment (it imports the harness):
    .tox/functional/bin/python benchmarks/launcher_failover.py
"""

import argparse
import os
import shutil
import statistics
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from tests.functional.harness import failover  # noqa: E402
from tests.functional.harness import zuul_failover  # noqa: E402


def _keep(keep_logs, kind, index, launchers):
    if not keep_logs:
        return
    target = os.path.join(keep_logs, '%s-run-%d' % (kind, index))
    for host, launcher in launchers.items():
        shutil.copytree(launcher.workdir, os.path.join(target, host),
                        dirs_exist_ok=True)


def one_run(burst, keep_logs, index):
    dep = failover.TwoLaunchers()
    started = time.monotonic()
    dep.setUp()
    try:
        up = time.monotonic() - started
        outcome = failover.burst_and_kill(dep, burst)
        cleanup, spare = failover.wait_for_cleanup(dep)
    finally:
        _keep(keep_logs, 'nodepool', index, dep.launchers)
        dep.cleanUp()
    served = sorted(outcome.fulfilled_at[r] - outcome.killed_at
                    for r in outcome.orphaned)
    unserved = outcome.orphaned - outcome.fulfilled_by
    if unserved:
        raise SystemExit('run %d: the survivor did not serve %s'
                         % (index, sorted(unserved)))
    return {'up': up, 'orphaned': len(served),
            'expired': outcome.expired_after, 'first': served[0],
            'last': served[-1], 'done': outcome.done_after,
            'cleanup': cleanup, 'spare': spare}


def one_zuul_run(burst, keep_logs, index):
    dep = zuul_failover.TwoZuulLaunchers()
    started = time.monotonic()
    dep.setUp()
    try:
        up = time.monotonic() - started
        outcome = zuul_failover.burst_and_kill(dep, burst)
        cleanup = zuul_failover.wait_for_cleanup(dep, outcome.survivor)
    finally:
        _keep(keep_logs, 'zuul-launcher', index, dep.launchers)
        dep.cleanUp()
    served = sorted(outcome.fulfilled_at[r] - outcome.killed_at
                    for r in outcome.orphaned)
    unserved = outcome.orphaned - outcome.fulfilled_by
    if unserved:
        raise SystemExit('run %d: the survivor did not serve %s'
                         % (index, sorted(unserved)))
    return {'up': up, 'orphaned': len(served),
            'nodes_held': outcome.nodes_held,
            'expired': outcome.expired_after,
            'adopted': outcome.adopted_after, 'first': served[0],
            'last': served[-1], 'done': outcome.done_after,
            'cleanup': cleanup}


def nodepool_runs(args):
    print('nodepool-launcher: session timeout %.1f s; Nodepool resets '
          'lost requests every 60 s' % failover.SESSION_TIMEOUT, flush=True)
    runs = []
    for i in range(1, args.runs + 1):
        r = one_run(args.burst, args.keep_logs, i)
        runs.append(r)
        print('run %d: launchers up in %.1f s; killed holding %d of %d '
              'requests; session expired %.1f s after the kill; its '
              'requests served %.1f-%.1f s after the kill; burst done at '
              '%.1f s; ZooKeeper clean %.1f s later (%d spare ready '
              'nodes handed out first)'
              % (i, r['up'], r['orphaned'], args.burst, r['expired'],
                 r['first'], r['last'], r['done'], r['cleanup'],
                 r['spare']),
              flush=True)
    return runs


def zuul_runs(args):
    print('zuul-launcher: session timeout %.1f s; the survivor takes a '
          'dead launcher\'s requests once its registration is gone'
          % zuul_failover.SESSION_TIMEOUT, flush=True)
    runs = []
    for i in range(1, args.runs + 1):
        r = one_zuul_run(args.burst, args.keep_logs, i)
        runs.append(r)
        print('run %d: stack up in %.1f s; killed holding %d of %d '
              'requests and %d node locks; session expired %.1f s after '
              'the kill; the survivor held or had served all its requests '
              '%.1f s after it and served them %.1f-%.1f s after it; '
              'burst done at %.1f s; ZooKeeper clean %.1f s later'
              % (i, r['up'], r['orphaned'], args.burst, r['nodes_held'],
                 r['expired'], r['adopted'], r['first'], r['last'],
                 r['done'], r['cleanup']),
              flush=True)
    return runs


def summary(kind, runs):
    if len(runs) > 1 and 'adopted' in runs[0]:
        print('%s: median kill -> survivor holds the orphaned requests: '
              '%.1f s (min %.1f, max %.1f)'
              % (kind, statistics.median(r['adopted'] for r in runs),
                 min(r['adopted'] for r in runs),
                 max(r['adopted'] for r in runs)))
    if len(runs) > 1:
        print('%s: median kill -> last orphaned request served: %.1f s '
              '(min %.1f, max %.1f)'
              % (kind, statistics.median(r['last'] for r in runs),
                 min(r['last'] for r in runs),
                 max(r['last'] for r in runs)))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--runs', type=int, default=1)
    parser.add_argument('--burst', type=int, default=50)
    parser.add_argument('--launcher', default='both',
                        choices=('nodepool', 'zuul-launcher', 'both'),
                        help='which launchers to fail over (default: both)')
    parser.add_argument('--keep-logs', metavar='DIR',
                        help='copy both launchers\' logs and configs here')
    args = parser.parse_args()
    results = {}
    if args.launcher in ('nodepool', 'both'):
        results['nodepool-launcher'] = nodepool_runs(args)
    if args.launcher in ('zuul-launcher', 'both'):
        results['zuul-launcher'] = zuul_runs(args)
    for kind, runs in results.items():
        summary(kind, runs)


if __name__ == '__main__':
    main()
