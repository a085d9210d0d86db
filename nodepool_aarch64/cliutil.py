"""What every subcommand's argument parsing shares.

Each command's module wires its own options; the parts that must read
and behave the same in all of them live here: how a subcommand's help
is laid out, how a UTC time given as an option is read, and how a
failure to write an output is told.
"""

import argparse
import contextlib

from nodepool_aarch64 import timeutil
from nodepool_aarch64.errors import InputError


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


def positive_seconds(value):
    """argparse type: a whole, positive number of seconds."""
    try:
        seconds = int(value)
    except ValueError:
        seconds = 0
    if seconds <= 0:
        raise argparse.ArgumentTypeError(f'{value!r} is not a positive '
                                         'number of seconds')
    return seconds
