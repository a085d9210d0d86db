"""``capacity apply-zuul-launcher``: a capacity window as a config commit."""

import json
import os
import signal
import subprocess
import sys
import time

import fixtures
import testtools

from nodepool_aarch64.formats.yamltext import dump
from nodepool_aarch64.inventory import load_inventory
from nodepool_aarch64.render import zuul as render_zuul
from tests import base
from tests import windows
from tests import zuulparse

QUIET = windows.QUIET
PEAK = windows.PEAK
MAINTENANCE = windows.MAINTENANCE
FILE = 'zuul.d/zuul-launcher.yaml'


def git(cwd, *args):
    return subprocess.run(
        ['git', '-c', 'user.name=Capacity Test',
         '-c', 'user.email=capacity@example.invalid', *args],
        cwd=cwd, check=True, capture_output=True, text=True).stdout


class TestApplyZuulLauncher(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.useFixture(fixtures.EnvironmentVariable(
            'GIT_AUTHOR_NAME', 'Capacity Test'))
        self.useFixture(fixtures.EnvironmentVariable(
            'GIT_AUTHOR_EMAIL', 'capacity@example.invalid'))
        self.useFixture(fixtures.EnvironmentVariable(
            'GIT_COMMITTER_NAME', 'Capacity Test'))
        self.useFixture(fixtures.EnvironmentVariable(
            'GIT_COMMITTER_EMAIL', 'capacity@example.invalid'))
        self.checkout = self.useFixture(fixtures.TempDir()).path
        self.path = os.path.join(self.checkout, FILE)
        os.makedirs(os.path.dirname(self.path))
        inv = load_inventory(None)
        self.original = ('# Site note: reviewed by the infra team.\n'
                         + dump(render_zuul.launcher_objects(inv),
                                'inventory linaro.yaml'))
        self.write(self.original)
        git(self.checkout, 'init', '-q', '-b', 'master', '.')
        git(self.checkout, 'add', '-A')
        git(self.checkout, 'commit', '-q', '-m', 'Initial state')

    def write(self, text):
        with open(self.path, 'w') as f:
            f.write(text)

    def read(self):
        with open(self.path) as f:
            return f.read()

    def run_cli(self, *args, commit=True):
        return base.run_cli(
            'capacity', 'apply-zuul-launcher', '--checkout', self.checkout,
            *(['--commit'] if commit else []), *args)

    def head(self):
        return git(self.checkout, 'rev-parse', 'HEAD').strip()

    def changed_lines(self):
        diff = git(self.checkout, 'show', '--format=', '-U0', 'HEAD')
        return [line for line in diff.splitlines()
                if line[:1] in '+-' and not line.startswith(('+++', '---'))]

    def test_json(self):
        code, out, err = self.run_cli('--at', PEAK, '--format', 'json',
                                      commit=False)
        self.assertEqual(0, code, err)
        data = json.loads(out)
        self.assertEqual(['weekday-peak'], data['windows'])
        self.assertEqual(2, len(data['edits']), data)
        self.assertTrue(any('instances: 30 -> 40' in e
                            for e in data['edits']), data)
        self.assertEqual('zuul.d/zuul-launcher.yaml', data['file'])

    def test_peak_window_is_one_commit_of_two_integers(self):
        code, out, err = self.run_cli('--at', PEAK)
        self.assertEqual(0, code, err)
        self.assertIn('committed', out)
        self.assertIn('windows: weekday-peak', out)
        self.assertEqual(['+    min-ready: 1', '+      instances: 40',
                          '-    min-ready: 0', '-      instances: 30'],
                         sorted(self.changed_lines(), key=lambda s: s[0]))
        message = git(self.checkout, 'log', '-1', '--format=%B')
        self.assertIn('Capacity windows in force: weekday-peak.', message)
        self.assertIn('section linaro-us resource-limits.instances: 30 -> 40',
                      message)
        # The site's own comment survived; the tree is clean.
        self.assertTrue(self.read().startswith('# Site note'))
        self.assertEqual('', git(self.checkout, 'status', '--porcelain'))
        # Zuul's own parser still takes the file.
        for parsed in zuulparse.parse_files([self.path]):
            self.assertEqual([], parsed.errors)

    def test_back_to_quiet_then_nothing_to_do(self):
        self.run_cli('--at', PEAK)
        code, out, _ = self.run_cli('--at', QUIET)
        self.assertEqual(0, code)
        self.assertEqual(self.original, self.read())
        head = self.head()
        stat = os.stat(self.path)
        code, out, _ = self.run_cli('--at', QUIET)
        self.assertEqual(0, code)
        self.assertIn('unchanged', out)
        self.assertEqual(head, self.head())
        self.assertEqual(stat.st_ino, os.stat(self.path).st_ino)

    def test_maintenance_closes_the_region(self):
        code, out, _ = self.run_cli('--at', MAINTENANCE)
        self.assertEqual(0, code)
        self.assertIn('section linaro-cn1 resource-limits.instances: 8 -> 0',
                      out)

    def test_without_commit_only_edits(self):
        head = self.head()
        code, out, _ = self.run_cli('--at', PEAK, commit=False)
        self.assertEqual(0, code)
        self.assertIn('written', out)
        self.assertEqual(head, self.head())
        self.assertIn('instances: 40', self.read())

    def test_limit_on_the_provider_stanza_wins(self):
        self.write(self.original.replace(
            '    name: linaro-us\n    section: linaro-us\n',
            '    name: linaro-us\n    section: linaro-us\n'
            '    resource-limits:\n      instances: 12\n'))
        code, out, _ = self.run_cli('--at', PEAK, commit=False)
        self.assertEqual(0, code)
        self.assertIn('provider linaro-us resource-limits.instances: 12 -> 40',
                      out)
        self.assertIn('      instances: 30\n', self.read())

    def assertUnusable(self, text, expected, *args, committed=True):
        self.write(text)
        if committed and text != self.original:
            git(self.checkout, 'commit', '-q', '-am', 'Edited by hand')
        head = self.head()
        code, out, err = self.run_cli('--at', PEAK, *args)
        self.assertEqual(2, code)
        self.assertEqual(1, len(err.strip().splitlines()), err)
        self.assertIn(expected, err)
        self.assertNotIn('Traceback', err)
        self.assertEqual(text, self.read())
        self.assertEqual(head, self.head())

    def test_missing_provider_is_unusable(self):
        text = self.original.replace('    name: linaro-london\n'
                                     '    section: linaro-london\n',
                                     '    name: elsewhere\n'
                                     '    section: linaro-london\n')
        self.assertUnusable(text, 'no provider stanza named linaro-london')

    def test_limit_that_is_not_an_integer(self):
        text = self.original.replace('instances: 30', 'instances: lots')
        line = text[:text.index('instances: lots')].count('\n') + 1
        self.assertUnusable(text, f'{self.path}:{line}: section linaro-us '
                            'resource-limits.instances: expected an integer')

    def test_min_ready_needed_but_absent(self):
        text = self.original.replace(
            '    name: ubuntu-bionic-arm64\n    image: ubuntu-bionic-arm64\n'
            '    flavor: arm64-large\n    min-ready: 0\n',
            '    name: ubuntu-bionic-arm64\n    image: ubuntu-bionic-arm64\n'
            '    flavor: arm64-large\n')
        self.assertUnusable(text, 'label ubuntu-bionic-arm64 has no '
                            'min-ready to set to 1')

    def test_failed_commit_leaves_the_checkout_as_it_was(self):
        hook = os.path.join(self.checkout, '.git', 'hooks', 'pre-commit')
        with open(hook, 'w') as f:
            f.write('#!/bin/sh\necho refused by policy >&2\nexit 1\n')
        os.chmod(hook, 0o755)
        self.assertUnusable(self.original, 'git commit failed: refused by '
                            'policy')
        self.assertEqual('', git(self.checkout, 'status', '--porcelain'))

    def test_not_a_checkout(self):
        os.rename(os.path.join(self.checkout, '.git'),
                  os.path.join(self.checkout, 'not-git'))
        code, _, err = self.run_cli('--at', PEAK)
        self.assertEqual(2, code)
        self.assertIn('not a git checkout', err)
        self.assertEqual(self.original, self.read())

    def test_a_run_killed_before_its_commit_is_completed_by_the_next(self):
        # Killed between writing the file and committing it: the values
        # are in the file, HEAD does not have them.
        head = self.head()
        self.run_cli('--at', PEAK, commit=False)
        code, out, err = self.run_cli('--at', PEAK)
        self.assertEqual(0, code, err)
        self.assertIn('committed', out)
        self.assertIn('section linaro-us resource-limits.instances: 30 -> 40',
                      out)
        self.assertNotEqual(head, self.head())
        self.assertIn('+      instances: 40', self.changed_lines())
        self.assertEqual('', git(self.checkout, 'status', '--porcelain'))
        # And then there is nothing left to do.
        head = self.head()
        code, out, _ = self.run_cli('--at', PEAK)
        self.assertIn('unchanged', out)
        self.assertEqual(head, self.head())

    def test_a_lock_left_by_a_killed_git_is_cleared(self):
        lock = os.path.join(self.checkout, '.git', 'index.lock')
        open(lock, 'w').close()
        # A fresh lock may be a git still running: refused, untouched.
        code, _, err = self.run_cli('--at', PEAK)
        self.assertEqual(2, code)
        self.assertIn('index.lock', err)
        self.assertEqual(self.original, self.read())
        self.assertTrue(os.path.exists(lock))
        old = os.stat(lock).st_mtime - 3600
        os.utime(lock, (old, old))
        code, out, err = self.run_cli('--at', PEAK)
        self.assertEqual(0, code, err)
        self.assertIn('committed', out)
        self.assertFalse(os.path.exists(lock))
        self.assertEqual('', git(self.checkout, 'status', '--porcelain'))

    def test_kill_9_during_the_commit_leaves_a_checkout_the_next_run_fixes(
            self):
        hook = os.path.join(self.checkout, '.git', 'hooks', 'pre-commit')
        marker = os.path.join(self.checkout, '.git', 'in-commit')
        with open(hook, 'w') as f:
            f.write(f'#!/bin/sh\ntouch {marker}\nsleep 60\n')
        os.chmod(hook, 0o755)
        command = os.path.join(os.path.dirname(sys.executable),
                               'nodepool-aarch64')
        proc = subprocess.Popen(
            [command, 'capacity', 'apply-zuul-launcher', '--checkout',
             self.checkout, '--at', PEAK, '--commit'],
            start_new_session=True, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)
        self.addCleanup(proc.wait)
        deadline = time.monotonic() + 60
        while not os.path.exists(marker) and time.monotonic() < deadline:
            time.sleep(0.1)
        self.assertTrue(os.path.exists(marker))
        head = self.head()
        # The whole process group, git and its hook included.
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        os.unlink(hook)
        # Killed mid-commit: the file has the new values, HEAD does not.
        self.assertIn('instances: 40', self.read())
        self.assertEqual(head, self.head())
        lock = os.path.join(self.checkout, '.git', 'index.lock')
        if os.path.exists(lock):
            old = os.stat(lock).st_mtime - 3600
            os.utime(lock, (old, old))
        code, out, err = self.run_cli('--at', PEAK)
        self.assertEqual(0, code, err)
        self.assertIn('committed', out)
        self.assertIn('+      instances: 40', self.changed_lines())
        self.assertEqual('', git(self.checkout, 'status', '--porcelain'))

    def test_byte_order_mark_does_not_shift_the_edits(self):
        self.write('\ufeff' + self.original)
        git(self.checkout, 'commit', '-q', '-am', 'With a BOM')
        code, out, err = self.run_cli('--at', PEAK)
        self.assertEqual(0, code, err)
        self.assertEqual(['+    min-ready: 1', '+      instances: 40',
                          '-    min-ready: 0', '-      instances: 30'],
                         sorted(self.changed_lines(), key=lambda s: s[0]))
        self.assertTrue(self.read().startswith('\ufeff# Site note'))

    def test_integers_in_every_form_yaml_reads(self):
        # zuul-launcher reads YAML 1.1: 0x1E, 036 and 3_0 are 30, 1:30
        # (sexagesimal) is 90.
        for form, value in (('0x1E', 30), ('036', 30), ('3_0', 30),
                            ('1:30', 90)):
            self.write(self.original.replace('instances: 30',
                                             f'instances: {form}'))
            code, out, err = self.run_cli('--at', PEAK, commit=False)
            self.assertEqual(0, code, err)
            self.assertIn(f'resource-limits.instances: {value} -> 40', out)
            self.assertIn('instances: 40', self.read())

    def test_integers_that_cannot_be_read(self):
        for form in ('!!int abc', '1' * 5000, '!!int ""'):
            text = self.original.replace('instances: 30',
                                         f'instances: {form}')
            self.assertUnusable(text, 'section linaro-us '
                                'resource-limits.instances: expected an '
                                'integer')

    def test_uncommitted_edits_of_the_file_are_not_committed(self):
        text = self.original + '# A local edit nobody reviewed.\n'
        self.assertUnusable(text, 'uncommitted changes', committed=False)

    def test_a_file_outside_the_checkout_is_refused(self):
        outside = self.useFixture(fixtures.TempDir()).path
        target = os.path.join(outside, 'zuul-launcher.yaml')
        with open(target, 'w') as f:
            f.write(self.original)
        for name in (os.path.relpath(target, self.checkout),
                     'zuul.d/link.yaml'):
            if name.endswith('link.yaml'):
                os.symlink(target, os.path.join(self.checkout, name))
            code, _, err = self.run_cli('--at', PEAK, '--file', name)
            self.assertEqual(2, code, err)
            self.assertIn('outside the checkout', err)
        with open(target) as f:
            self.assertEqual(self.original, f.read())

    def test_failed_commit_keeps_the_files_inode(self):
        hook = os.path.join(self.checkout, '.git', 'hooks', 'pre-commit')
        with open(hook, 'w') as f:
            f.write('#!/bin/sh\nexit 1\n')
        os.chmod(hook, 0o755)
        # Held open, the file's inode cannot be reused by a new file.
        with open(self.path) as held:
            code, _, err = self.run_cli('--at', PEAK)
            self.assertEqual(2, code, err)
            self.assertEqual(os.fstat(held.fileno()).st_ino,
                             os.stat(self.path).st_ino)
        self.assertEqual(self.original, self.read())
        self.assertEqual(['zuul-launcher.yaml'],
                         os.listdir(os.path.dirname(self.path)))
