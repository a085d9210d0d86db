"""Add up the stestr totals of several tox runs into one closing line.

stestr prints "- Passed: N" style totals per run; lint and docs runs have
none and count as one passed or failed test by their exit code.

With NODEPOOL_AARCH64_FAIL_ON_SKIP=1 (as .ci/run sets it) a skipped test
fails the run: a test that did not run is not a pass.  The exit status
says so; the closing line still counts it as skipped.
"""

import os
import re
import sys

TOTAL = re.compile(r'^ - (Passed|Failed|Skipped): (\d+)$', re.M)


def main(logdir, envs):
    counts = {'Passed': 0, 'Failed': 0, 'Skipped': 0}
    for env in envs:
        with open(os.path.join(logdir, env + '.log'), errors='replace') as f:
            log = f.read()
        with open(os.path.join(logdir, env + '.rc')) as f:
            rc = int(f.read())
        found = TOTAL.findall(log)
        for kind, n in found:
            counts[kind] += int(n)
        if not found:
            counts['Passed' if rc == 0 else 'Failed'] += 1
        elif rc != 0 and not any(k == 'Failed' and int(n) for k, n in found):
            # The runner itself broke (import error, crash): count it.
            counts['Failed'] += 1
    status = 0
    if counts['Skipped'] and os.environ.get(
            'NODEPOOL_AARCH64_FAIL_ON_SKIP') == '1':
        print(f"{counts['Skipped']} tests skipped: a skipped test fails "
              "this run (see each run's log for the reasons)")
        status = 1
    print(f"{counts['Passed']} passed, {counts['Failed']} failed, "
          f"{counts['Skipped']} skipped")
    return status


if __name__ == '__main__':
    sys.exit(main(sys.argv[1], sys.argv[2:]))
