"""Time one image-check boot of each test image, under TCG here.

Builds (or takes from the cache) the functional tests' Arm64 UEFI images
(tests/functional/harness/uefi_images.py) and boots each once through the same
code as ``nodepool-aarch64 image-check``, printing the wall time, the
verdict and the criterion that decided it.  Targets: the good image in
<= 90 s on a 2-core machine under TCG; the bad images whose console
shows the failure well under the timeout.

``--measure`` also boots the ``mbr`` and ``ttys0`` variants with ACPI
on (as Nova boots them) and ``ttys0`` with ACPI off (a device-tree
guest), the measurements doc/source/imagecheck.rst quotes.

Usage (as root, from the repository root, in the functional tox env):
    python benchmarks/image_check.py [--measure] [--timeout S]
        [--consoles DIR] [VARIANT...]
"""

import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(
    __file__))))

from nodepool_aarch64 import model  # noqa: E402
from nodepool_aarch64.imagecheck import run  # noqa: E402
from tests.functional.harness import uefi_images  # noqa: E402

TARGET_GOOD = 90
CHECKED = ('good', 'no-bootloader', 'missing-root', 'no-init',
           'no-config-drive', 'silent-kernel')
MEASURED = (('mbr', True), ('ttys0', True), ('ttys0', False))


def _boot(variant, acpi, timeout, consoles=None):
    image = uefi_images.image(variant)
    log = None
    if consoles:
        suffix = '' if acpi else '-acpi-off'
        log = os.path.join(consoles, f'{variant}{suffix}.log')
    start = time.monotonic()
    result = run.check(image, model.uefi_boot(), timeout, acpi=acpi,
                       console_log=log)
    if log:
        with open(log[:-len('.log')] + '.json', 'w') as f:
            json.dump(result.as_dict(), f, indent=2)
    wall = time.monotonic() - start
    failure = result.first_failure
    decided = failure.name if failure else 'config-drive'
    evidence = (failure or result.outcomes[-1]).evidence
    print(f'{variant:<16} acpi={"on " if acpi else "off"} '
          f'{wall:6.1f} s  {result.verdict:<4}  {decided:<20} '
          f'{evidence[:70]}', flush=True)
    return wall, result


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('variants', nargs='*', default=list(CHECKED))
    parser.add_argument('--measure', action='store_true')
    parser.add_argument('--timeout', type=int, default=300)
    parser.add_argument('--consoles', metavar='DIR',
                        help='keep each console log and result here')
    args = parser.parse_args(argv)
    print(f'{os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f}; '
          f'timeout {args.timeout} s')
    start = time.monotonic()
    for variant in args.variants:
        uefi_images.image(variant)
    print(f'images ready in {time.monotonic() - start:.1f} s '
          '(cached after the first build)')
    for variant in args.variants:
        wall, _ = _boot(variant, True, args.timeout, args.consoles)
        if variant == 'good':
            print(f'{"":<16} target <= {TARGET_GOOD} s: '
                  f'{"met" if wall <= TARGET_GOOD else "NOT MET"}')
    if args.measure:
        for variant, acpi in MEASURED:
            _boot(variant, acpi, args.timeout, args.consoles)
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
