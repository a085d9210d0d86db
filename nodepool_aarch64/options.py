"""The command line's one vocabulary, for every command.

Each command's module wires its own options; what two commands share
is defined here once, with one name, one meaning and one help text:
``--inventory``, ``--at``, ``--format text|json``, ``--zuul-url`` with
``--tenant``, ``--affected-share``.  So are how a subcommand's help is
laid out, how a UTC time given as an option is read, how a failure to
write an output is told, and the one way a number is checked against
its range (``check_range``, and ``positive_seconds`` for argparse).

Names: ``--output FILE`` names a file, ``--output-dir DIR`` a directory.
"""

import argparse
import contextlib
import datetime
import math
import sys

from nodepool_aarch64 import timeutil
from nodepool_aarch64.errors import InputError

INVENTORY_HELP = 'inventory YAML (default: the shipped Linaro inventory)'
OUTPUT_FORMATS = ('text', 'json')


def add_command(subparsers, name, help, description, **kwargs):
    """A subcommand whose ``description`` (and epilog) keep their own
    line breaks, so code lists and tables in --help stay readable."""
    return subparsers.add_parser(
        name, help=help, description=description,
        formatter_class=argparse.RawDescriptionHelpFormatter, **kwargs)


def parse_at(text):
    """An argparse type: an ISO 8601 time as aware UTC, or a usage error
    saying what is wrong (exit 2, one line)."""
    try:
        return timeutil.parse_utc(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e))


@contextlib.contextmanager
def writing(path):
    """Report a failure to write ``path`` (or a file below it) as unusable
    output: one line naming the file, exit code 2, no traceback."""
    try:
        yield
    except OSError as e:
        raise InputError(e.filename or path, None, '',
                         f'cannot write: {e.strerror}')


# -- options more than one command takes -------------------------------------

def inventory(group, help=INVENTORY_HELP):
    group.add_argument('--inventory', metavar='FILE', help=help)


def instant(group, help='UTC instant, ISO 8601 (default: now)'):
    group.add_argument('--at', type=parse_at, metavar='TIME', help=help)


def at(args):
    """The instant ``--at`` names, or now."""
    return args.at or datetime.datetime.now(timeutil.UTC)


def output_format(group, help='output format'):
    """``--format text|json``: what every command prints, one way."""
    group.add_argument('--format', choices=OUTPUT_FORMATS, default='text',
                       help=help)


def zuul_web(group, tenant_help):
    """``--zuul-url`` and ``--tenant``: one zuul-web, however it is
    written (``formats.zuulweb.Site`` reads every form)."""
    group.add_argument(
        '--zuul-url', metavar='URL',
        help='zuul-web: its site root (https://zuul.example) or its API '
             'root (.../api); a user, password or ?token= in it is sent, '
             'never shown; needs --tenant')
    group.add_argument('--tenant', metavar='NAME', help=tenant_help)


def parse_share(text):
    """An argparse type for ``JOB=SHARE``: the share (above 0, at most 1)
    of a job's node time it still takes, e.g. a Kolla build job building
    only the images a change affects (``kolla-images``' node-minute
    ratio)."""
    job, sep, value = text.partition('=')
    try:
        share = float(value)
    except ValueError:
        share = -1.0
    if not sep or not job or not 0 < share <= 1:
        raise argparse.ArgumentTypeError(
            f'{text!r}: expected JOB=SHARE with a share above 0 and at '
            'most 1')
    return job, share


def add_share_option(group):
    group.add_argument(
        '--affected-share', action='append', type=parse_share, default=[],
        metavar='JOB=SHARE',
        help='JOB holds its node for SHARE of each recorded duration: '
             'the demand of a Kolla build job that builds only the images '
             'a change affects (kolla-images; benchmarks/'
             'kolla_affected.py prints the share); repeatable')


class Deprecated(argparse.Action):
    """An old spelling that still works: it stores into ``dest`` as the
    new option would, and says once on stderr what to write instead."""

    def __init__(self, option_strings, dest, instead, **kwargs):
        self.instead = instead
        super().__init__(option_strings, dest, **kwargs)

    def __call__(self, parser, namespace, values, option_string=None):
        deprecated(parser, f'{option_string} {values}',
                   f'{self.instead} {values}')
        setattr(namespace, self.dest, values)


def deprecated(parser, old, new):
    """The one line an old spelling prints: what to write instead."""
    sys.stderr.write(f'{parser.prog}: {old} is deprecated; use {new}\n')


# -- ranges ------------------------------------------------------------------

def expected(low=None, high=None, below=None, above=None, whole=False,
             unit=''):
    """What a range asks for, in words: ``low`` and ``high`` are in it,
    ``above`` and ``below`` are not."""
    kind = ('a whole number' if whole else 'a number') + \
        (f' of {unit}' if unit else '')
    if low is not None:
        if below is not None:
            return f'{kind} from {low:g} up to (not including) {below:g}'
        if high is not None:
            return f'{kind} from {low:g} to {high:g}'
        return f'{kind} of at least {low:g}'
    ends = []
    if above is not None:
        ends.append(f'above {above:g}')
    if below is not None:
        ends.append(f'below {below:g}')
    elif high is not None:
        ends.append(f'at most {high:g}')
    return ' '.join([kind, ' and '.join(ends)]) if ends else kind


def outside(value, low=None, high=None, below=None, above=None):
    """Whether ``value`` is outside the range; NaN and infinity always
    are."""
    return (value != value or value in (math.inf, -math.inf) or
            (low is not None and value < low) or
            (above is not None and value <= above) or
            (high is not None and value > high) or
            (below is not None and value >= below))


def check_range(name, value, low=None, high=None, below=None, above=None,
                whole=False, unit=''):
    """One line and exit 2 naming the option ``name`` when ``value`` is
    outside the range; None (an option not given) passes."""
    if value is None or not outside(value, low, high, below, above):
        return
    raise InputError(name, None, '', f'{value!r}: expected '
                     f'{expected(low, high, below, above, whole, unit)}')


def positive_seconds(value):
    """argparse type: a whole, positive number of seconds."""
    try:
        seconds = int(value)
    except ValueError:
        seconds = 0
    if outside(seconds, above=0):
        raise argparse.ArgumentTypeError(
            f'{value!r}: expected '
            f'{expected(above=0, whole=True, unit="seconds")}')
    return seconds
