"""max-servers from quotas: the binding resource and its arithmetic."""

import testtools

from nodepool_aarch64.model import Flavor, Quota
from nodepool_aarch64.sizing import allowed_servers

LARGE = Flavor('large', 8, 8192)
XLARGE = Flavor('xlarge', 16, 32768)


class TestAllowedServers(testtools.TestCase):

    def test_each_resource_can_bind(self):
        cases = [
            (Quota(instances=5, cores=800, ram=10 ** 7), 'instances', 5),
            (Quota(instances=50, cores=80, ram=10 ** 7), 'cores', 10),
            (Quota(instances=50, cores=800, ram=81920), 'ram', 10),
            (Quota(instances=50, floating_ips=7), 'floating-ips', 7),
            (Quota(instances=50, addresses=29), 'addresses', 29),
        ]
        for quota, binding, servers in cases:
            sizing = allowed_servers(quota, [LARGE], Quota())
            self.assertEqual((binding, servers),
                             (sizing.binding, sizing.max_servers), quota)

    def test_reserved_hosts_come_off_every_resource(self):
        # A /27 has 29 usable addresses; the mirror takes one.
        sizing = allowed_servers(Quota(addresses=29, instances=100),
                                 [LARGE], Quota(instances=1, addresses=1))
        self.assertEqual(28, sizing.max_servers)
        self.assertEqual(99, sizing.limits['instances'])

    def test_largest_flavor_sizes_a_mixed_pool(self):
        sizing = allowed_servers(Quota(cores=160), [LARGE, XLARGE], Quota())
        self.assertEqual(10, sizing.max_servers)

    def test_cap_and_headroom(self):
        quota = Quota(instances=40)
        self.assertEqual(30, allowed_servers(quota, [LARGE], Quota(),
                                             cap=30).max_servers)
        self.assertEqual('max-servers', allowed_servers(
            quota, [LARGE], Quota(), cap=30).binding)
        self.assertEqual(36, allowed_servers(quota, [LARGE], Quota(),
                                             headroom=0.1).max_servers)
        # A cap above what the quota allows never wins.
        self.assertEqual(40, allowed_servers(quota, [LARGE], Quota(),
                                             cap=99).max_servers)

    def test_exhausted_quota_is_zero_not_negative(self):
        sizing = allowed_servers(Quota(instances=1), [LARGE],
                                 Quota(instances=3))
        self.assertEqual(0, sizing.max_servers)

    def test_unbounded_is_an_error(self):
        self.assertRaises(ValueError, allowed_servers, Quota(), [LARGE],
                          Quota())


class TestInventorySizing(testtools.TestCase):
    """The one owner of max-servers: caps, windows and full quota."""

    def test_windows_cap_and_full_quota(self):
        import datetime
        from nodepool_aarch64 import sizing
        from nodepool_aarch64.inventory import load_inventory
        inv = load_inventory()
        capped = sizing.max_servers(inv)
        full = sizing.max_servers(inv, full_quota=True)
        for provider in inv.providers:
            self.assertEqual(
                sizing.allowed_servers(
                    provider.quota, inv.flavors_for(provider),
                    provider.reserved, inv.headroom,
                    provider.max_servers).max_servers,
                capped[provider.name])
            self.assertGreaterEqual(full[provider.name],
                                    capped[provider.name])
        # The shipped China maintenance window sets linaro-cn1 to 0.
        during = datetime.datetime(2026, 12, 5, 3,
                                   tzinfo=datetime.timezone.utc)
        self.assertEqual(0, sizing.max_servers(inv, during)['linaro-cn1'])
        self.assertEqual('max-servers', sizing.sizing_at(
            inv, inv.provider('linaro-cn1'), during).binding)
        self.assertGreater(capped['linaro-cn1'], 0)
