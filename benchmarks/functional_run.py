"""Time the functional suite and print what its launcher tests measured.

Runs ``stestr --test-path ./tests/functional run --worker-file
tests/functional/workers.yaml`` (the ``functional`` tox environment's
command) from the repository root with
the stestr of this Python environment, then prints:

- the wall time of the whole run, against the 10 minute target;
- per label, the time from node request to fulfilled, as ZooKeeper
  timed it (request created -> launcher's last write), on a real
  nodepool-launcher with the fake cloud;
- the burst: requests, time to fill the fleet, peak nodes per provider,
  and time to serve the rest once nodes are returned.

Usage: python benchmarks/functional_run.py [stestr test filter ...]
Exit code: stestr's.
"""

import json
import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RESULTS = os.path.join(ROOT, 'functional-logs', 'benchmark.json')
WORKERS = os.path.join('tests', 'functional', 'workers.yaml')
TARGET_SECONDS = 600


def main(argv):
    stestr = os.path.join(os.path.dirname(sys.executable), 'stestr')
    command = [stestr, '--test-path', './tests/functional', 'run',
               '--worker-file', WORKERS] + argv
    if os.path.exists(RESULTS):
        os.unlink(RESULTS)
    start = time.monotonic()
    rc = subprocess.call(command, cwd=ROOT)
    wall = time.monotonic() - start

    print()
    print('functional run: %.1f s wall (target <= %d s)%s, exit %d'
          % (wall, TARGET_SECONDS,
             '' if wall <= TARGET_SECONDS else ' OVER TARGET', rc))
    try:
        with open(RESULTS) as f:
            results = json.load(f)
    except (OSError, ValueError):
        print('no launcher measurements (%s missing)' % RESULTS)
        return rc
    for label, m in sorted(results.get('request_to_fulfilled', {}).items()):
        print('request to fulfilled  %-28s median %5.2f s  max %5.2f s  '
              '(%d requests)' % (label, m['median_s'], m['max_s'],
                                 m['requests']))
    burst = results.get('burst')
    if burst:
        print('burst: %d requests; fleet full in %.1f s (peak nodes %s, '
              'max-servers %s); the rest fulfilled %.1f s after nodes '
              'were returned' % (burst['requests'], burst['fill_s'],
                                 burst['peak'], burst['max_servers'],
                                 burst['drain_s']))
    return rc


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
