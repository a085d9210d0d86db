"""kolla-images on Kolla's real history: safety, savings and speed.

For every non-merge commit of a period (by default the 18 months before
2026-04-01) that touches ``docker/`` or ``kolla/``, selects the images
to build from the commit's parent to the commit, exactly as
``nodepool-aarch64 kolla-images`` does (both revisions rendered by their
own Kolla, side by side), and checks the selection against a full
comparison of the two renderings: an image really differs when any file
of its rendered folder (not only what COPY and ADD take), its rendered
Dockerfile, its source settings or an ancestor differ, or it is new.
A miss is such an image that the selection reuses; there must be none.

It prints the commits judged, the misses, the median and p90 of images
built against the full set (Debian aarch64 by default), the node-minute
ratio under two stated proxies, and the time per selection (target
<= 30 s).  One JSON line per commit goes to --results, so a long run can
be read while it goes (--report FILE reads such a file alone).

    python benchmarks/kolla_affected.py --kolla DIR [--limit N]
        [--since 2024-10-01] [--until 2026-04-01] [--results FILE]

--kolla defaults to a clone of ../shared/realworld/kolla's bundle in a
temporary folder.
"""

import argparse
import hashlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

# Run from a checkout without installing it.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(
    __file__))))

from nodepool_aarch64.errors import InputError  # noqa: E402
from nodepool_aarch64.kolla import affected  # noqa: E402
from nodepool_aarch64.kolla import render  # noqa: E402

TARGET = 30.0
BUNDLE = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))), 'shared', 'realworld', 'kolla',
    'kolla-2026-04-01.bundle')

# Measured on the aarch64 VM node (doc/source/functional.rst, DESIGN):
# a stand-in for Kolla's Debian base built in 539 s, a leaf on it in
# 69 s; the node boots to dockerd in about 75 s.
BASE_SECONDS = 539
IMAGE_SECONDS = 69
NODE_BOOT_SECONDS = 75


def commits(kolla, since, until):
    out = subprocess.run(
        ['git', '-C', kolla, 'log', '--no-merges', '--reverse',
         f'--since={since}', f'--until={until}', '--format=%H %h %s',
         '--', 'docker', 'kolla'],
        check=True, stdout=subprocess.PIPE).stdout.decode()
    return [line.split(' ', 2) for line in out.splitlines() if line]


def full_digests(images):
    """Each image's digest over everything its rendering holds: the
    rendered Dockerfile, every file of its folder, its source settings,
    chained to its parent's."""
    result = {}

    def visit(name):
        if name not in result:
            image = images[name]
            digest = hashlib.sha256(image.dockerfile.encode())
            for rel in sorted(image.files):
                digest.update(f'\0{rel}\0{image.files[rel]}'.encode())
            digest.update(b'\0' + image.sources.encode())
            parent = visit(image.parent) if image.parent in images else ''
            digest.update(b'\0' + parent.encode())
            result[name] = digest.hexdigest()
        return result[name]

    for name in images:
        visit(name)
    return result


def really_differs(base, head):
    old = full_digests(base.images)
    new = full_digests(head.images)
    return sorted(name for name in head.images
                  if name not in old or old[name] != new[name])


def run_weight(image):
    """Proxy A: one unit per image plus one per RUN instruction (the
    layers that do work)."""
    runs = sum(1 for line in image.dockerfile.splitlines()
               if line.lstrip().upper().startswith('RUN '))
    return 1 + runs


def vm_seconds(name):
    """Proxy B: the VM node's measured build times."""
    return BASE_SECONDS if name == 'base' else IMAGE_SECONDS


class Renderings:
    """Renderings by what they depend on: the trees of the images folder
    and of Kolla's package.  A merge that touched neither renders as the
    commit before it, so a change's parent is usually already rendered.
    Each rendering's own time is kept, to time selections honestly."""

    def __init__(self, kolla, args, timeout, keep=6):
        self.kolla, self.args, self.timeout, self.keep = \
            kolla, args, timeout, keep
        self.cache = {}
        self.seconds = {}

    def key(self, commit):
        out = subprocess.run(
            ['git', '-C', self.kolla, 'rev-parse', f'{commit}:docker',
             f'{commit}:kolla'], stdout=subprocess.PIPE, check=False)
        return out.stdout.decode().split() or [commit]

    def __call__(self, commit):
        key = tuple(self.key(commit))
        if key not in self.cache:
            started = time.monotonic()
            self.cache[key] = render.render(self.kolla, commit, self.args,
                                            timeout=self.timeout)
            self.seconds[key] = time.monotonic() - started
            while len(self.cache) > self.keep:
                oldest = next(iter(self.cache))
                del self.cache[oldest]
        return self.cache[key]

    def render_seconds(self, commit):
        return self.seconds[tuple(self.key(commit))]


