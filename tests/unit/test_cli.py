"""The command line: help, render, --check, and unusable input."""

import json
import os
import shutil
import subprocess
import sys

import hypothesis
from hypothesis import strategies as st
import yaml

from nodepool_aarch64 import cli
from nodepool_aarch64.inventory import DEFAULT_INVENTORY
from tests import base


def subcommand_paths(parser, prefix=()):
    """Every subcommand path, e.g. ('capacity', 'apply')."""
    for action in parser._actions:
        if action.__class__.__name__ == '_SubParsersAction':
            for name, sub in action.choices.items():
                yield prefix + (name,)
                yield from subcommand_paths(sub, prefix + (name,))


class TestHelp(base.TestCase):

    def test_every_subcommand_explains_itself(self):
        paths = list(subcommand_paths(cli.build_parser()))
        self.assertIn(('render',), paths)
        for path in [()] + paths:
            code, out, err = self.run_cli(*path, '--help')
            self.assertEqual(0, code, path)
            self.assertIn('usage: nodepool-aarch64', out)
            # More than a usage line: a description of what it does.
            self.assertGreater(len(out.splitlines()), 6, path)


class TestUsageErrors(base.TestCase):

    def test_usage_error_is_one_line_exit_2_on_every_subcommand(self):
        paths = list(subcommand_paths(cli.build_parser()))
        for path in [()] + paths:
            code, out, err = self.run_cli(*path, '--no-such-option')
            self.assertEqual(2, code, path)
            self.assertEqual('', out)
            self.assertEqual(1, len(err.splitlines()), (path, err))
            self.assertIn('--help', err)

    def test_empty_path_is_refused_not_defaulted(self):
        parser = cli.build_parser()
        checked = 0
        for path in subcommand_paths(parser):
            sub = parser
            for name in path:
                sub = next(a for a in sub._actions
                           if a.__class__.__name__ == '_SubParsersAction'
                           ).choices[name]
            for action in sub._actions:
                if action.metavar not in cli.PATH_METAVARS:
                    continue
                argv = [*path, *action.option_strings[:1], '']
                code, out, err = self.run_cli(*argv)
                self.assertEqual(2, code, argv)
                self.assertIn('empty path', err, argv)
                checked += 1
        # render --inventory/--output-dir/--repo, check PATH/--inventory,
        # and the capacity commands' files at least.
        self.assertGreater(checked, 8)

    def test_empty_inventory_path_is_not_the_shipped_one(self):
        from nodepool_aarch64.errors import InputError
        from nodepool_aarch64.inventory import load_inventory
        self.assertRaises(InputError, load_inventory, '')

    def test_bad_choice_names_option_and_choices(self):
        code, _, err = self.run_cli('check', '--format', 'xml', 'x')
        self.assertEqual(2, code)
        self.assertEqual(1, len(err.splitlines()), err)
        self.assertIn("argument --format: invalid choice: 'xml'", err)


class TestRender(base.TestCase):

    def test_render_writes_every_file_and_a_table(self):
        out = self.tempdir()
        code, stdout, _ = self.run_cli('render', '--output-dir', out)
        self.assertEqual(0, code)
        for rel in ('nodepool/nl03.opendev.org.yaml',
                    'nodepool/nb03.opendev.org.yaml',
                    'zuul.d/nodesets.yaml', 'zuul.d/zuul-launcher.yaml'):
            self.assertTrue(os.path.exists(os.path.join(out, rel)), rel)
        self.assertIn('ubuntu-bionic-arm64', stdout)
        self.assertRegex(stdout, r'linaro-cn1')
        self.assertRegex(stdout, r'bound by\s+max-servers\s+instances\s+'
                                 r'floating-ips')

    def test_json_says_what_was_written_and_the_sizes(self):
        out = self.tempdir()
        code, stdout, err = self.run_cli('render', '--output-dir', out,
                                         '--format', 'json')
        self.assertEqual(0, code, err)
        data = json.loads(stdout)
        self.assertEqual(out, data['directory'])
        self.assertIn('zuul.d/nodesets.yaml', data['files'])
        self.assertEqual(data['files'], data['changed'])
        self.assertEqual(30, data['max_servers']['ubuntu-bionic-arm64'][
            'linaro-us'])
        # A provider that does not offer the label is left out.
        self.assertNotIn('linaro-cn1',
                         data['max_servers']['ubuntu-noble-arm64-large'])
        self.assertEqual('floating-ips', data['bound_by']['linaro-cn1'])
        code, stdout, _ = self.run_cli('render', '--output-dir', out,
                                       '--format', 'json')
        self.assertEqual([], json.loads(stdout)['changed'])

    def test_unwritable_output_is_one_line_exit_2(self):
        blocker = self.write(self.tempdir(), 'a-file', '')
        code, stdout, err = self.run_cli(
            'render', '--output-dir', os.path.join(blocker, 'out'))
        self.assertEqual(2, code)
        self.assertEqual('', stdout)
        self.assertEqual(1, len(err.splitlines()), err)
        self.assertIn('cannot write: Not a directory', err)

    def test_unchanged_files_are_not_touched(self):
        out = self.tempdir()
        self.run_cli('render', '--output-dir', out)
        path = os.path.join(out, 'zuul.d', 'nodesets.yaml')
        before = os.stat(path)
        code, stdout, _ = self.run_cli('render', '--output-dir', out)
        self.assertIn('0 changed', stdout)
        after = os.stat(path)
        self.assertEqual((before.st_ino, before.st_mtime_ns),
                         (after.st_ino, after.st_mtime_ns))

    def test_check_reports_stale_file(self):
        out = self.tempdir()
        self.run_cli('render', '--output-dir', out)
        self.assertEqual(0, self.run_cli('render', '--output-dir', out,
                                         '--check')[0])
        path = os.path.join(out, 'zuul.d', 'nodesets.yaml')
        with open(path, 'a') as f:
            f.write('# hand edit\n')
        code, _, err = self.run_cli('render', '--output-dir', out, '--check')
        self.assertEqual(1, code)
        self.assertIn(path + ': stale', err)
        self.assertNotIn('nl03', err)

    def test_repo_generated_files_are_in_sync(self):
        code, _, err = self.run_cli('render', '--repo', base.REPO, '--check')
        self.assertEqual(0, code, err)


