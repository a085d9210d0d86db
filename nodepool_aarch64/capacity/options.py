"""Options several capacity actions share: one definition, one help."""

import datetime

from nodepool_aarch64 import timeutil
from nodepool_aarch64.cliutil import parse_at


def inventory(parser):
    parser.add_argument(
        '--inventory', metavar='FILE',
        help='inventory YAML (default: the shipped Linaro inventory)')


def instant(parser):
    parser.add_argument('--at', type=parse_at, metavar='TIME',
                        help='UTC instant, ISO 8601 (default: now)')


def output_format(parser):
    parser.add_argument('--format', choices=('text', 'json'),
                        default='text', help='output format')


def at(args):
    """The instant ``--at`` names, or now."""
    return args.at or datetime.datetime.now(timeutil.UTC)
