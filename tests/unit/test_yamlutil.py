"""YAML reading: values PyYAML parses but cannot build are input errors."""

import os

from nodepool_aarch64.errors import InputError
from nodepool_aarch64.formats import yamlutil
from tests import base

UNBUILDABLE = {
    'impossible date': '2026-02-30',
    'month 13': '2026-13-01 00:00:00',
    'int tag on a word': '!!int abc',
    'float tag on a word': '!!float abc',
    'bool tag on a word': '!!bool maybe',
    'timestamp tag on a word': '!!timestamp foo',
    'integer past the conversion limit': '9' * 5000,
    'int tag on an empty string': "!!int ''",
    'float tag on an empty string': "!!float ''",
}


class TestStrict(base.TestCase):
    """The project's own formats refuse a repeated key, all alike."""

    def test_inventory_and_facts_name_the_repeat_the_same_way(self):
        from nodepool_aarch64 import cloudfacts
        from nodepool_aarch64.inventory import load_inventory
        d = self.tempdir()
        for load, key in ((load_inventory, 'flavors'),
                          (cloudfacts.load, 'clouds')):
            path = self.write(d, 'x.yaml', f'{key}: []\n{key}: []\n')
            e = self.assertRaises(InputError, load, path)
            self.assertEqual(f'{path}:2: {key}: duplicate key (first at '
                             f'line 1)', str(e))


class TestUnbuildableValues(base.TestCase):

    def test_each_is_one_line_naming_the_line(self):
        d = self.tempdir()
        for what, value in UNBUILDABLE.items():
            path = self.write(d, 'x.yaml',
                              f'flavors:\n  - name: x\n    vcpus: {value}\n')
            e = self.assertRaises(InputError, yamlutil.load_single, path)
            self.assertEqual(3, e.line, what)
            self.assertEqual(1, len(str(e).splitlines()), what)
            self.assertIn('cannot read', str(e), what)

    def test_every_command_reading_yaml_exits_2_without_traceback(self):
        d = self.tempdir()
        path = self.write(d, 'inv.yaml', 'flavors:\n  - {vcpus: 2026-02-30}\n')
        out = os.path.join(d, 'out')
        for argv in (('render', '--inventory', path, '--output-dir', out),
                     ('check', path),
                     ('check', '--inventory', path, path),
                     ('capacity', 'simulate', '--inventory', path),
                     ('capacity', 'apply', '--inventory', path,
                      '--output', os.path.join(d, 'nodepool.yaml'))):
            code, _, err = self.run_cli(*argv)
            self.assertIn(code, (1, 2), argv)
            self.assertNotIn('Traceback', err, argv)
            if code == 2:
                self.assertEqual(1, len(err.splitlines()), (argv, err))
        self.assertFalse(os.path.exists(out))
        self.assertFalse(os.path.exists(os.path.join(d, 'nodepool.yaml')))

    def test_good_values_still_build(self):
        d = self.tempdir()
        path = self.write(d, 'x.yaml', 'a: 2026-02-28\nb: !!int "12"\n')
        data, _ = yamlutil.load_single(path)
        self.assertEqual(12, data['b'])
        self.assertEqual(2026, data['a'].year)


class TestMergeKeys(base.TestCase):

    def duplicates(self, text):
        path = self.write(self.tempdir(), 'x.yaml', text)
        _, dups = yamlutil.load_single(path)
        return [(d.key, d.line) for d in dups]

    def test_overriding_a_merged_key_is_not_a_duplicate(self):
        self.assertEqual([], self.duplicates(
            'base: &b\n  a: 1\n  b: 2\nuse:\n  <<: *b\n  a: 3\n'))

    def test_duplicate_inside_a_merge_source_is_reported(self):
        # The source mapping's own keys were once taken as merged ones.
        self.assertEqual([('a', 3)], self.duplicates(
            'base: &b\n  a: 1\n  a: 2\nuse:\n  <<: *b\n  c: 3\n'))

    def test_duplicate_beside_a_merge_is_reported(self):
        self.assertEqual([('c', 6)], self.duplicates(
            'base: &b\n  a: 1\nuse:\n  <<: *b\n  c: 3\n  c: 4\n'))

    def test_merge_source_with_its_own_merge_and_override(self):
        self.assertEqual([], self.duplicates(
            'one: &o\n  a: 1\ntwo: &t\n  <<: *o\n  a: 2\n'
            'three:\n  <<: *t\n  a: 3\n'))


class TestByteOrderMark(base.TestCase):
    """A byte-order mark is an encoding marker, not text: every reader
    sees the same characters, so columns and offsets agree."""

    def test_the_mark_is_not_part_of_the_text(self):
        from nodepool_aarch64.formats import configset
        path = os.path.join(self.tempdir(), 'nl.yaml')
        with open(path, 'wb') as f:
            f.write(b'\xef\xbb\xbflabels:\n  - name: x-arm64\n')
        self.assertEqual('labels:\n  - name: x-arm64\n',
                         yamlutil.read_text(path))
        self.assertEqual(('\ufeff', 'labels:\n  - name: x-arm64\n'),
                         yamlutil.read_text_and_bom(path))
        source, = configset.load([path]).nodepool
        self.assertEqual(1, source.column(1, 'labels'))
