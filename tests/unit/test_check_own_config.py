"""The checker is clean on this project's own rendered config and zuul.d.

The renderer's output is read back from files, like any hand-written
config, together with the repo's zuul.d (jobs, pipelines, templates);
rendered files replace the committed copies of the same name.  It is
checked with the shipped inventory's cloud facts, at rest and inside
each capacity window, because windows change max-servers and min-ready.
"""

import datetime
import os

import fixtures
import testtools

from nodepool_aarch64.check import facts as facts_mod
from nodepool_aarch64.check import runner
from nodepool_aarch64.inventory import load_inventory
from nodepool_aarch64.render import render_all
from tests import base

REPO = base.REPO


def instant_in(window):
    """A moment inside a capacity window."""
    if window.starts is not None:
        return window.starts
    day = datetime.datetime(2026, 1, 5, tzinfo=datetime.timezone.utc)
    while day.weekday() not in window.days:
        day += datetime.timedelta(days=1)
    return datetime.datetime.combine(day.date(), window.start,
                                     datetime.timezone.utc)


class TestOwnConfig(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.inv = load_inventory()
        self.facts = facts_mod.from_inventory(self.inv)

    def render(self, at):
        out = self.useFixture(fixtures.TempDir()).path
        rendered = render_all(self.inv, at=at)
        for rel, text in rendered.items():
            path = os.path.join(out, rel)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, 'w') as f:
                f.write(text)
        repo_zuul = os.path.join(REPO, 'zuul.d')
        ours = [os.path.join(repo_zuul, name)
                for name in sorted(os.listdir(repo_zuul))
                if name.endswith('.yaml') and
                f'zuul.d/{name}' not in rendered]
        return [out] + ours

    def check(self, at=None):
        result = runner.run(self.render(at), facts=self.facts)
        self.assertEqual([], [str(f) for f in result.errors])
        return result

    def test_rendered_config_and_zuul_d_are_clean(self):
        result = self.check()
        # Not vacuous: every rule ran over launchers, builders and Zuul.
        self.assertEqual([], result.skipped)
        self.assertFalse(any('had nothing to compare' in n
                             for n in result.notes), result.notes)
        graph = result.configset
        self.assertNotEqual([], graph.builders)
        labels = {ref.label for ref in graph.node_refs()}
        self.assertLessEqual({label.name for label in self.inv.labels},
                             labels)

    def test_clean_inside_every_capacity_window(self):
        self.assertNotEqual((), self.inv.windows)
        for window in self.inv.windows:
            self.check(at=instant_in(window))
