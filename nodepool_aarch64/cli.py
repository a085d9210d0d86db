"""The ``nodepool-aarch64`` command.

Each subcommand lives in its own module and registers itself through a
``register(subparsers)`` function that sets ``func`` on its parser.  The
function returns the exit code: 0 ok, 1 findings, 2 unusable input.
"""

import argparse
import importlib
import os
import sys

from nodepool_aarch64 import signals
from nodepool_aarch64.errors import InputError

# Module paths, in the order they appear in --help.
SUBCOMMANDS = (
    'nodepool_aarch64.render.cli',
    'nodepool_aarch64.check.cli',
    'nodepool_aarch64.capacity.cli',
    'nodepool_aarch64.readiness.cli',
    'nodepool_aarch64.imagecheck.cli',
    'nodepool_aarch64.kolla.cli',
)

DESCRIPTION = """\
Publish Arm64 test nodes from Linaro's clouds to Zuul.

One declarative inventory (clouds, regions, flavors, diskimages, labels,
capacity windows, mirrors) is rendered to Nodepool launcher and builder
config, to zuul-launcher objects and to Zuul nodesets; any Nodepool and
Zuul config set can be checked for the mistakes that break Arm64 jobs;
capacity can be sized from real quotas and demand.

Exit codes: 0 ok, 1 findings (or stale files), 2 unusable input.
"""


# Options whose value names a file or directory, by their metavar.
PATH_METAVARS = ('FILE', 'DIR', 'PATH')


class _Parser(argparse.ArgumentParser):
    """argparse with usage errors on one line, like every other error.

    An empty path is refused: to a shell script it usually means an unset
    variable, and taking it as "the default" would render or replace
    config nobody asked for.
    """

    def _get_value(self, action, arg_string):
        if arg_string == '' and action.metavar in PATH_METAVARS:
            raise argparse.ArgumentError(action, 'empty path')
        return super()._get_value(action, arg_string)

    def error(self, message):
        message = ' '.join(message.split())
        self.exit(2, f'{self.prog}: {message} (see {self.prog} --help)\n')


def build_parser(subcommands=SUBCOMMANDS):
    parser = _Parser(
        prog='nodepool-aarch64', description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    subparsers = parser.add_subparsers(
        dest='command', metavar='COMMAND', required=True)
    for module in subcommands:
        importlib.import_module(module).register(subparsers)
    return parser


def main(argv=None, subcommands=SUBCOMMANDS):
    """Run one command.  Stopped by SIGTERM, SIGHUP or SIGINT, it cleans
    up (signals.handled) and exits with 128 + the signal number.

    ``subcommands`` narrows the commands to those modules, so that one
    command can run where only its own imports are installed."""
    try:
        with signals.handled():
            return _run(argv, subcommands)
    except signals.Stopped as e:
        print(f'nodepool-aarch64: {e}', file=sys.stderr)
        return e.exit_code


def _run(argv, subcommands):
    parser = build_parser(subcommands)
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except InputError as e:
        print(f'nodepool-aarch64: {e}', file=sys.stderr)
        return 2
    except BrokenPipeError:
        # The reader went away (e.g. "| head"): not an error worth a
        # traceback.  Point stdout at /dev/null so the interpreter's final
        # flush does not raise again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


if __name__ == '__main__':
    sys.exit(main())
