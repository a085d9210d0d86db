"""Atomic writes: all files or none, and no stray temporary files."""

import os

import fixtures

from nodepool_aarch64.formats.write import atomic_write, write_files
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


class TestAllOrNothing(base.TestCase):

    def _read(self, root, name):
        with open(os.path.join(root, name)) as f:
            return f.read()

    def test_failed_rename_puts_back_what_was_replaced(self):
        root = self.tempdir()
        write_files(root, {'a': 'old a\n', 'b': 'old b\n', 'c': 'old c\n'})
        real_replace = os.replace
        calls = []

        def replace(src, dst):
            calls.append(dst)
            # The third file's rename fails, as it does for an
            # unprivileged user in a sticky directory.
            if dst.endswith('/c') and src.endswith('.tmp'):
                raise PermissionError(1, 'Operation not permitted', dst)
            return real_replace(src, dst)

        self.useFixture(fixtures.MonkeyPatch('os.replace', replace))
        self.assertRaises(PermissionError, write_files, root,
                          {'a': 'new a\n', 'b': 'new b\n', 'c': 'new c\n'})
        self.assertEqual(['old a\n', 'old b\n', 'old c\n'],
                         [self._read(root, n) for n in 'abc'])
        self.assertEqual(['a', 'b', 'c'], sorted(os.listdir(root)))

    def test_new_files_are_removed_when_a_later_rename_fails(self):
        root = self.tempdir()
        real_replace = os.replace

        def replace(src, dst):
            if dst.endswith('/z'):
                raise PermissionError(1, 'Operation not permitted', dst)
            return real_replace(src, dst)

        self.useFixture(fixtures.MonkeyPatch('os.replace', replace))
        self.assertRaises(PermissionError, write_files,
                          os.path.join(root, 'out'),
                          {'sub/a': 'a\n', 'z': 'z\n'})
        # Nor is any directory the failed write created left behind.
        self.assertEqual([], os.listdir(root))

    def test_fifo_in_place_of_an_output_is_refused_untouched(self):
        root = self.tempdir()
        os.mkfifo(os.path.join(root, 'b'))
        self.assertRaises(OSError, write_files, root, {'a': '1\n', 'b': '2'})
        self.assertEqual(['b'], os.listdir(root))
        self.assertRaises(OSError, atomic_write, os.path.join(root, 'b'), 'x')

    def test_atomic_write_follows_a_symlink_to_the_real_file(self):
        root = self.tempdir()
        real = os.path.join(root, 'checkout.yaml')
        atomic_write(real, 'one\n')
        link = os.path.join(root, 'nodepool.yaml')
        os.symlink(real, link)
        atomic_write(link, 'two\n')
        self.assertTrue(os.path.islink(link))
        self.assertEqual('two\n', self._read(root, 'checkout.yaml'))

    def test_atomic_write_needs_the_directory_and_leaves_no_temp(self):
        root = self.tempdir()
        self.assertRaises(FileNotFoundError, atomic_write,
                          os.path.join(root, 'no', 'such', 'nl.yaml'), 'x')
        self.assertEqual([], os.listdir(root))
        os.mkdir(os.path.join(root, 'd'))
        self.assertRaises(IsADirectoryError, atomic_write,
                          os.path.join(root, 'd'), 'x')
        self.assertEqual(['d'], os.listdir(root))
        self.assertEqual([], os.listdir(os.path.join(root, 'd')))
