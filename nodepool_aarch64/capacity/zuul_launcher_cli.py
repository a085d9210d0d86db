"""``nodepool-aarch64 capacity apply-zuul-launcher``."""

from nodepool_aarch64 import options
from nodepool_aarch64.capacity import show
from nodepool_aarch64.inventory import load_inventory

DEFAULT_FILE = 'zuul.d/zuul-launcher.yaml'


def register(sub):
    p = sub.add_parser(
        'apply-zuul-launcher',
        help='commit the capacity for an instant to a zuul-launcher '
             'config project',
        description='zuul-launcher reads its providers from a Zuul config '
        'project, so capacity changes are config changes.  In a checkout '
        'of that project, set each inventory provider\'s '
        'resource-limits.instances (on its provider stanza, else on its '
        'section) and each label\'s min-ready to the values in force at '
        '--at (default: now), changing nothing else in the file.  With '
        '--commit, commit that file alone with a message listing the '
        'changes; pushing it (directly, or for review) is left to the '
        'caller.  Once the commit merges the scheduler reloads the tenant '
        'and running launchers use the new limits; nothing restarts.  '
        'Meant for cron or a systemd timer.  Exit 0 when the file is in '
        'place (changed or unchanged), 2 when the checkout cannot be used '
        '(nothing is left half-done).')
    options.inventory(p)
    options.instant(p)
    p.add_argument('--checkout', required=True, metavar='DIR',
                   help='a git checkout of the config project')
    p.add_argument('--file', default=DEFAULT_FILE, metavar='PATH',
                   help='the zuul-launcher objects inside the checkout '
                        f'(default: {DEFAULT_FILE})')
    p.add_argument('--commit', action='store_true',
                   help='commit the change (default: only edit the file)')
    options.output_format(
        p, help='output format (json: {"file", "status", "at", "windows", '
        '"edits"})')
    p.set_defaults(func=run)


def run(args):
    from nodepool_aarch64.capacity import zuul_launcher_apply
    inv = load_inventory(args.inventory)
    at = options.at(args)
    status, edits = zuul_launcher_apply.apply(args.checkout, args.file, inv,
                                              at, commit=args.commit)
    if args.format == 'json':
        print(show.as_json(dict(file=args.file, status=status,
                                edits=[str(e) for e in edits],
                                **show.instant_fields(inv, at))))
        return 0
    print(f'{args.file}: {status} (at {show.instant(inv, at)})')
    for edit in edits:
        print(f'  {edit}')
    return 0
