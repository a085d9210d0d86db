"""Time the Arm64 job path: a push to a consumer project until zuul-web
reports its build SUCCESS, and the functional suite that tests it.

Starts the same stack as tests/functional/test_job_path.py (TLS
ZooKeeper, nodepool-launcher with the static driver on the rendered
inventory, Zuul with an executor, the emulated aarch64 node, loopback
mirrors), pushes to the consumer project ``--runs`` times, one build at
a time, and prints each trigger -> SUCCESS time (the push until the
build is final in zuul-web's builds API), Zuul's own build duration,
and the median.

With ``--suite`` it then runs ``tox -e functional`` and prints its wall
time against the 10 minute target.  Warm means the machine-wide caches
exist (printed first); a cold run builds them first: see
doc/source/functional.rst for what each costs.

Usage: python benchmarks/job_path.py [--runs N] [--suite] [--tox PATH]
Run it from the functional tox environment (it imports the harness):
    .tox/functional/bin/python benchmarks/job_path.py --suite
Needs root (mounts, chroot), like the functional tests.
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from tests.functional.harness import region_mirrors as rm  # noqa: E402
from tests.functional import test_job_path as tjp  # noqa: E402

SUITE_TARGET_SECONDS = 600


def cache_state():
    """The machine-wide caches that exist (a cold machine has none)."""
    if not os.path.isdir(rm.CACHE_DIR):
        return []
    return [name for name in sorted(os.listdir(rm.CACHE_DIR))
            if not name.startswith('.') and not name.endswith('.partial')]


def time_builds(runs):
    fixture = tjp.JobPathFixture()
    start = time.monotonic()
    fixture.setUp()
    try:
        print('stack up in %.1f s' % (time.monotonic() - start), flush=True)
        seconds = []
        for i in range(runs):
            build, elapsed = fixture.stack.push_and_wait(
                tjp.CONSUMER, {'trigger/bench': '%d %f\n' % (i, time.time())},
                tjp.BUILD_TIMEOUT, message='Benchmark %d' % i)
            print('run %d: %s, trigger -> final %.1f s (Zuul duration '
                  '%.1f s)' % (i + 1, build['result'], elapsed,
                               build['duration'] or 0), flush=True)
            if build['result'] != 'SUCCESS':
                raise SystemExit('build %s: %s' % (build['uuid'],
                                                   build['result']))
            seconds.append(elapsed)
    finally:
        fixture.cleanUp()
    print('trigger -> SUCCESS: median %.1f s, min %.1f s, max %.1f s '
          '(%d runs)' % (statistics.median(seconds), min(seconds),
                         max(seconds), len(seconds)))


def time_suite(tox):
    start = time.monotonic()
    rc = subprocess.call([tox, '-e', 'functional'], cwd=ROOT)
    wall = time.monotonic() - start
    print('tox -e functional: %.1f s wall (target <= %d s)%s, exit %d'
          % (wall, SUITE_TARGET_SECONDS,
             '' if wall <= SUITE_TARGET_SECONDS else ' OVER TARGET', rc))
    return rc


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--runs', type=int, default=3)
    parser.add_argument('--suite', action='store_true',
                        help='also time tox -e functional')
    parser.add_argument('--tox', default=shutil.which('tox') or os.path.join(
        ROOT, '.venv', 'bin', 'tox'))
    args = parser.parse_args(argv)
    print('caches in %s: %s' % (rm.CACHE_DIR, cache_state() or 'none'))
    time_builds(args.runs)
    if args.suite:
        return time_suite(args.tox)
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
