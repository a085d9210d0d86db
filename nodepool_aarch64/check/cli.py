"""``nodepool-aarch64 check``: cross-check Nodepool and Zuul config sets."""

import argparse
import sys

from nodepool_aarch64.check import report
from nodepool_aarch64.check import rules
from nodepool_aarch64.check import runner

DESCRIPTION = """\
Check Nodepool config files or directories (several launchers and
builders at once) together with Zuul config (zuul.d/, .zuul.yaml): run
Nodepool's own validator on each Nodepool file, then cross-check labels,
pools, diskimages, flavors, timeouts and capacity across all of them.

Findings print as PATH:LINE:COL: CODE severity: message.  Exit codes:
0 no error-severity findings, 1 error findings, 2 unusable input.
"""


def _epilog():
    lines = ['finding codes:']
    for code, severity, doc in rules.all_codes():
        lines.append(f'  {code} {severity:<7} {doc}')
    return '\n'.join(lines)


def register(subparsers):
    parser = subparsers.add_parser(
        'check', help='check Nodepool and Zuul config for cross-file '
        'mistakes', description=DESCRIPTION, epilog=_epilog(),
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('paths', nargs='+', metavar='PATH',
                        help='Nodepool or Zuul config file or directory')
    parser.add_argument('--format', choices=('text', 'json'),
                        default='text', help='output format')
    parser.add_argument('--inventory', metavar='FILE',
                        help='inventory with cloud facts (flavors, quotas); '
                        'rules that need them are skipped without it')
    parser.add_argument('--patience', type=int, default=3600,
                        metavar='SECONDS',
                        help='longest a job should wait for a node '
                        '(default %(default)s)')
    parser.add_argument('-v', '--verbose', action='store_true',
                        help='also print notes: skipped rules and files')
    parser.set_defaults(func=main)


def main(args):
    facts = runner.load_facts(args.inventory) if args.inventory else None
    result = runner.run(args.paths, facts=facts, patience=args.patience)
    if args.format == 'json':
        print(report.as_json(result))
    else:
        lines, notes = report.text(result, args.verbose)
        for line in lines:
            print(line)
        for note in notes:
            print(note, file=sys.stderr)
    return 1 if result.errors else 0
