"""What every subcommand's argument parsing shares.

Each command's module wires its own options; the parts that must read
and behave the same in all of them live here: how a subcommand's help
is laid out, and how a UTC time given as an option is read.
"""

import argparse

from nodepool_aarch64 import timeutil


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
