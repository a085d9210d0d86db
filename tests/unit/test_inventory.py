"""The inventory loader: Arm64 defaults, references, and errors by line."""

import os

from nodepool_aarch64 import model
from nodepool_aarch64.errors import InputError
from nodepool_aarch64.inventory import load_inventory
from tests import base

MINIMAL = """\
flavors:
  - name: big
    vcpus: 8
    ram: 8192
diskimages:
  - name: ubuntu-bionic-arm64
    distro: ubuntu
    release: bionic
providers:
  - name: cloud-a
    cloud: a
    region: RegionOne
    launcher: nl01
    builder: nb01
    quota:
      instances: 10
    flavors: {big: big}
labels:
  - name: ubuntu-bionic-arm64
    diskimage: ubuntu-bionic-arm64
    flavor: big
"""


class TestShippedInventory(base.TestCase):

    def setUp(self):
        super().setUp()
        self.inv = load_inventory()

    def test_three_linaro_regions(self):
        providers = {p.name: p for p in self.inv.providers}
        self.assertEqual({'linaro-us', 'linaro-london', 'linaro-cn1'},
                         set(providers))
        self.assertEqual('linaro', providers['linaro-cn1'].cloud)
        self.assertEqual('linaro-cn1', providers['linaro-cn1'].executor_zone)
        self.assertIsNotNone(providers['linaro-cn1'].mirror)

    def test_required_labels(self):
        names = {label.name for label in self.inv.labels}
        for name in ('ubuntu-bionic-arm64', 'ubuntu-xenial-arm64',
                     'debian-stretch-arm64', 'ubuntu-noble-arm64',
                     'debian-bookworm-arm64'):
            self.assertIn(name, names)
        ram = {label.name: self.inv.flavors[label.flavor].ram
               for label in self.inv.labels}
        self.assertTrue(any(r > ram['ubuntu-bionic-arm64']
                            for r in ram.values()),
                        'no larger-RAM label for Kolla builds')

    def test_arm64_defaults(self):
        for image in self.inv.diskimages.values():
            self.assertEqual('arm64', image.arch)
            self.assertIn('block-device-efi', image.elements)
            self.assertEqual('arm64', image.env_vars['ARCH'])
            self.assertTrue(image.config_drive)
            for key, value in model.UEFI_METADATA.items():
                self.assertEqual(value, image.metadata[key])
        for provider in self.inv.providers:
            self.assertGreaterEqual(provider.boot_timeout, 600)
            self.assertGreaterEqual(provider.launch_timeout, 800)
        self.assertEqual({0}, {label.min_ready for label in self.inv.labels})


