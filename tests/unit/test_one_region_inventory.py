"""The second shipped example: one Arm64 region, zuul-launcher only.

A site without Nodepool (OpenDev's Arm64 since 2021: OSUOSL's one
region, 15 instances) publishes zuul-launcher objects and nothing else.
"""

import os

import yaml

from nodepool_aarch64.errors import InputError
from nodepool_aarch64.inventory import load_inventory
from nodepool_aarch64.render import ZUUL_LAUNCHER, render_all
from tests import base

ONE_REGION = os.path.join(base.REPO, 'nodepool_aarch64', 'data',
                          'one-region.yaml')


class TestOneRegionInventory(base.TestCase):

    def setUp(self):
        super().setUp()
        self.inv = load_inventory(ONE_REGION)

    def test_one_region_of_one_cloud(self):
        self.assertEqual(1, len(self.inv.providers))
        provider = self.inv.providers[0]
        self.assertEqual(15, provider.quota.instances)
        self.assertEqual(600, provider.boot_timeout)
        self.assertIsNone(provider.launcher)
        self.assertIsNone(provider.builder)
        self.assertEqual((), self.inv.launchers)
        self.assertEqual((), self.inv.builders)

    def test_renders_no_nodepool_config(self):
        files = render_all(self.inv)
        self.assertEqual([], [f for f in files if f.startswith('nodepool/')])
        objects = yaml.safe_load(files[ZUUL_LAUNCHER])
        sections = {o['section']['name']: o['section'] for o in objects
                    if 'section' in o}
        concrete = [s for s in sections.values() if not s.get('abstract')]
        self.assertEqual(1, len(concrete))
        self.assertEqual(15, concrete[0]['resource-limits']['instances'])
        base_section = sections[concrete[0]['parent']]
        self.assertEqual(600, base_section['label-defaults']['boot-timeout'])

    def test_check_passes_on_its_render(self):
        out = self.tempdir()
        code, stdout, stderr = self.run_cli(
            'render', '--inventory', ONE_REGION, '--output-dir', out)
        self.assertEqual(0, code, stderr)
        code, stdout, stderr = self.run_cli(
            'check', '--inventory', ONE_REGION, os.path.join(out, 'zuul.d'))
        self.assertEqual(0, code, stdout + stderr)
        self.assertIn('0 error(s), 0 warning(s)', stderr)

    def test_capacity_apply_says_there_is_no_launcher(self):
        out = self.tempdir()
        code, stdout, stderr = self.run_cli(
            'capacity', 'apply', '--inventory', ONE_REGION,
            '--output', os.path.join(out, 'nl.yaml'))
        self.assertEqual(2, code)
        self.assertIn('zuul-launcher only', stderr)
        self.assertFalse(os.path.exists(os.path.join(out, 'nl.yaml')))


class TestLauncherAndBuilderGoTogether(base.TestCase):

    def test_launcher_without_builder(self):
        with open(ONE_REGION) as f:
            text = f.read()
        text = text.replace('    cloud: osuosl\n',
                            '    cloud: osuosl\n    launcher: nl04\n')
        path = self.write(self.tempdir(), 'inv.yaml', text)
        e = self.assertRaises(InputError, load_inventory, path)
        self.assertIn('add "builder"', str(e))
        self.assertIn('inv.yaml:', str(e))
