"""``capacity apply``: valid, atomic, and quiet when nothing changed."""

import logging
import json
import os
import subprocess
import sys

import fixtures
import testtools
import yaml

from nodepool_aarch64.capacity import nodepool_apply
from nodepool_aarch64.render import nodepool as render_nodepool
from tests import base
from tests import windows

QUIET, PEAK = windows.QUIET, windows.PEAK
# The shipped inventory has two launcher hosts; apply writes one's file.
LAUNCHER = 'nl03.opendev.org'
REPO = base.REPO


def us_max_servers(path):
    with open(path) as f:
        config = yaml.safe_load(f)
    provider = next(p for p in config['providers']
                    if p['name'] == 'linaro-us')
    return provider['pools'][0]['max-servers']


class TestApply(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.dir = self.useFixture(fixtures.TempDir()).path
        self.output = os.path.join(self.dir, 'nodepool.yaml')

    def run_cli(self, *args):
        if '--launcher' not in args:
            args = ('--launcher', LAUNCHER) + args
        return base.run_cli('capacity', 'apply', '--output', self.output,
                            *args)

    def snapshot(self):
        st = os.stat(self.output)
        with open(self.output) as f:
            return st.st_ino, st.st_mtime_ns, f.read()

    def test_writes_then_leaves_unchanged_file_alone(self):
        code, out, _ = self.run_cli('--at', QUIET)
        self.assertEqual(0, code)
        self.assertIn('replaced', out)
        self.assertEqual(30, us_max_servers(self.output))
        self.assertEqual([], nodepool_apply.validate_text(
            open(self.output).read()))
        before = self.snapshot()
        code, out, _ = self.run_cli('--at', QUIET)
        self.assertEqual(0, code)
        self.assertIn('unchanged', out)
        self.assertEqual(before, self.snapshot())

    def test_json(self):
        code, out, err = self.run_cli('--at', PEAK, '--format', 'json')
        self.assertEqual(0, code, err)
        data = json.loads(out)
        self.assertEqual(
            {'file': self.output, 'status': 'replaced',
             'launcher': LAUNCHER, 'errors': [],
             'at': PEAK.replace('Z', '+00:00'),
             'windows': ['weekday-peak']}, data)

    def test_peak_window_replaces_atomically(self):
        self.run_cli('--at', QUIET)
        inode, _, _ = self.snapshot()
        os.chmod(self.output, 0o640)
        code, out, _ = self.run_cli('--at', PEAK)
        self.assertEqual(0, code)
        self.assertIn('windows: weekday-peak', out)
        self.assertEqual(40, us_max_servers(self.output))
        # A new file renamed into place, not the old one rewritten.
        self.assertNotEqual(inode, self.snapshot()[0])
        self.assertEqual(0o640, os.stat(self.output).st_mode & 0o777)
        self.assertEqual(['nodepool.yaml'], os.listdir(self.dir))

    def test_invalid_render_never_replaces(self):
        self.run_cli('--at', QUIET)
        before = self.snapshot()
        real = render_nodepool.launcher_config

        def broken(inv, launcher, at=None):
            config = real(inv, launcher, at=at)
            # A label served from a diskimage nobody declared.
            config['providers'][0]['pools'][0]['labels'][0]['diskimage'] = \
                'no-such-image'
            return config
        self.useFixture(fixtures.MonkeyPatch(
            'nodepool_aarch64.render.nodepool.launcher_config', broken))
        code, out, err = self.run_cli('--at', PEAK)
        self.assertEqual(1, code)
        self.assertIn('invalid', out)
        self.assertIn('no-such-image', err)
        self.assertEqual(before, self.snapshot())
        self.assertEqual(['nodepool.yaml'], os.listdir(self.dir))

    def test_failure_while_writing_keeps_old_file(self):
        self.run_cli('--at', QUIET)
        before = self.snapshot()

        def fail(fd):
            raise OSError(28, 'No space left on device')
        self.useFixture(fixtures.MonkeyPatch('os.fsync', fail))
        code, _, err = self.run_cli('--at', PEAK)
        self.assertEqual(2, code)
        self.assertIn('No space left on device', err)
        self.assertEqual(before, self.snapshot())
        self.assertEqual(['nodepool.yaml'], os.listdir(self.dir))

    def test_killed_mid_write_keeps_old_file(self):
        self.run_cli('--at', QUIET)
        before = self.snapshot()
        # The process dies (SIGKILL, no cleanup) after the new text is
        # written to its temporary file and before the rename.
        script = (
            'import os, signal, sys\n'
            'os.fsync = lambda fd: os.kill(os.getpid(), signal.SIGKILL)\n'
            'from nodepool_aarch64 import cli\n'
            'sys.exit(cli.main(sys.argv[1:]))\n')
        proc = subprocess.run(
            [sys.executable, '-c', script, 'capacity', 'apply', '--at',
             PEAK, '--output', self.output, '--launcher', LAUNCHER],
            cwd=REPO,
            env=dict(os.environ, PYTHONPATH=REPO), capture_output=True)
        self.assertEqual(-9, proc.returncode, proc.stderr)
        self.assertEqual(before, self.snapshot())
        self.assertEqual(30, us_max_servers(self.output))
        # The next run finishes the job.
        code, out, _ = self.run_cli('--at', PEAK)
        self.assertEqual(0, code)
        self.assertEqual(40, us_max_servers(self.output))

    def test_several_launchers_need_one_named(self):
        code, _, err = self.run_cli('--at', QUIET, '--launcher', LAUNCHER)
        self.assertEqual(0, code, err)
        code, _, err = base.run_cli('capacity', 'apply', '--at', QUIET,
                                    '--output', self.output)
        self.assertEqual(2, code)
        self.assertIn('launchers nl03.opendev.org, nl04.opendev.org', err)

    def test_bad_arguments(self):
        code, _, err = self.run_cli('--at', QUIET, '--launcher', 'nl99')
        self.assertEqual(2, code)
        self.assertIn("'nl99' is not a launcher", err)
        self.assertFalse(os.path.exists(self.output))


class TestApplyOutput(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.dir = self.useFixture(fixtures.TempDir()).path

    def run_cli(self, output):
        return base.run_cli('capacity', 'apply', '--at', QUIET, '--output',
                            output, '--launcher', LAUNCHER)

    def test_missing_directory_is_a_typo_not_a_place(self):
        output = os.path.join(self.dir, 'nonexistent', 'dir', 'nodepool.yaml')
        code, out, err = self.run_cli(output)
        self.assertEqual(2, code)
        self.assertIn('no directory', err)
        self.assertEqual(1, len(err.strip().splitlines()))
        self.assertNotIn('replaced', out)
        self.assertEqual([], os.listdir(self.dir))

    def test_output_that_is_a_directory_leaves_no_temp_file(self):
        output = os.path.join(self.dir, 'nodepool.yaml')
        os.mkdir(output)
        code, _, err = self.run_cli(output)
        self.assertEqual(2, code)
        self.assertIn('is a directory', err)
        self.assertEqual(['nodepool.yaml'], os.listdir(self.dir))

    def test_rename_failure_leaves_no_temp_file(self):
        output = os.path.join(self.dir, 'nodepool.yaml')

        def fail(src, dst):
            raise OSError(16, 'Device or resource busy', dst)
        self.useFixture(fixtures.MonkeyPatch('os.replace', fail))
        code, _, err = self.run_cli(output)
        self.assertEqual(2, code)
        self.assertIn('Device or resource busy', err)
        self.assertEqual([], os.listdir(self.dir))

    def test_stale_temp_files_of_killed_runs_are_removed(self):
        output = os.path.join(self.dir, 'nodepool.yaml')
        stale = os.path.join(self.dir, '.nodepool.yaml.abc123.tmp')
        fresh = os.path.join(self.dir, '.nodepool.yaml.def456.tmp')
        other = os.path.join(self.dir, '.other.yaml.abc123.tmp')
        for path in (stale, fresh, other):
            with open(path, 'w') as f:
                f.write('partial')
        old = os.stat(stale).st_mtime - nodepool_apply.STALE_SECONDS - 60
        os.utime(stale, (old, old))
        os.utime(other, (old, old))
        code, _, err = self.run_cli(output)
        self.assertEqual(0, code, err)
        # A temp file that may belong to a run still writing stays, and
        # so do files that are not this output's.
        self.assertEqual(sorted(['nodepool.yaml', '.nodepool.yaml.def456.tmp',
                                 '.other.yaml.abc123.tmp']),
                         sorted(os.listdir(self.dir)))


class TestValidateText(testtools.TestCase):
    """apply judges a render with the same validator run as ``check``."""

    def test_validator_crash_is_an_error_not_a_traceback(self):
        # Nodepool's validator indexes label names it never required.
        errors = nodepool_apply.validate_text('labels:\n  - min-ready: 1\n'
                                              'providers: []\n')
        self.assertEqual(["Nodepool validator crashed: KeyError: 'name'"],
                         errors)

    def test_records_stay_off_the_root_logger(self):
        seen = []

        class Keep(logging.Handler):
            def emit(self, record):
                seen.append(record)
        root = logging.getLogger()
        keep = Keep(logging.DEBUG)
        root.addHandler(keep)
        self.addCleanup(root.removeHandler, keep)
        errors = nodepool_apply.validate_text(
            'labels:\n  - name: a\n    min-ready: lots\n')
        self.assertEqual(1, len(errors))
        self.assertIn('Schema validation failed', errors[0])
        self.assertEqual([], [r for r in seen if r.levelno >= logging.ERROR])

    def test_never_sees_the_callers_environment(self):
        self.useFixture(fixtures.EnvironmentVariable(
            'NODEPOOL_TOKEN', 'CANARY-S3CRET'))
        errors = nodepool_apply.validate_text(
            'labels:\n  - name: a\n    "%(NODEPOOL_TOKEN)s": 1\n')
        self.assertTrue(errors)
        self.assertNotIn('CANARY', ' '.join(errors))