class TestInventoryFile(base.TestCase):

    def load(self, text):
        return load_inventory(self.write(self.tempdir(), 'inv.yaml', text))

    def error(self, text):
        return self.assertRaises(InputError, self.load, text)

    def test_minimal_gets_defaults(self):
        inv = self.load(MINIMAL)
        provider = inv.providers[0]
        self.assertEqual(600, provider.boot_timeout)
        self.assertEqual(800, provider.launch_timeout)
        self.assertEqual(('cloud-a',), inv.labels[0].providers)
        self.assertEqual(0, inv.labels[0].min_ready)
        self.assertEqual('uefi',
                         inv.diskimages['ubuntu-bionic-arm64']
                         .metadata['hw_firmware_type'])

    def test_amd64_image_gets_no_uefi(self):
        inv = self.load(MINIMAL.replace('release: bionic',
                                        'release: bionic\n    arch: amd64'))
        image = inv.diskimages['ubuntu-bionic-arm64']
        self.assertNotIn('hw_firmware_type', image.metadata)
        self.assertNotIn('block-device-efi', image.elements)

    def test_unknown_key_names_line_and_path(self):
        e = self.error(MINIMAL.replace('    flavor: big',
                                       '    flavor: big\n    min-redy: 1'))
        self.assertEqual(22, e.line)
        self.assertEqual('labels[0].min-redy', e.key)
        self.assertIn('unknown key', str(e))
        self.assertTrue(str(e).startswith(e.path + ':22: labels[0]'))

    def test_unmapped_flavor_is_refused_at_its_line(self):
        e = self.error(MINIMAL.replace('    flavors: {big: big}\n', ''))
        # No flavors at all: the provider's line.
        self.assertEqual(('providers[0].flavors', 10), (e.key, e.line))
        e = self.error(MINIMAL.replace('{big: big}', '{}'))
        self.assertEqual(('providers[0].flavors', 17), (e.key, e.line))
        self.assertIn('provider cloud-a serves label ubuntu-bionic-arm64, '
                      'whose flavor big has no mapping here', e.message)

    def test_unknown_flavor_reference(self):
        e = self.error(MINIMAL.replace('    flavor: big', '    flavor: huge'))
        self.assertEqual('labels[0].flavor', e.key)
        self.assertEqual(21, e.line)
        self.assertIn("'huge'", e.message)

    def test_unknown_provider_reference(self):
        e = self.error(MINIMAL + '    providers: [cloud-b]\n')
        self.assertEqual('labels[0].providers[0]', e.key)

    def test_duplicate_name(self):
        label = MINIMAL[MINIMAL.index('  - name: ubuntu-bi',
                                      MINIMAL.index('labels')):]
        e = self.error(MINIMAL + label)
        self.assertEqual('labels[1].name', e.key)
        self.assertIn('duplicate name', e.message)

    def test_launcher_and_builder_on_one_host(self):
        # Both would render to nodepool/nl01.yaml, one over the other.
        e = self.error(MINIMAL.replace('builder: nb01', 'builder: nl01'))
        self.assertEqual('providers[0].builder', e.key)
        self.assertEqual(14, e.line)
        self.assertIn("'nl01' is also a launcher host", e.message)

    def test_launcher_and_builder_on_one_host_renders_nothing(self):
        out = self.tempdir()
        inv = self.write(out, 'inv.yaml',
                         MINIMAL.replace('builder: nb01', 'builder: nl01'))
        code, stdout, stderr = self.run_cli(
            'render', '--inventory', inv, '--output-dir',
            os.path.join(out, 'rendered'))
        self.assertEqual(2, code)
        self.assertEqual(1, len(stderr.splitlines()), stderr)
        self.assertFalse(os.path.exists(os.path.join(out, 'rendered')))

    def test_several_launcher_hosts(self):
        inv = self.load(MINIMAL.replace(
            'launcher: nl01', 'launcher: [nl01, nl02]'))
        self.assertEqual(('nl01', 'nl02'), inv.providers[0].launchers)
        self.assertEqual(('nl01', 'nl02'), inv.launchers)
        self.assertEqual(('nl01', 'nl02'),
                         inv.label_launchers(inv.labels[0]))
        # One name is still one host.
        inv = self.load(MINIMAL)
        self.assertEqual(('nl01',), inv.providers[0].launchers)

    def test_launcher_host_listed_twice(self):
        e = self.error(MINIMAL.replace('launcher: nl01',
                                       'launcher: [nl01, nl01]'))
        self.assertEqual('providers[0].launcher[1]', e.key)
        self.assertEqual(13, e.line)
        self.assertIn("'nl01' is listed twice", e.message)

    def test_launcher_list_must_hold_names(self):
        for value in ('[]', '[nl01, 3]', '{a: b}'):
            e = self.error(MINIMAL.replace('launcher: nl01',
                                           'launcher: ' + value))
            self.assertTrue(e.key.startswith('providers[0].launcher'),
                            (value, e.key))

    def test_builder_on_a_listed_launcher_host(self):
        e = self.error(MINIMAL.replace(
            'launcher: nl01', 'launcher: [nl01, nb01]'))
        self.assertEqual('providers[0].builder', e.key)
        self.assertIn("'nb01' is also a launcher host", e.message)

    def test_names_may_not_end_in_a_newline(self):
        # "$" matches before a trailing newline: a provider "nl03\n"
        # made a file "nodepool/nl03\n.yaml".
        e = self.error(MINIMAL.replace('launcher: nl01',
                                       'launcher: "nl01\\n"'))
        self.assertEqual('providers[0].launcher', e.key)

    def test_booleans_are_not_counts(self):
        for key, text in (('labels[0].min-ready', '    min-ready: true\n'),
                          ('providers[0].max-servers',
                           None)):
            if text:
                e = self.error(MINIMAL + text)
            else:
                e = self.error(MINIMAL.replace(
                    '    quota:', '    max-servers: true\n    quota:'))
            self.assertEqual(key, e.key)
            self.assertIn('whole number', e.message)

    def test_release_null_is_refused_not_rendered_as_none(self):
        e = self.error(MINIMAL.replace('release: bionic', 'release: null'))
        self.assertEqual('diskimages[0].release', e.key)

    def test_zookeeper_port_out_of_range(self):
        e = self.error(MINIMAL + 'zookeeper:\n  servers: ["zk:99999999"]\n')
        self.assertEqual('zookeeper.servers[0]', e.key)
        self.assertIn('65535', e.message)

    def test_sections_are_bounded(self):
        from nodepool_aarch64.inventory import schema
        label = ('  - name: l{}\n    diskimage: ubuntu-bionic-arm64\n'
                 '    flavor: big\n')
        labels = ''.join(label.format(i)
                         for i in range(schema.LIMITS['labels'] + 1))
        text = MINIMAL[:MINIMAL.index('labels:')] + 'labels:\n' + labels
        e = self.error(text)
        self.assertEqual('labels', e.key)
        self.assertIn(f'1 to {schema.LIMITS["labels"]} labels', e.message)

    def test_duplicate_yaml_key(self):
        e = self.error(MINIMAL.replace('      instances: 10',
                                       '      instances: 10\n'
                                       '      instances: 20'))
        self.assertEqual('instances', e.key)
        self.assertEqual(17, e.line)

    def test_wrong_type(self):
        e = self.error(MINIMAL.replace('vcpus: 8', 'vcpus: eight'))
        self.assertEqual('flavors[0].vcpus', e.key)
        self.assertEqual(3, e.line)

    def test_uefi_override_refused_on_arm64(self):
        e = self.error(MINIMAL.replace(
            'release: bionic',
            'release: bionic\n    metadata:\n      hw_firmware_type: bios'))
        self.assertEqual('diskimages[0].metadata.hw_firmware_type', e.key)

    def test_nothing_bounds_servers(self):
        e = self.error(MINIMAL.replace('    quota:\n      instances: 10',
                                       '    quota: {}'))
        self.assertEqual('providers[0].quota', e.key)

    def test_window_above_quota(self):
        e = self.error(MINIMAL + 'capacity:\n  windows:\n'
                       '    - name: peak\n      start: "09:00"\n'
                       '      end: "17:00"\n'
                       '      max-servers: {cloud-a: 11}\n')
        self.assertEqual('capacity.windows[0].max-servers.cloud-a', e.key)
        self.assertIn('above what the quota allows (10', e.message)

    def test_window_kinds_exclusive(self):
        e = self.error(MINIMAL + 'capacity:\n  windows:\n'
                       '    - name: odd\n      start: "09:00"\n'
                       '      from: "2026-01-01T00:00Z"\n')
        self.assertEqual('capacity.windows[0]', e.key)

    def test_one_off_window_out_of_range_names_the_key(self):
        for key, value in (('until', '9999-12-31T23:59-23:59'),
                           ('from', '0001-01-01T00:00+01:00')):
            bounds = {'from': '"2026-01-01T00:00Z"',
                      'until': '"2026-01-02T00:00Z"'}
            bounds[key] = f'"{value}"'
            e = self.error(MINIMAL + 'capacity:\n  windows:\n'
                           '    - name: odd\n'
                           f'      from: {bounds["from"]}\n'
                           f'      until: {bounds["until"]}\n')
            self.assertEqual(f'capacity.windows[0].{key}', e.key)
            self.assertIn('out of range', e.message)

    def test_control_character_key_stays_on_one_line(self):
        e = self.error(MINIMAL + 'timeouts:\n  "\\r\\n": 1\n')
        self.assertEqual(1, len(str(e).splitlines()), str(e))
        self.assertIn('timeouts.\\r\\n: unknown key', str(e))

    def test_not_a_mapping(self):
        e = self.error('- just\n- a list\n')
        self.assertEqual(1, e.line)

    def test_missing_file(self):
        e = self.assertRaises(InputError, load_inventory,
                              os.path.join(self.tempdir(), 'nope.yaml'))
        self.assertIn('cannot read', str(e))


