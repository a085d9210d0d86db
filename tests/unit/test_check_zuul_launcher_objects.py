"""``check`` on the rendered zuul-launcher objects alone: clean, and a
section that leaves out a label's image is caught (NPA072).

Zuul loads such a label stanza without complaint and rejects the
provider only when it builds the tenant's layout (the functional test
test_zuul_launcher_labels shows a real Zuul doing so); the checker says
which provider, label and image, at the line of the label entry.
"""

import datetime
import os

import fixtures
import testtools

from nodepool_aarch64.check import runner
from nodepool_aarch64.formats.yamltext import dump
from nodepool_aarch64.inventory import load_inventory
from nodepool_aarch64.render import zuul as render_zuul


class TestRenderedLauncherObjects(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.inv = load_inventory()
        self.objects = render_zuul.launcher_objects(self.inv)
        self.dir = self.useFixture(fixtures.TempDir()).path

    def check(self, objects):
        path = os.path.join(self.dir, 'zuul-launcher.yaml')
        with open(path, 'w') as f:
            f.write(dump(objects, 'inventory linaro.yaml'))
        return path, runner.run([path])

    def sections(self, objects):
        return [s['section'] for s in objects
                if 'section' in s and 'labels' in s['section']]

    def test_rendered_objects_are_clean(self):
        _, result = self.check(self.objects)
        self.assertEqual([], [str(f) for f in result.findings])
        self.assertEqual(len(self.inv.providers),
                         len(self.sections(self.objects)))

    def test_clean_inside_every_capacity_window(self):
        for window in self.inv.windows:
            at = window.starts or _weekday_instant(window)
            _, result = self.check(render_zuul.launcher_objects(self.inv,
                                                                at))
            # A window that keeps Arm64 nodes warm does so on purpose;
            # NPA030 says what it costs, and nothing else may be found.
            warm = {name for name, value in window.min_ready.items()
                    if value > 0}
            self.assertEqual([], [str(f) for f in result.findings
                                  if not (f.code == 'NPA030' and any(
                                      f'label {name} ' in f.message
                                      for name in warm))])
            self.assertEqual(len(warm), len(result.findings))

    def test_section_without_a_labels_image(self):
        labels = {s['label']['name']: s['label'] for s in self.objects
                  if 'label' in s}
        for section in self.sections(self.objects):
            entry = section['labels'][-1]
            image = labels[entry['name']]['image']
            users = [e['name'] for e in section['labels']
                     if labels[e['name']]['image'] == image]
            kept = section['images']
            section['images'] = [i for i in kept if i['name'] != image]
            path, result = self.check(self.objects)
            section['images'] = kept
            found = list(result.findings)
            self.assertEqual({'NPA072'}, {f.code for f in found})
            self.assertEqual(sorted(users), sorted(
                f.message.split(' offers label ')[1].split(',')[0]
                for f in found))
            for f in found:
                self.assertIn(f'provider {section["name"]} offers label',
                              f.message)
                self.assertIn(f'configures its image {image}', f.message)
                self.assertEqual(path, f.path)
                with open(path) as fh:
                    line = fh.read().splitlines()[f.line - 1]
                self.assertIn('- name: ', line)


def _weekday_instant(window):
    day = datetime.datetime(2026, 1, 5, tzinfo=datetime.timezone.utc)
    while day.weekday() not in window.days:
        day += datetime.timedelta(days=1)
    return datetime.datetime.combine(day.date(), window.start,
                                     datetime.timezone.utc)
