"""``nodepool-aarch64 check`` as a user runs it: exit codes, formats, and
hostile input answered with one line, in bounded time and memory."""

import dataclasses
import json
import os
import resource
import subprocess
import sys
import time

import fixtures
import testtools
import yaml

from tests import base as tbase
from tests.unit import test_check_rules as base

# Generous for a 2-core CI machine; a runaway parse takes minutes.
TIME_LIMIT = 60
MEMORY_LIMIT_KIB = 1024 * 1024


def run_cli(*args):
    start = time.monotonic()
    proc = subprocess.run(
        [sys.executable, '-m', 'nodepool_aarch64.cli', 'check'] +
        list(args), capture_output=True, text=True, timeout=TIME_LIMIT * 2,
        cwd=tbase.REPO)
    return proc, time.monotonic() - start


class TestCli(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.dir = self.useFixture(fixtures.TempDir()).path

    def write(self, name, data, mode='w'):
        path = os.path.join(self.dir, name)
        with open(path, mode) as f:
            if isinstance(data, (str, bytes)):
                f.write(data)
            else:
                yaml.safe_dump(data, f)
        return path

    def assertUnusable(self, proc, elapsed, path, expect):
        self.assertEqual(2, proc.returncode, proc.stderr)
        self.assertEqual('', proc.stdout)
        lines = proc.stderr.splitlines()
        self.assertEqual(1, len(lines), proc.stderr)
        self.assertNotIn('Traceback', proc.stderr)
        self.assertIn(path, lines[0])
        self.assertIn(expect, lines[0])
        self.assertLess(elapsed, TIME_LIMIT)
        maxrss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        self.assertLess(maxrss, MEMORY_LIMIT_KIB)

    def test_clean_set_exits_zero(self):
        paths = [self.write('nl.yaml', base.LAUNCHER),
                 self.write('nb.yaml', base.BUILDER),
                 self.write('zuul.yaml', base.ZUUL)]
        proc, _ = run_cli(*paths)
        self.assertEqual(0, proc.returncode, proc.stdout + proc.stderr)
        self.assertEqual('', proc.stdout)
        self.assertIn('0 error(s), 0 warning(s) in 3 file(s)', proc.stderr)

    def test_error_findings_exit_one_in_compiler_format(self):
        zuul = [{'nodeset': {'name': 'n', 'nodes': [
            {'name': 'a', 'label': 'missing-arm64'}]}}]
        paths = [self.write('nl.yaml', base.LAUNCHER),
                 self.write('zuul.yaml', zuul)]
        proc, _ = run_cli(*paths)
        self.assertEqual(1, proc.returncode)
        self.assertRegex(proc.stdout.strip(),
                         r'^.*/zuul\.yaml:4:\d+: NPA010 error: nodeset n '
                         r'asks for label missing-arm64')

    def test_names_cannot_forge_findings_or_reach_the_terminal(self):
        forged = 'x\n/etc/nodepool/nl.yaml:1:1: NPA999 error: FORGED-arm64'
        zuul = [{'nodeset': {'name': 'n', 'nodes': [
            {'name': 'a', 'label': forged}]}},
            {'nodeset': {'name': 'm', 'nodes': [
                {'name': 'a', 'label': 'esc\x1b]0;t\x07\x1b[31mred-arm64'}]}}]
        paths = [self.write('nl.yaml', base.LAUNCHER),
                 self.write('zuul.yaml', zuul)]
        proc, _ = run_cli(*paths)
        self.assertEqual(1, proc.returncode)
        lines = proc.stdout.splitlines()
        self.assertFalse([x for x in lines if x.startswith('/etc/')], lines)
        self.assertEqual(2, len([x for x in lines if 'NPA010' in x]), lines)
        self.assertNotIn('\x1b', proc.stdout)
        self.assertIn('\\x1b', proc.stdout)

    def test_warnings_only_exit_zero(self):
        launcher = base.LAUNCHER.copy()
        launcher['labels'] = [dict(x, **{'min-ready': 1})
                              for x in launcher['labels']]
        proc, _ = run_cli(self.write('nl.yaml', launcher))
        self.assertEqual(0, proc.returncode)
        self.assertIn('NPA030 warning', proc.stdout)

    def test_json_has_the_same_fields(self):
        zuul = [{'nodeset': {'name': 'n', 'nodes': [
            {'name': 'a', 'label': 'missing-arm64'}]}}]
        paths = [self.write('nl.yaml', base.LAUNCHER),
                 self.write('zuul.yaml', zuul)]
        proc, _ = run_cli('--format', 'json', *paths)
        self.assertEqual(1, proc.returncode)
        data = json.loads(proc.stdout)
        finding, = data['findings']
        self.assertEqual({'path', 'line', 'col', 'code', 'severity',
                          'message'}, set(finding))
        self.assertEqual(('NPA010', 'error', 4),
                         (finding['code'], finding['severity'],
                          finding['line']))
        self.assertEqual(['NPA052', 'NPA053', 'NPA054', 'NPA060'],
                         data['skipped'])

    def test_verbose_says_which_rules_were_skipped(self):
        proc, _ = run_cli('-v', self.write('nl.yaml', base.LAUNCHER))
        self.assertIn('note: NPA060 skipped: needs cloud facts',
                      proc.stderr)

    def test_inventory_enables_fact_rules(self):
        launcher = base.LAUNCHER.copy()
        launcher['providers'] = [dict(launcher['providers'][0])]
        launcher['providers'][0]['pools'] = [
            dict(launcher['providers'][0]['pools'][0], **{
                'max-servers': 500})]
        proc, _ = run_cli('--format', 'json', '--inventory',
                          os.path.join('nodepool_aarch64', 'data',
                                       'linaro.yaml'),
                          self.write('nl.yaml', launcher))
        data = json.loads(proc.stdout)
        self.assertEqual([], data['skipped'])
        self.assertIn('NPA060', {f['code'] for f in data['findings']})
        self.assertEqual(1, proc.returncode)

    def test_help_lists_every_code(self):
        proc = subprocess.run(
            [sys.executable, '-m', 'nodepool_aarch64.cli', 'check',
             '--help'], capture_output=True, text=True, timeout=60)
        self.assertEqual(0, proc.returncode)
        from nodepool_aarch64.check import rules
        for code, severity, doc in rules.all_codes():
            self.assertIn(code, proc.stdout)
            self.assertIn(doc.split()[0], proc.stdout)

    def test_malformed_yaml(self):
        path = self.write('bad.yaml', 'providers:\n  - name: [x\n')
        self.assertUnusable(*run_cli(path), path, 'invalid YAML')

    def test_alias_bomb(self):
        lines = ['a0: &a0 ["x", "x", "x", "x", "x", "x", "x", "x", "x"]']
        for i in range(1, 12):
            prev = f'*a{i - 1}'
            lines.append(f'a{i}: &a{i} [{", ".join([prev] * 9)}]')
        lines.append('labels: *a11')
        path = self.write('bomb.yaml', '\n'.join(lines) + '\n')
        self.assertUnusable(*run_cli(path), path,
                            'counting each alias as a copy')

    def test_non_mapping_documents(self):
        for name, text in (('list.yaml', '- a\n- b\n'),
                           ('scalar.yaml', 'just text\n'),
                           ('other.yaml', 'clouds: {}\n')):
            path = self.write(name, text)
            self.assertUnusable(*run_cli(path), path,
                                'expected a Nodepool config')

    def test_binary_file(self):
        path = self.write('image.yaml', b'\x7fELF\x00\x01\x02' * 100, 'wb')
        self.assertUnusable(*run_cli(path), path, 'binary file')

    def test_huge_file(self):
        path = self.write('huge.yaml', '# padding\n' * (1024 * 1024))
        self.assertUnusable(*run_cli(path), path, 'limit is')

    def test_deep_nesting(self):
        path = self.write('deep.yaml', '[' * 50000 + ']' * 50000 + '\n')
        proc, elapsed = run_cli(path)
        self.assertUnusable(proc, elapsed, path, 'YAML')

    def test_device_and_fifo(self):
        self.assertUnusable(*run_cli('/dev/zero'), '/dev/zero',
                            'not a regular file')
        fifo = os.path.join(self.dir, 'pipe.yaml')
        os.mkfifo(fifo)
        os.symlink('/dev/zero', os.path.join(self.dir, 'zero.yaml'))
        self.write('nl.yaml', base.LAUNCHER)
        proc, elapsed = run_cli('-v', self.dir)
        self.assertEqual(0, proc.returncode, proc.stderr)
        self.assertIn('pipe.yaml: not a regular file, skipped', proc.stderr)
        self.assertIn('zero.yaml: not a regular file, skipped', proc.stderr)
        self.assertLess(elapsed, TIME_LIMIT)

    def test_missing_path(self):
        path = os.path.join(self.dir, 'nope')
        self.assertUnusable(*run_cli(path), path,
                            'no such file or directory')

    def test_directory_without_configs(self):
        self.write('clouds.yaml', {'clouds': {}})
        self.assertUnusable(*run_cli(self.dir), self.dir,
                            'no Nodepool or Zuul config files')

    def test_hostile_file_inside_a_directory(self):
        self.write('nl.yaml', base.LAUNCHER)
        path = self.write('zz.yaml', 'labels: [\n')
        self.assertUnusable(*run_cli(self.dir), path, 'invalid YAML')

    def test_schema_garbage_is_findings_not_a_crash(self):
        path = self.write('nl.yaml', {
            'labels': [{'min-ready': 1}],
            'providers': [{'name': 'p', 'cloud': 'c', 'pools': 'main',
                           'diskimages': [{'name': 3}]}, 'text', 5]})
        proc, _ = run_cli(path)
        self.assertEqual(1, proc.returncode, proc.stderr)
        self.assertNotIn('Traceback', proc.stderr)
        self.assertIn('NPA001 error', proc.stdout)


class TestDocs(testtools.TestCase):

    def test_doc_page_lists_every_code(self):
        from nodepool_aarch64.check import rules
        path = os.path.join(tbase.REPO, 'doc', 'source', 'check.rst')
        with open(path) as f:
            text = f.read()
        for code, severity, _ in rules.all_codes():
            self.assertRegex(text, rf'\n{code}\s+{severity}\s')


class TestRuleCrash(tbase.TestCase):
    """A rule that raises is the checker's fault, not the user's input."""

    def setUp(self):
        super().setUp()
        from nodepool_aarch64.check import rules

        def boom(configset, context):
            raise TypeError('rule bug')

        patched = dict(rules.RULES)
        patched['NPA017'] = dataclasses.replace(rules.RULES['NPA017'],
                                                func=boom)
        self.useFixture(fixtures.MonkeyPatch(
            'nodepool_aarch64.check.rules.RULES', patched))
        d = self.tempdir()
        zuul = [{'nodeset': {'name': 'n', 'nodes': [
            {'name': 'a', 'label': 'missing-arm64'}]}}]
        self.paths = []
        for name, data in (('nl.yaml', base.LAUNCHER), ('zuul.yaml', zuul)):
            self.paths.append(os.path.join(d, name))
            with open(self.paths[-1], 'w') as f:
                yaml.safe_dump(data, f)

    def test_other_findings_still_printed_with_exit_3(self):
        code, out, err = self.run_cli('check', *self.paths)
        self.assertEqual(3, code)
        self.assertIn('NPA010 error', out)
        self.assertIn('internal error: rule NPA017 failed (TypeError: '
                      'rule bug)', err)
        self.assertNotIn('Traceback', err)

    def test_traceback_under_verbose_and_listed_in_json(self):
        code, out, err = self.run_cli('check', '-v', *self.paths)
        self.assertEqual(3, code)
        self.assertIn('Traceback', err)
        code, out, err = self.run_cli('check', '--format', 'json',
                                      *self.paths)
        self.assertEqual(3, code)
        self.assertEqual([{'rule': 'NPA017', 'error': 'TypeError: rule bug'}],
                         json.loads(out)['internal-errors'])
