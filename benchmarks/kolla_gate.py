"""May the Kolla Arm64 build job gate, building everything or only what
each change affects?  On the shipped inventory and on one region of 15
instances.

Writes a two-week builds history (zuul-web's builds API shape) for
Kolla's Debian build job and its Arm64 twin, on top of the other Arm64
demand of the tenant, and runs ``nodepool-aarch64 readiness`` on it four
times: each inventory, with the job's full demand and with
``--affected-share`` (the node-minute share kolla-images leaves, from
``benchmarks/kolla_affected.py``).  It prints the capacity criterion
(simulated gate wait p95 against the SLO) and the verdict of each, and
``capacity plan``'s node-hours for the same demand.

The history is synthetic, with these stated assumptions (all options):
Kolla runs --patchsets check builds a week (every patchset of every
branch) and --merges gate builds; its x86 build takes --x86-minutes, the
Arm64 full build --arm64-minutes (Kolla's Arm64 builds run near their
3-hour timeout); the tenant's other Arm64 jobs ask for --background
nodes a week for --background-minutes each, spread over the working
week.

    python benchmarks/kolla_gate.py --share 0.12 [--patchsets 60]
"""

import argparse
import contextlib
import datetime
import io
import json
import os
import random
import sys
import tempfile

# Run from a checkout without installing it.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(
    __file__))))

from nodepool_aarch64 import cli  # noqa: E402
from nodepool_aarch64.inventory import DEFAULT_INVENTORY  # noqa: E402
from tests import readinessdata as rd  # noqa: E402

ONE_REGION = os.path.join(os.path.dirname(DEFAULT_INVENTORY),
                          'one-region.yaml')
ARM_JOB = 'kolla-build-debian-aarch64'
X86_JOB = 'kolla-build-debian'
LABEL = 'debian-bookworm-arm64'
DAYS = 14


def working_time(rng, start):
    """A time in the working hours (UTC 07-19) of a weekday."""
    while True:
        day = rng.randrange(DAYS)
        at = start + datetime.timedelta(days=day,
                                        seconds=rng.uniform(7, 19) * 3600)
        if at.weekday() < 5:
            return at


def history(args, seed=1):
    rng = random.Random(seed)
    start = datetime.datetime(2026, 11, 2)
    weeks = DAYS / 7
    out = []
    for n in range(int(args.patchsets * weeks)):
        at = working_time(rng, start)
        change = 900000 + n
        out.append(rd.build(X86_JOB, 'SUCCESS', 'check', change=change,
                            start=at, duration=args.x86_minutes * 60))
        out.append(rd.build(ARM_JOB, 'SUCCESS', 'check-arm64',
                            nodeset=LABEL, change=change, start=at,
                            duration=args.arm64_minutes * 60,
                            voting=False))
    for n in range(int(args.merges * weeks)):
        at = working_time(rng, start)
        out.append(rd.build(X86_JOB, 'SUCCESS', 'gate', change=950000 + n,
                            start=at, duration=args.x86_minutes * 60))
    for n in range(int(args.background * weeks)):
        at = working_time(rng, start)
        out.append(rd.build(f'other-arm64-{n % 20}', 'SUCCESS',
                            'check-arm64', nodeset=LABEL, change=800000 + n,
                            start=at, duration=args.background_minutes * 60,
                            voting=False))
    return out


def gating(builds):
    """The same history once the Arm64 job gates: it runs in check and
    gate wherever its counterpart runs, for the Arm64 build's time, in
    place of its check-arm64 runs."""
    arm64 = {b['ref']['change']: b for b in builds
             if b['job_name'] == ARM_JOB}
    hold = next(iter(arm64.values()))['duration'] if arm64 else 0
    out = [b for b in builds if b['job_name'] != ARM_JOB]
    for b in out:
        if b['job_name'] == X86_JOB:
            start = datetime.datetime.fromisoformat(b['start_time'])
            b.update(job_name=ARM_JOB, nodeset=LABEL, duration=hold,
                     end_time=rd.stamp(start + datetime.timedelta(
                         seconds=hold)))
    return out


def plan(builds, inventory, share, slo):
    """capacity plan's row for the plan: node-hours a week, and whether
    it meets the SLO."""
    argv = ['capacity', 'plan', '--builds', builds, '--inventory',
            inventory, '--slo', slo, '--format', 'json']
    if share < 1:
        argv += ['--affected-share', f'{ARM_JOB}={share}']
    return json.loads(run(*argv))


def run(*argv):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main(list(argv))
    if code == 2:
        raise SystemExit(f'{" ".join(argv)}: {err.getvalue().strip()}')
    return out.getvalue()


def verdict(builds, inventory, share, slo):
    argv = ['readiness', '--builds', builds, '--inventory', inventory,
            '--job', ARM_JOB, '--pair', f'{ARM_JOB}={X86_JOB}',
            '--timeout', '10800', '--slo', slo, '--format', 'json']
    if share < 1:
        argv += ['--affected-share', f'{ARM_JOB}={share}']
    job = json.loads(run(*argv))['jobs'][0]
    capacity = job['criteria']['capacity']
    return job, capacity


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--share', type=float, required=True,
                        help="kolla-images' node-minute share (affected "
                        'over full)')
    parser.add_argument('--patchsets', type=int, default=75)
    parser.add_argument('--merges', type=int, default=15)
    parser.add_argument('--x86-minutes', type=float, default=75)
    parser.add_argument('--arm64-minutes', type=float, default=140)
    parser.add_argument('--background', type=int, default=300)
    parser.add_argument('--background-minutes', type=float, default=100)
    parser.add_argument('--slo', default='gate:p95:60')
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as scratch:
        made = history(args)
        builds = rd.write(os.path.join(scratch, 'builds.json'), made)
        gated = rd.write(os.path.join(scratch, 'gating.json'), gating(made))
        print(f'{ARM_JOB} against {X86_JOB}, {args.patchsets} patchsets '
              f'and {args.merges} merges a week, Arm64 build '
              f'{args.arm64_minutes:g} min, {args.background} other Arm64 '
              f'nodes a week of {args.background_minutes:g} min; SLO '
              f'{args.slo}')
        for name, inventory in (('shipped inventory', DEFAULT_INVENTORY),
                                ('one region, 15 instances', ONE_REGION)):
            for label, share in (('full build', 1.0),
                                 (f'affected only ({args.share:g})',
                                  args.share)):
                job, capacity = verdict(builds, inventory, share, args.slo)
                wait = job['metrics']['simulated-gate-wait-minutes']
                print(f'{name:26} {label:24} gate wait p95 '
                      f'{wait} min: capacity '
                      f'{"pass" if capacity["passed"] else "FAIL"}; '
                      f'verdict {job["verdict"]}'
                      + (f' (fails: {", ".join(job["failed"])})'
                         if job['failed'] else ''))
                planned = plan(gated, inventory, share, args.slo)
                print(f'{"":26} {"":24} capacity plan: {_plan_line(planned)}')
    return 0


def _plan_line(planned):
    parts = []
    for name in ('plan', 'inventory'):
        row = planned['compare'].get(name)
        if row:
            measured = '/'.join(f'{m:g}' for m in row['slo-measured-minutes'])
            parts.append(f'{name} {row["node-hours-per-week"]:g} node-h/wk, '
                         f'gate p95 {measured} min, met '
                         f'{"yes" if row["slo-met"] else "no"}')
    return '; '.join(parts)


if __name__ == '__main__':
    sys.exit(main())