def judge(kolla, sha, renderings):
    selection = affected.affected(kolla, f'{sha}^', sha, renderer=renderings)
    # Again, with both renderings at hand: the selection's own time.
    started = time.monotonic()
    affected.affected(kolla, f'{sha}^', sha, renderer=renderings)
    overhead = time.monotonic() - started
    parent = subprocess.run(['git', '-C', kolla, 'rev-parse', f'{sha}^'],
                            check=True, stdout=subprocess.PIPE
                            ).stdout.decode().strip()
    base, head = renderings(parent), renderings(sha)
    renders = [renderings.render_seconds(parent),
               renderings.render_seconds(sha)]
    # The command renders both revisions itself, side by side; rendering
    # them one after the other bounds its time from above, whatever the
    # cache saved here.
    seconds = sum(renders) + overhead
    truth = really_differs(base, head)
    weights = {name: run_weight(image) for name, image in head.images.items()}
    built = set(selection.build)
    return {
        'commit': sha,
        'seconds': round(seconds, 2),
        'render_seconds': [round(r, 2) for r in renders],
        'images': len(head.images),
        'build': len(selection.build),
        'differs': len(truth),
        'misses': sorted(set(truth) - built),
        'fallback': selection.fallback,
        'run_weight_built': sum(weights[n] for n in built),
        'run_weight_all': sum(weights.values()),
        'vm_seconds_built': NODE_BOOT_SECONDS
        + sum(vm_seconds(n) for n in built),
        'vm_seconds_all': NODE_BOOT_SECONDS
        + sum(vm_seconds(n) for n in head.images),
    }


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def report(rows, out=sys.stdout):
    judged = [r for r in rows if 'error' not in r]
    errors = [r for r in rows if 'error' in r]
    if not judged:
        print('no commit judged', file=out)
        return 1
    misses = sum(len(r['misses']) for r in judged)
    built = [r['build'] for r in judged]
    full = [r['images'] for r in judged]
    fallbacks = sum(1 for r in judged if r['fallback'])
    seconds = [r['seconds'] for r in judged]
    run_ratio = sum(r['run_weight_built'] for r in judged) / sum(
        r['run_weight_all'] for r in judged)
    vm_ratio = sum(r['vm_seconds_built'] for r in judged) / sum(
        r['vm_seconds_all'] for r in judged)
    exact = [r['build'] for r in judged if not r['fallback']]
    print(f'commits judged: {len(judged)} (renders failed on '
          f'{len(errors)} more)', file=out)
    print(f'misses: {misses} (images that really differ but were '
          'reused)', file=out)
    print(f'images built per change: median {statistics.median(built):g}, '
          f'p90 {percentile(built, 0.9)} of a full set of median '
          f'{statistics.median(full):g} (Debian aarch64)', file=out)
    print(f'changes building everything (fallback): {fallbacks}; the '
          f'other {len(exact)} build median '
          f'{statistics.median(exact) if exact else 0:g}, p90 '
          f'{percentile(exact, 0.9) if exact else 0}', file=out)
    print(f'images that really differ per change: median '
          f'{statistics.median(r["differs"] for r in judged):g}, p90 '
          f'{percentile([r["differs"] for r in judged], 0.9)}', file=out)
    print(f'node-minute ratio, affected / full: {run_ratio:.3f} (proxy A: '
          f'1 + RUN instructions per image), {vm_ratio:.3f} (proxy B: '
          f'{BASE_SECONDS} s for base, {IMAGE_SECONDS} s per other image, '
          f'+ {NODE_BOOT_SECONDS} s node boot per job)', file=out)
    print(f'time per selection: median {statistics.median(seconds):.1f} s, '
          f'p90 {percentile(seconds, 0.9):.1f} s, max {max(seconds):.1f} s '
          f'(target <= {TARGET:g} s)', file=out)
    for r in errors:
        print(f'  render failed at {r["commit"][:12]}: {r["error"]}',
              file=out)
    return 1 if misses else 0


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--kolla', metavar='DIR')
    parser.add_argument('--since', default='2024-10-01')
    parser.add_argument('--until', default='2026-04-01')
    parser.add_argument('--limit', type=int, default=0,
                        help='judge at most the N newest commits')
    parser.add_argument('--newest-first', action='store_true',
                        help='judge the newest commits first (a run cut '
                        'short then covers the recent history)')
    parser.add_argument('--base', default='debian')
    parser.add_argument('--base-arch', default='aarch64')
    parser.add_argument('--timeout', type=int, default=300)
    parser.add_argument('--results', metavar='FILE',
                        help='append one JSON line per commit here; '
                        'commits already in it are not judged again')
    parser.add_argument('--report', metavar='FILE', nargs='+',
                        help='only summarise --results files (a commit '
                        'in several counts once)')
    args = parser.parse_args(argv)
    if args.report:
        rows = {}
        for path in args.report:
            with open(path) as f:
                for line in f:
                    if line.strip():
                        row = json.loads(line)
                        rows[row['commit']] = row
        return report(list(rows.values()))
    with tempfile.TemporaryDirectory() as scratch:
        kolla = args.kolla
        if kolla is None:
            kolla = os.path.join(scratch, 'kolla')
            subprocess.run(['git', 'clone', '-q', BUNDLE, kolla],
                           check=True)
        todo = commits(kolla, args.since, args.until)
        print(f'{len(todo)} non-merge commits touch docker/ or kolla/ '
              f'from {args.since} to {args.until}', flush=True)
        if args.limit:
            todo = todo[-args.limit:]
        if args.newest_first:
            todo.reverse()
        done = {}
        if args.results and os.path.exists(args.results):
            with open(args.results) as f:
                for line in f:
                    if line.strip():
                        row = json.loads(line)
                        done[row['commit']] = row
        renderings = Renderings(
            kolla, render.kolla_args(args.base, args.base_arch, ()),
            args.timeout)
        rows = []
        for sha, short, subject in todo:
            if sha in done:
                rows.append(done[sha])
                continue
            try:
                row = judge(kolla, sha, renderings)
            except InputError as e:
                row = {'commit': sha, 'error': str(e)}
            row['subject'] = subject
            rows.append(row)
            if args.results:
                with open(args.results, 'a') as f:
                    f.write(json.dumps(row, sort_keys=True) + '\n')
            print(f'{short} build {row.get("build", "-")}/'
                  f'{row.get("images", "-")} misses '
                  f'{len(row.get("misses", []))} {row.get("seconds", "-")} s'
                  f' {subject[:50]}', flush=True)
        return report(rows)


if __name__ == '__main__':
    sys.exit(main())
