"""Every reader of user files, fed arbitrary bytes and YAML values.

Whatever a file holds, a command exits 0, 1 or 2; on 2 it says so on
one line of standard error; nothing raises out of the command (which is
what a traceback would be); and nothing is written outside the test's
temporary directory.
"""

import os

import hypothesis
from hypothesis import strategies as st
import yaml

from tests import base

SETTINGS = hypothesis.settings(
    max_examples=40, deadline=None,
    suppress_health_check=list(hypothesis.HealthCheck))

SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(),
    st.text(max_size=20),
    st.sampled_from(['2026-02-30', '!!int abc', '9' * 5000, '%(X)s',
                     '9999-12-31T23:59-23:59', '\x1b[31m', 'a\nb']))
VALUES = st.recursive(
    SCALARS, lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.text(max_size=12), inner, max_size=4)),
    max_leaves=12)
TAGS = st.sampled_from(['!!int', '!!float', '!!bool', '!!timestamp',
                        '!encrypted/pkcs1-oaep', '!override', ''])

# (argv before the file, argv after it): each reader of a user file.
READERS = {
    'inventory': (['render', '--output-dir', '{out}', '--inventory'], []),
    'check': (['check'], []),
    'check facts': (['check', '--facts'], ['{repo}/zuul.d']),
    'labels file': (['check', '--labels-file'], ['{repo}/zuul.d']),
    'builds': (['readiness', '--builds'], []),
    'demand builds': (['capacity', 'simulate', '--builds'], []),
    'demand csv': (['capacity', 'simulate', '--csv'], []),
}


class TestHostileReaders(base.TestCase):

    def feed(self, reader, data):
        tmp = self.tempdir()
        path = os.path.join(tmp, 'input')
        with open(path, 'wb') as f:
            f.write(data)
        before, after = READERS[reader]
        fill = {'out': os.path.join(tmp, 'out'), 'repo': base.REPO}
        argv = [a.format(**fill) for a in before] + [path] + \
            [a.format(**fill) for a in after]
        listing = sorted(os.listdir(base.REPO))
        code, out, err = self.run_cli(*argv)
        self.assertIn(code, (0, 1, 2), (reader, data[:200], err))
        if code == 2:
            self.assertEqual(1, len(err.strip().splitlines()),
                             (reader, data[:200], err))
            self.assertFalse(os.path.exists(fill['out']), reader)
        self.assertEqual(listing, sorted(os.listdir(base.REPO)))

    @SETTINGS
    @hypothesis.given(st.binary(max_size=300))
    def test_arbitrary_bytes(self, data):
        for reader in READERS:
            self.feed(reader, data)

    @SETTINGS
    @hypothesis.given(VALUES, TAGS)
    def test_arbitrary_yaml_values(self, value, tag):
        text = yaml.safe_dump(value, allow_unicode=True)
        if tag and text.strip() and not text.startswith(('-', '{', '[')):
            text = f'{tag} {text}'
        for reader in READERS:
            self.feed(reader, text.encode('utf-8'))

    @SETTINGS
    @hypothesis.given(VALUES)
    def test_arbitrary_json_values(self, value):
        import json
        try:
            text = json.dumps(value)
        except ValueError:
            return
        for reader in READERS:
            self.feed(reader, text.encode('utf-8'))


class TestNumbersAndDevices(base.TestCase):
    """The audit's reproducers: each exits 2 on one line."""

    REPRODUCERS = (
        ('capacity', 'simulate', '--launch-sd', '1e200'),
        ('capacity', 'simulate', '--launch-mean', 'inf'),
        ('capacity', 'simulate', '--launch-mean', 'nan'),
        ('capacity', 'simulate', '--launch-mean', '-300'),
        ('capacity', 'plan', '--slo', 'gate:p95:1e999'),
        ('capacity', 'plan', '--slo', 'gate:p95:nan'),
        ('capacity', 'quota', '--timeout', 'inf'),
        ('capacity', 'quota', '--timeout', 'nan'),
        ('capacity', 'simulate', '--schedule', 'static:\u00b2'),
        ('capacity', 'simulate', '--csv', '/dev/zero'),
        ('capacity', 'simulate', '--builds', '/dev/zero'),
        ('readiness', '--builds', '/dev/zero'),
        ('render', '--inventory', '/dev/zero'),
        ('render', '--at', '9999-12-31T23:59-23:59'),
        ('capacity', 'apply', '--at', '0001-01-01T00:00+01:00',
         '--output', '/nonexistent/dir/nodepool.yaml'),
    )

    def test_each_exits_2_on_one_line(self):
        for argv in self.REPRODUCERS:
            code, out, err = self.run_cli(*argv)
            self.assertEqual(2, code, (argv, err))
            self.assertEqual(1, len(err.strip().splitlines()), (argv, err))

    def test_directory_outputs_and_unterminated_quotes(self):
        d = self.tempdir()
        csv_path = os.path.join(d, 'demand.csv')
        with open(csv_path, 'w') as f:
            f.write('pipeline,label,start_time,end_time\n'
                    '"gate,ubuntu-noble-arm64,2026-01-06T09:00,'
                    '2026-01-06T09:30\n'
                    'gate,ubuntu-noble-arm64,2026-01-06T10:00,'
                    '2026-01-06T10:30\n')
        for argv, expect in (
                (('capacity', 'plan', '--windows-output', d),
                 'is a directory'),
                (('capacity', 'plan', '--write-inventory', d),
                 'is a directory'),
                (('capacity', 'simulate', '--csv', csv_path),
                 'invalid CSV')):
            code, _, err = self.run_cli(*argv)
            self.assertEqual(2, code, (argv, err))
            self.assertIn(expect, err)
        self.assertEqual(['demand.csv'], os.listdir(d))

    def test_fifo_inputs_do_not_block(self):
        fifo = os.path.join(self.tempdir(), 'fifo')
        os.mkfifo(fifo)
        for argv in (('render', '--inventory', fifo),
                     ('capacity', 'simulate', '--csv', fifo),
                     ('capacity', 'simulate', '--builds', fifo),
                     ('readiness', '--builds', fifo),
                     ('check', '--facts', fifo, base.REPO + '/zuul.d')):
            code, _, err = self.run_cli(*argv)
            self.assertEqual(2, code, (argv, err))

    def test_directory_inputs(self):
        # A directory where a file is read: one line, not a traceback
        # from opening it before it was checked to be a regular file.
        d = self.tempdir()
        for reader, (before, after) in sorted(READERS.items()):
            if reader == 'check':
                continue  # a directory is what check reads
            fill = {'out': os.path.join(d, 'out'), 'repo': base.REPO}
            argv = [a.format(**fill) for a in before] + [d] + \
                [a.format(**fill) for a in after]
            code, out, err = self.run_cli(*argv)
            self.assertEqual(2, code, (reader, err))
            self.assertEqual(1, len(err.strip().splitlines()), (reader, err))
            self.assertIn('not a regular file', err)
        self.assertEqual([], os.listdir(d))
