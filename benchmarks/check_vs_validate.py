"""Wall time of ``nodepool-aarch64 check`` against the per-file loop.

Sites check their Nodepool config in CI by running ``nodepool -c FILE
config-validate`` once per file, each a separate process.  ``check`` runs
that same validator on every file in one process and all cross-file rules
on top.  This prints both wall times over one multi-launcher config set
and their ratio; the target is a ratio of 0.2 or less.

Usage: python benchmarks/check_vs_validate.py [--repeat N] [PATH ...]

Without PATHs it uses the largest real-world case next to the repo
(../shared/realworld: several launchers, builders and zuul.d), or, when
that is absent, the project's own rendered config.
"""

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REALWORLD = os.path.join(REPO, '..', 'shared', 'realworld')
BIN = os.path.dirname(sys.executable)


def default_paths(tmp):
    best = None
    if os.path.isdir(REALWORLD):
        for case in sorted(os.listdir(REALWORLD)):
            base = os.path.join(REALWORLD, case, 'fixed')
            if os.path.isdir(base):
                count = sum(len(files) for _, _, files in os.walk(base))
                if best is None or count > best[0]:
                    best = (count, base)
    if best is not None:
        return [best[1]]
    subprocess.run([sys.executable, '-m', 'nodepool_aarch64.cli', 'render',
                    '--output-dir', tmp], check=True, cwd=REPO,
                   stdout=subprocess.DEVNULL)
    return [tmp]


def nodepool_files(paths):
    sys.path.insert(0, REPO)
    from nodepool_aarch64.formats import configset
    return [f.path for f in configset.load(paths).nodepool]


def _cpu():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(commands):
    """(wall, CPU) seconds; CPU time is what a busy machine cannot skew."""
    start, cpu = time.monotonic(), _cpu()
    for command in commands:
        proc = subprocess.run(command, cwd=REPO, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
        if proc.returncode not in (0, 1):
            raise SystemExit(f'{" ".join(command)} exited '
                             f'{proc.returncode}')
    return time.monotonic() - start, _cpu() - cpu


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('paths', nargs='*', metavar='PATH')
    parser.add_argument('--repeat', type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        paths = args.paths or default_paths(tmp)
        files = nodepool_files(paths)
        check = [[sys.executable, '-m', 'nodepool_aarch64.cli', 'check']
                 + paths]
        loop = [[os.path.join(BIN, 'nodepool'), '-c', f, 'config-validate']
                for f in files]
        check_times, loop_times = [], []
        for _ in range(args.repeat):
            # Interleaved, so a burst of load elsewhere hits both.
            check_times.append(timed(check))
            loop_times.append(timed(loop))
    check_s = statistics.median(t[0] for t in check_times)
    loop_s = statistics.median(t[0] for t in loop_times)
    check_cpu = statistics.median(t[1] for t in check_times)
    loop_cpu = statistics.median(t[1] for t in loop_times)
    print(f'config set: {" ".join(paths)}')
    print(f'nodepool files: {len(files)} (validated by both)')
    print(f'check (validator + all rules, one process): {check_s:.2f} s '
          f'wall, {check_cpu:.2f} s CPU')
    print(f'nodepool config-validate per file ({len(files)} processes): '
          f'{loop_s:.2f} s wall, {loop_cpu:.2f} s CPU')
    print(f'ratio check / per-file loop: {check_s / loop_s:.2f} wall, '
          f'{check_cpu / loop_cpu:.2f} CPU (target <= 0.20; median of '
          f'{args.repeat} runs)')


if __name__ == '__main__':
    main()
