"""``nodepool-aarch64 check``: cross-check Nodepool and Zuul config sets."""

import sys

from nodepool_aarch64 import options
from nodepool_aarch64.check import report
from nodepool_aarch64.check import rules
from nodepool_aarch64.check import runner
from nodepool_aarch64.check import tenant as tenant_mod
from nodepool_aarch64.errors import InputError
from nodepool_aarch64.options import add_command

DESCRIPTION = """\
Check Nodepool config files or directories (several launchers and
builders at once) together with Zuul config (zuul.d/, .zuul.yaml): run
Nodepool's own validator on each Nodepool file, then cross-check labels,
pools, diskimages, flavors, timeouts and capacity across all of them.

A consumer repository (e.g. Kolla's .zuul.d) asks for labels that other
launchers of the tenant serve.  Without --zuul-url/--tenant or
--labels-file, only labels the given launchers could serve (their
architecture, or declared in their files) are judged; the summary line
names the others, and says so when no launcher config was given at all.

Cloud facts (flavors and quotas per cloud region) come from a facts file
(--facts, written by "capacity quota --write-facts" or by hand) or from
an inventory (--inventory); rules that need them are skipped without.

Findings print as PATH:LINE:COL: CODE severity: message.  Exit codes:
0 no error-severity findings, 1 error findings, 2 unusable input,
3 internal error: a rule failed (the others' findings are still
printed; -v shows the traceback).
"""

# A rule that raised: the checker's fault, distinct from 0, 1 and 2.
EXIT_INTERNAL_ERROR = 3


def _epilog():
    lines = ['finding codes:']
    for code, severity, doc in rules.all_codes():
        lines.append(f'  {code} {severity:<7} {doc}')
    return '\n'.join(lines)


def register(subparsers):
    parser = add_command(
        subparsers, 'check',
        help='check Nodepool and Zuul config for cross-file mistakes',
        description=DESCRIPTION, epilog=_epilog())
    parser.add_argument('paths', nargs='+', metavar='PATH',
                        help='Nodepool or Zuul config file or directory')
    options.output_format(parser)
    facts = parser.add_mutually_exclusive_group()
    facts.add_argument('--facts', metavar='FILE',
                       help='cloud facts file (flavors, quotas per cloud '
                       'region); see "capacity quota --write-facts"')
    options.inventory(facts,
                      help='take cloud facts from an inventory instead')
    tenant = parser.add_argument_group(
        'what the rest of the Zuul tenant serves')
    options.zuul_web(tenant, 'the tenant whose labels zuul-web lists')
    tenant.add_argument('--labels-file', metavar='FILE',
                        help='label names the tenant serves, one a line '
                        '(# comments)')
    tenant.add_argument('--nodesets-file', metavar='FILE',
                        help='nodeset names the rest of the tenant '
                        'defines, one a line (# comments)')
    parser.add_argument('--patience', type=int, default=3600,
                        metavar='SECONDS',
                        help='longest a job should wait for a node '
                        '(default %(default)s)')
    parser.add_argument('-v', '--verbose', action='store_true',
                        help='also print notes: skipped rules and files')
    parser.set_defaults(func=main)


def _tenant(args):
    if bool(args.zuul_url) != bool(args.tenant):
        raise InputError('--zuul-url' if args.zuul_url else '--tenant',
                         None, '', '--zuul-url and --tenant go together')
    if args.zuul_url and args.labels_file:
        raise InputError('--labels-file', None, '', 'give either '
                         '--labels-file or --zuul-url/--tenant, not both')
    if args.labels_file:
        return tenant_mod.from_file(args.labels_file)
    if args.zuul_url:
        return tenant_mod.from_zuul(args.zuul_url, args.tenant)
    return None


def main(args):
    facts = None
    if args.facts or args.inventory:
        facts = runner.load_facts(args.inventory, args.facts)
    tenant = _tenant(args)
    nodesets = tenant_mod.nodesets_from_file(args.nodesets_file) \
        if args.nodesets_file else None
    result = runner.run(args.paths, facts=facts, patience=args.patience,
                        tenant=tenant, nodesets=nodesets)
    if args.format == 'json':
        print(report.as_json(result))
        # Standard output is the JSON alone; people still get the summary.
        print(report.summary(result), file=sys.stderr)
    else:
        lines, notes = report.text(result, args.verbose)
        for line in lines:
            print(line)
        for note in notes:
            print(note, file=sys.stderr)
    if result.crashes:
        return EXIT_INTERNAL_ERROR
    return 1 if result.errors else 0
