"""Atomic writes: all files or none, and no stray temporary files."""

import os

from nodepool_aarch64.render.write import atomic_write, write_files
from tests import base


class TestWriteFiles(base.TestCase):

    def test_failure_part_way_replaces_nothing(self):
        root = self.tempdir()
        write_files(root, {'a.yaml': 'old a\n', 'b.yaml': 'old b\n'})
        os.makedirs(os.path.join(root, 'dir.yaml'))
        self.write(root, 'file', 'x')
        # Fails after a.yaml and b.yaml have been staged: a directory
        # where a file should go, or a file where a directory should.
        for bad in ('dir.yaml', 'file/x.yaml'):
            files = {'a.yaml': 'new a\n', 'b.yaml': 'new b\n', bad: '!\n'}
            self.assertRaises(OSError, write_files, root, files)
            for name, text in (('a.yaml', 'old a\n'),
                               ('b.yaml', 'old b\n')):
                with open(os.path.join(root, name)) as f:
                    self.assertEqual(text, f.read())
            self.assertEqual(['a.yaml', 'b.yaml', 'dir.yaml', 'file'],
                             sorted(os.listdir(root)))

    def test_atomic_write_keeps_mode_and_leaves_no_temp(self):
        root = self.tempdir()
        path = os.path.join(root, 'nl.yaml')
        atomic_write(path, 'one\n')
        os.chmod(path, 0o640)
        atomic_write(path, 'two\n')
        with open(path) as f:
            self.assertEqual('two\n', f.read())
        self.assertEqual(0o640, os.stat(path).st_mode & 0o777)
        self.assertEqual(['nl.yaml'], os.listdir(root))

    def test_returns_only_changed_paths(self):
        root = self.tempdir()
        write_files(root, {'a': '1\n', 'b': '2\n'})
        changed = write_files(root, {'a': '1\n', 'b': '3\n'})
        self.assertEqual([os.path.join(root, 'b')], changed)
