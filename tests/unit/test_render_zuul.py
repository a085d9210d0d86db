"""Rendered zuul.d files, parsed and flattened by Zuul 14's own code."""

import configparser
import dataclasses
import os
import types

from zuul.lib import connections

from nodepool_aarch64 import model
from nodepool_aarch64.formats.write import write_files
from nodepool_aarch64.inventory import load_inventory
from nodepool_aarch64.render import render_all
from tests import base
from tests import zuulparse


def registry_with_clouds(inv):
    """Zuul connections as a zuul-launcher site would configure them."""
    text = zuulparse.ZUUL_CONF
    for cloud in dict.fromkeys(p.cloud for p in inv.providers):
        text += f'\n[connection {cloud}]\ndriver=openstack\ncloud={cloud}\n'
    config = configparser.ConfigParser()
    config.read_string(text)
    zuulparse.require_bwrap()
    registry = connections.ConnectionRegistry()
    registry.configure(config, sources=True, triggers=True, reporters=True,
                       providers=True)
    return registry


class TestRenderedZuul(base.TestCase):

    def inventory(self):
        return load_inventory()

    def setUp(self):
        super().setUp()
        self.inv = self.inventory()
        out = self.tempdir()
        write_files(out, render_all(self.inv))
        self.registry = registry_with_clouds(self.inv)
        self.parsed = {
            os.path.basename(f.path): f for f in zuulparse.parse_files(
                [os.path.join(out, 'zuul.d', name) for name in
                 ('nodesets.yaml', 'zuul-launcher.yaml')], self.registry)}

    def test_zuul_parses_with_zero_errors(self):
        for name, parsed in self.parsed.items():
            self.assertEqual(
                [], [zuulparse.describe(e) for e in parsed.errors], name)

    def test_one_nodeset_per_label(self):
        nodesets = self.parsed['nodesets.yaml'].parsed.nodesets
        self.assertEqual([label.name for label in self.inv.labels],
                         [n.name for n in nodesets])
        for nodeset in nodesets:
            self.assertEqual([nodeset.name],
                             [node.label for node in nodeset.nodes.values()])

    def test_providers_flatten(self):
        objects = self.parsed['zuul-launcher.yaml'].parsed
        layout = types.SimpleNamespace(
            sections={s.name: s for s in objects.sections},
            images={i.name: i for i in objects.images},
            flavors={f.name: f for f in objects.flavors},
            labels={label.name: label for label in objects.labels})
        self.assertEqual({p.name for p in self.inv.providers},
                         {p.name for p in objects.providers})
        for provider_config in objects.providers:
            flat = provider_config.flattenConfig(
                layout, self.registry.connections)
            provider = self.inv.provider(provider_config.name)
            self.assertEqual(provider.region, flat['region'])
            self.assertEqual(
                {label.name for label in self.inv.labels_for(provider)},
                {label['name'] for label in flat['labels']})
            for image in flat['images']:
                for key, value in model.UEFI_METADATA.items():
                    self.assertEqual(value, image['tags'][key])
            for label in flat['labels']:
                self.assertEqual(provider.boot_timeout,
                                 label['boot-timeout'])
                self.assertEqual(provider.executor_zone,
                                 label.get('executor-zone'))
            self.assertEqual(provider.launch_timeout,
                             flat['launch-timeout'])
            self.assertLessEqual(flat['resource-limits']['instances'],
                                 provider.quota.instances
                                 - provider.reserved_servers)


class TestRenderedZuulMixedTimeouts(TestRenderedZuul):
    """Providers with different timeouts each get their own after Zuul
    flattens their sections (a base section holding the larger launch
    timeout of one provider once hid the others')."""

    def inventory(self):
        inv = load_inventory()
        timeouts = [(900, 1000), (600, 3000), (600, 3000)]
        providers = tuple(
            dataclasses.replace(p, boot_timeout=boot, launch_timeout=launch)
            for p, (boot, launch) in zip(inv.providers, timeouts))
        return dataclasses.replace(inv, providers=providers)
