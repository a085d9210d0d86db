"""Cloud facts for check, adapted from the inventory."""

import testtools

from nodepool_aarch64.check import facts as facts_mod
from nodepool_aarch64.inventory import load_inventory


class TestFacts(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.inv = load_inventory()
        self.facts = facts_mod.from_inventory(self.inv)

    def test_flavors_are_keyed_by_each_cloud_own_name(self):
        for provider in self.inv.providers:
            facts = self.facts.provider(provider.name)
            for logical, flavor in self.inv.flavors.items():
                cloud_flavor = facts.flavors[provider.flavor_name(logical)]
                self.assertEqual((flavor.vcpus, flavor.ram),
                                 (cloud_flavor.vcpus, cloud_flavor.ram))

    def test_quota_and_reserved_come_through(self):
        for provider in self.inv.providers:
            facts = self.facts.provider(provider.name)
            self.assertEqual(provider.quota, facts.quota)
            self.assertEqual(provider.reserved, facts.reserved)
            self.assertEqual((provider.cloud, provider.region),
                             (facts.cloud, facts.region))

    def test_match_by_cloud_and_region_when_names_differ(self):
        provider = self.inv.providers[0]
        found = self.facts.provider('site-specific-name', provider.cloud,
                                    provider.region)
        self.assertEqual(provider.name, found.name)
        self.assertIsNone(self.facts.provider('nope', 'no-cloud', 'x'))