def _inventory():
    with open(DEFAULT_INVENTORY) as f:
        return yaml.safe_load(f)


SHIPPED = _inventory()
PATHS = [p for p in base.key_paths(SHIPPED) if p]
JUNK = st.one_of(st.none(), st.integers(-5, 10 ** 6), st.text(max_size=8),
                 st.booleans(), st.lists(st.integers(), max_size=2),
                 st.dictionaries(st.text(max_size=4), st.integers(),
                                 max_size=2), st.floats(allow_nan=False))


def _set(doc, path, value):
    node = doc
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value


def _delete(doc, path):
    node = doc
    for part in path[:-1]:
        node = node[part]
    del node[path[-1]]


@st.composite
def malformed(draw):
    """The shipped inventory with one or two damaging edits."""
    import copy
    doc = copy.deepcopy(SHIPPED)
    for _ in range(draw(st.integers(1, 2))):
        path = draw(st.sampled_from(PATHS))
        kind = draw(st.sampled_from(['junk', 'delete', 'unknown-key']))
        try:
            if kind == 'junk':
                _set(doc, path, draw(JUNK))
            elif kind == 'delete':
                _delete(doc, path)
            else:
                _set(doc, path[:-1] + ('bogus-key',), 1)
        except (KeyError, IndexError, TypeError):
            continue
    return doc


class TestMalformedInventories(base.TestCase):

    def test_bad_inventories_one_line_exit_2_nothing_written(self):
        work = self.tempdir()
        inventory = os.path.join(work, 'inventory.yaml')
        out = os.path.join(work, 'out')
        rejected = 0

        @hypothesis.settings(max_examples=300, deadline=None, database=None,
                             suppress_health_check=list(
                                 hypothesis.HealthCheck))
        @hypothesis.given(malformed())
        def render(doc):
            nonlocal rejected
            with open(inventory, 'w') as f:
                yaml.safe_dump(doc, f, sort_keys=False)
            shutil.rmtree(out, ignore_errors=True)
            code, _, err = self.run_cli('render', '--inventory', inventory,
                                        '--output-dir', out)
            if code == 0:
                return  # some edits are harmless (a larger quota, a name)
            rejected += 1
            self.assertEqual(2, code, err)
            self.assertEqual(1, len(err.splitlines()), err)
            self.assertIn(inventory + ':', err)
            self.assertNotIn('Traceback', err)
            self.assertFalse(os.path.exists(out), 'output written on error')

        render()
        # Harmless edits pass; the property must still have been checked
        # on at least 200 inventories that the loader refused.
        self.assertGreaterEqual(rejected, 200)


class TestProcessExit(base.TestCase):

    def test_real_process_prints_one_line_and_exits_2(self):
        work = self.tempdir()
        bad = self.write(work, 'bad.yaml', 'flavors: [\n')
        proc = subprocess.run(
            [sys.executable, '-m', 'nodepool_aarch64.cli', 'render',
             '--inventory', bad, '--output-dir', os.path.join(work, 'o')],
            capture_output=True, text=True, cwd=base.REPO)
        self.assertEqual(2, proc.returncode)
        self.assertEqual(1, len(proc.stderr.splitlines()), proc.stderr)
        self.assertRegex(proc.stderr, r'bad\.yaml:\d+: invalid YAML')
        self.assertEqual('', proc.stdout)
