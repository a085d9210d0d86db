"""Work at the input limits: render and check on the largest inputs the
readers accept, in CPU seconds (wall time shown too; it depends on what
else the machine runs).

* render of an inventory at its section limits: every label on every
  provider (doc/source/contract.rst; about 6 s of CPU measured);
* check of 1,000 launcher files (target: 10 s), small generated ones,
  and with ``--real DIR`` copies of the real launcher files (``nl*.yaml``)
  found under DIR (e.g. ../shared/realworld), each copy's providers
  renamed so that copies are distinct launchers, as 1,000 launchers of
  one tenant would be.

    python benchmarks/input_bounds.py [--files N] [--real DIR]
"""

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time

import yaml

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

from nodepool_aarch64.inventory import DEFAULT_INVENTORY  # noqa: E402
from nodepool_aarch64.inventory import schema  # noqa: E402


def largest_inventory(path):
    with open(DEFAULT_INVENTORY) as f:
        inv = yaml.safe_load(f)
    first = inv['providers'][0]
    inv['providers'] = [
        dict(first, name=f'provider-{i}', launcher=f'nl{i % 5:02d}',
             builder=f'nb{i % 5:02d}')
        for i in range(schema.LIMITS['providers'])]
    for p in inv['providers']:
        p.pop('executor-zone', None)
    label = inv['labels'][0]
    inv['labels'] = [
        {'name': f'label-{i}-arm64', 'diskimage': label['diskimage'],
         'flavor': label['flavor']}
        for i in range(schema.LIMITS['labels'])]
    inv.pop('capacity', None)
    with open(path, 'w') as f:
        yaml.safe_dump(inv, f)


def launcher_files(directory, count):
    for i in range(count):
        data = {'labels': [{'name': f'l{i}-arm64', 'min-ready': 0}],
                'providers': [{
                    'name': f'p{i}', 'driver': 'openstack', 'cloud': 'c',
                    'region-name': 'RegionOne', 'boot-timeout': 600,
                    'launch-timeout': 800,
                    'diskimages': [{'name': f'd{i}-arm64',
                                    'config-drive': True}],
                    'pools': [{'name': 'main', 'max-servers': 2,
                               'labels': [{'name': f'l{i}-arm64',
                                           'diskimage': f'd{i}-arm64',
                                           'flavor-name': 'f'}]}]}]}
        with open(os.path.join(directory, f'nl{i:04d}.yaml'), 'w') as f:
            yaml.safe_dump(data, f)


def real_launcher_files(directory, count, real):
    sources = sorted(
        os.path.join(d, n) for d, _, names in os.walk(real) for n in names
        if n.startswith('nl') and n.endswith('.yaml') and
        f'{os.sep}fixed{os.sep}' in os.path.join(d, n))
    if not sources:
        raise SystemExit(f'no fixed nl*.yaml under {real}')
    loaded = []
    for path in sources:
        with open(path) as f:
            loaded.append(yaml.safe_load(f))
    size = 0
    for i in range(count):
        data = loaded[i % len(loaded)]
        copy = dict(data, providers=[
            dict(p, name=f'{p["name"]}-{i}')
            for p in data.get('providers') or []])
        path = os.path.join(directory, f'nl{i:04d}.yaml')
        with open(path, 'w') as f:
            yaml.safe_dump(copy, f)
        size += os.path.getsize(path)
    return size


def timed(argv):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.monotonic()
    proc = subprocess.run(argv, capture_output=True, text=True, cwd=REPO)
    wall = time.monotonic() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + \
        (after.ru_stime - before.ru_stime)
    return proc, wall, cpu


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--files', type=int, default=1000)
    parser.add_argument('--real', metavar='DIR',
                        help='copy real launcher files from here')
    parser.add_argument('--only-check', action='store_true',
                        help='skip the render benchmark')
    args = parser.parse_args()
    cli = [sys.executable, '-m', 'nodepool_aarch64.cli']
    with tempfile.TemporaryDirectory() as tmp:
        if not args.only_check:
            render(cli, tmp)
        files = os.path.join(tmp, 'launchers')
        os.mkdir(files)
        if args.real:
            size = real_launcher_files(files, args.files, args.real)
            kind = f'real launcher files ({size / 1e6:.1f} MB)'
        else:
            launcher_files(files, args.files)
            kind = 'small generated launcher files'
        proc, wall, cpu = timed(cli + ['check', files])
        print(f'check of {args.files} {kind}: exit '
              f'{proc.returncode}, {cpu:.1f} s CPU, {wall:.1f} s wall')
        if proc.returncode not in (0, 1):
            print(proc.stderr[-2000:])


def render(cli, tmp):
    inventory = os.path.join(tmp, 'largest.yaml')
    largest_inventory(inventory)
    proc, wall, cpu = timed(cli + ['render', '--inventory', inventory,
                                   '--output-dir',
                                   os.path.join(tmp, 'out')])
    size = sum(os.path.getsize(os.path.join(d, n))
               for d, _, names in os.walk(os.path.join(tmp, 'out'))
               for n in names)
    print(f'render at the limits ({schema.LIMITS["labels"]} labels x '
          f'{schema.LIMITS["providers"]} providers, {size / 1e6:.1f} MB '
          f'out): exit {proc.returncode}, {cpu:.1f} s CPU, '
          f'{wall:.1f} s wall')


if __name__ == '__main__':
    main()
