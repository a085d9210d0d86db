"""The mirror list the configure-region-mirror role reads."""

import dataclasses
import os

import yaml

from nodepool_aarch64.inventory import load_inventory
from nodepool_aarch64.render import REGION_MIRRORS, mirrors, render_all
from tests import base

REPO = base.REPO


class TestRegionMirrors(base.TestCase):

    def setUp(self):
        super().setUp()
        self.inv = load_inventory()
        self.rendered = mirrors.region_mirrors(self.inv)

    def test_the_china_region_uses_its_declared_mirror_first(self):
        # Not mirror.regionone.linaro.opendev.org, which the clouds.yaml
        # name "linaro" would give by OpenDev's naming.
        cn1 = self.rendered['linaro-cn1']
        self.assertEqual('linaro', cn1['cloud'])
        self.assertEqual('RegionOne', cn1['region'])
        self.assertEqual(
            'https://mirror.regionone.linaro-cn1.opendev.org',
            cn1['mirrors'][0])

    def test_other_regions_then_the_default(self):
        for provider in self.inv.providers:
            order = self.rendered[provider.name]['mirrors']
            others = [mirrors.mirror_url(p.mirror)
                      for p in self.inv.providers
                      if p.name != provider.name and p.mirror]
            self.assertEqual(
                [mirrors.mirror_url(provider.mirror)] + others
                + [mirrors.DEFAULT_MIRROR], order, provider.name)
            self.assertEqual(len(order), len(set(order)))

    def test_a_url_is_kept_and_a_host_gets_https(self):
        self.assertEqual('http://127.0.0.1:8080',
                         mirrors.mirror_url('http://127.0.0.1:8080/'))
        self.assertEqual('https://mirror.example.org',
                         mirrors.mirror_url('mirror.example.org'))

    def test_a_provider_without_a_mirror_gets_the_others(self):
        first = dataclasses.replace(self.inv.providers[0], mirror=None)
        inv = dataclasses.replace(
            self.inv, providers=(first,) + tuple(self.inv.providers[1:]))
        order = mirrors.region_mirrors(inv)[first.name]['mirrors']
        self.assertNotIn(mirrors.mirror_url(self.inv.providers[0].mirror),
                         order)
        self.assertEqual(mirrors.DEFAULT_MIRROR, order[-1])

    def test_committed_file_is_what_the_role_reads(self):
        text = render_all(self.inv)[REGION_MIRRORS]
        self.assertEqual(self.rendered, yaml.safe_load(text))
        with open(os.path.join(REPO, REGION_MIRRORS)) as f:
            self.assertEqual(text, f.read())
        with open(os.path.join(REPO, 'roles', 'configure-region-mirror',
                               'defaults', 'main.yaml')) as f:
            self.assertIn(os.path.basename(REGION_MIRRORS), f.read())
