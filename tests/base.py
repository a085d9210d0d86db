"""Shared test helpers: the repository's root, CLI runs (in this process
or a child), temp dirs, a secret-free clouds.yaml."""

import contextlib
import io
import os
import subprocess
import sys
import textwrap

import fixtures
import testtools

from nodepool_aarch64 import cli

# The root of this repository: every test finds files through it.
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Real public configs and histories, next to the repo and never in it.
REALWORLD = os.path.join(REPO, '..', 'shared', 'realworld')


# openstack/kolla's history up to 2026-04-01, as a git bundle.
KOLLA_HISTORY = os.path.join(REALWORLD, 'kolla', 'kolla-2026-04-01.bundle')


def require_realworld(test, path):
    """Skip ``test`` when ``path`` (under REALWORLD) is missing, as in a
    user's clone; fail it instead where CI asks for the real-world cases
    (NODEPOOL_AARCH64_REQUIRE_REALWORLD=1)."""
    if os.path.exists(path):
        return
    if os.environ.get('NODEPOOL_AARCH64_REQUIRE_REALWORLD') == '1':
        test.fail(f'{path} is missing and '
                  f'NODEPOOL_AARCH64_REQUIRE_REALWORLD=1')
    test.skipTest(f'{path} not present (real-world cases live next to '
                  f'the repo, not in it)')


def kolla_history(test):
    """A clone of Kolla's history (KOLLA_HISTORY) with no checkout, in a
    temporary folder of ``test``; see require_realworld."""
    require_realworld(test, KOLLA_HISTORY)
    clone = os.path.join(test.useFixture(fixtures.TempDir()).path, 'kolla')
    subprocess.run(['git', 'clone', '-q', '--no-checkout', KOLLA_HISTORY,
                    clone], check=True)
    # git run in the clone must find the clone, whatever runs the tests.
    test.useFixture(fixtures.EnvironmentVariable('GIT_DIR'))
    return clone


def run_cli(*argv):
    """Run the CLI in-process: (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = cli.main(list(argv))
        except SystemExit as e:  # argparse: --help, usage errors
            code = e.code
    return code, out.getvalue(), err.getvalue()


def run_cli_process(*argv, timeout=120, **kwargs):
    """Run ``nodepool-aarch64 ARGV`` in a child process: the
    CompletedProcess (text output).  The module entry point is used so
    the CLI comes from the code under test, installed or not."""
    return subprocess.run(
        [sys.executable, '-m', 'nodepool_aarch64.cli'] + list(argv),
        capture_output=True, text=True, timeout=timeout, **kwargs)


class TestCase(testtools.TestCase):

    def tempdir(self):
        return self.useFixture(fixtures.TempDir()).path

    def write(self, directory, name, text):
        path = os.path.join(directory, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, 'w') as f:
            f.write(textwrap.dedent(text))
        return path

    def run_cli(self, *argv):
        """Run the CLI in-process: (exit code, stdout, stderr)."""
        return run_cli(*argv)


def key_paths(node, prefix=()):
    """Every key path in nested dicts and lists, the root's () first."""
    yield prefix
    if isinstance(node, dict):
        for key, value in node.items():
            yield from key_paths(value, prefix + (key,))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from key_paths(value, prefix + (i,))


def write_clouds_yaml(directory, inv):
    """A clouds.yaml with every cloud the inventory names and no secrets.

    nodepool.config.loadConfig() looks each provider's cloud up through
    openstacksdk; nothing is contacted.
    """
    lines = ['clouds:']
    for cloud in dict.fromkeys(p.cloud for p in inv.providers):
        lines += [f'  {cloud}:',
                  '    auth:',
                  '      auth_url: http://127.0.0.1:5000/v3']
    path = os.path.join(directory, 'clouds.yaml')
    with open(path, 'w') as f:
        f.write('\n'.join(lines) + '\n')
    return path