class TestWindows(base.TestCase):

    def test_weekly_window_wraps_midnight(self):
        import datetime as dt
        w = model.Window('night', frozenset({4}), dt.time(22), dt.time(6),
                         None, None, {}, {})
        utc = dt.timezone.utc
        self.assertTrue(w.matches(dt.datetime(2026, 11, 27, 23, tzinfo=utc)))
        # Saturday 03:00 belongs to Friday night.
        self.assertTrue(w.matches(dt.datetime(2026, 11, 28, 3, tzinfo=utc)))
        self.assertFalse(w.matches(dt.datetime(2026, 11, 28, 7, tzinfo=utc)))
        self.assertFalse(w.matches(dt.datetime(2026, 11, 26, 23, tzinfo=utc)))

    def test_intervals_are_when_it_matches(self):
        # matches() and the schedule both ask intervals(); this pins the
        # arithmetic itself, including the wrap past Sunday midnight.
        import datetime as dt
        utc = dt.timezone.utc
        monday = dt.datetime(2026, 11, 30, tzinfo=utc)
        sunday_night = model.Window('w', frozenset({6}), dt.time(22),
                                    dt.time(2), None, None, {}, {})
        day, week = 86400, 7 * 86400
        self.assertEqual([(6 * day + 22 * 3600, week), (0, 2 * 3600)],
                         sunday_night.intervals())
        self.assertTrue(sunday_night.matches(monday + dt.timedelta(hours=1)))
        self.assertFalse(sunday_night.matches(monday + dt.timedelta(hours=2)))
        one_off = model.Window(
            'o', frozenset(), dt.time(0), dt.time(0),
            monday + dt.timedelta(days=6, hours=12, seconds=0.5),
            monday + dt.timedelta(days=9), {}, {})
        # Not in a recurring week; clipped to the week asked about.
        self.assertEqual([], one_off.intervals())
        self.assertEqual([(6 * day + 12 * 3600 + 0.5, week)],
                         one_off.intervals(monday))
        self.assertEqual([(0.0, 2 * day)],
                         one_off.intervals(monday + dt.timedelta(days=7)))
        self.assertEqual([], one_off.intervals(monday + dt.timedelta(
            days=14)))
        start = one_off.starts
        self.assertFalse(one_off.matches(start - dt.timedelta(
            microseconds=1)))
        self.assertTrue(one_off.matches(start))
        self.assertTrue(one_off.matches(one_off.ends - dt.timedelta(
            microseconds=1)))
        self.assertFalse(one_off.matches(one_off.ends))

    def test_later_window_wins_for_the_names_it_sets(self):
        import datetime as dt
        first = model.Window('a', frozenset(range(7)), dt.time(0),
                             dt.time(23), None, None,
                             {'p': 1, 'q': 2}, {})
        second = model.Window('b', frozenset(range(7)), dt.time(0),
                              dt.time(23), None, None, {'p': 3}, {})
        self.assertEqual({'p': 3, 'q': 2, 'r': None}, model.in_force(
            {'p': None, 'q': None, 'r': None}, [first, second],
            'max_servers'))
        self.assertEqual({'p': 1, 'q': 2}, model.in_force(
            {'p': 0, 'q': 0}, [second, first], 'max_servers'))
