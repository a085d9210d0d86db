"""One command-line vocabulary: an option name means one thing in every
command that takes it."""

import argparse

import testtools

from nodepool_aarch64 import cli
from nodepool_aarch64 import options
from tests import base


def commands(parser, prefix=()):
    """(command words, parser) for every command and action."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from commands(sub, prefix + (name,))
    if prefix:
        yield prefix, parser


def shown(parser):
    """{option string: action} of the options --help shows."""
    return {string: action for action in parser._actions
            if action.help is not argparse.SUPPRESS
            for string in action.option_strings}


class TestVocabulary(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.commands = dict(commands(cli.build_parser()))

    def test_every_command_is_seen(self):
        for words in (('render',), ('capacity', 'report'),
                      ('image-check',), ('kolla-images',)):
            self.assertIn(words, self.commands)

    def test_format_is_text_or_json_everywhere(self):
        seen = 0
        for words, parser in self.commands.items():
            if any(isinstance(a, argparse._SubParsersAction)
                   for a in parser._actions):
                continue  # a group of commands, not a command
            action = shown(parser).get('--format')
            self.assertIsNotNone(action, words)
            seen += 1
            self.assertEqual('text', action.default, words)
            self.assertIn(action.metavar or '{%s}' % ','.join(
                action.choices), ('{text,json}',), words)
        self.assertGreaterEqual(seen, 12)

    def test_inventory_and_zuul_url_read_alike(self):
        for option, metavar in (('--inventory', 'FILE'),
                                ('--zuul-url', 'URL'),
                                ('--tenant', 'NAME'), ('--at', 'TIME')):
            helps = set()
            for words, parser in self.commands.items():
                action = shown(parser).get(option)
                if action is not None:
                    self.assertEqual(metavar, action.metavar,
                                     (words, option))
                    helps.add(action.help)
            self.assertTrue(helps, option)
        zuul_url = {shown(p)['--zuul-url'].help
                    for p in self.commands.values()
                    if '--zuul-url' in shown(p)}
        self.assertEqual(1, len(zuul_url), zuul_url)

    def test_output_names_a_file_output_dir_a_directory(self):
        for words, parser in self.commands.items():
            options_shown = shown(parser)
            if '--output' in options_shown:
                self.assertEqual('FILE', options_shown['--output'].metavar,
                                 words)
            if '--output-dir' in options_shown:
                self.assertEqual('DIR',
                                 options_shown['--output-dir'].metavar, words)

    def test_one_range_check_words_every_bound(self):
        self.assertEqual('a whole number from 0 to 56',
                         options.expected(0, high=56, whole=True))
        self.assertEqual('a number from 0 up to (not including) 1',
                         options.expected(0, below=1))
        self.assertEqual('a number above 0 and at most 1',
                         options.expected(above=0, high=1))
        self.assertEqual('a whole number of seconds above 0',
                         options.expected(above=0, whole=True,
                                          unit='seconds'))
        for value in (float('nan'), float('inf'), -1, 2):
            self.assertTrue(options.outside(value, 0, high=1), value)
        self.assertFalse(options.outside(1, 0, high=1))
        self.assertTrue(options.outside(0, above=0))


class TestOldSpellings(base.TestCase):
    """Old option names still work, and say what to write instead."""

    def test_report_output_is_output_dir(self):
        out = self.tempdir() + '/report'
        code, stdout, err = self.run_cli(
            'capacity', 'report', '--synthetic', '50', '--no-plan',
            '--output', out)
        self.assertEqual(0, code, err)
        self.assertEqual(['nodepool-aarch64 capacity report: --output '
                          f'{out} is deprecated; use --output-dir {out}'],
                         err.splitlines())
        self.assertIn(out + '/index.md', stdout)
        code, _, err = self.run_cli('capacity', 'report', '--synthetic',
                                    '50', '--no-plan')
        self.assertEqual(2, code)
        self.assertIn('--output-dir: required', err)
