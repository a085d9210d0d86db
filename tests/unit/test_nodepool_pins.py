"""Facts borrowed from Nodepool 11, checked against Nodepool itself.

Where Nodepool does not expose a fact as an API, the project keeps one
copy; these tests run Nodepool's own code on the same input and fail
when a Nodepool upgrade disagrees.
"""

import functools
import logging
import types

from nodepool.driver.openstack import adapter
import testtools

from nodepool_aarch64.model import Flavor
from nodepool_aarch64.check.rules.flavors import flavor_by_ram

# Ties on RAM are where a RAM-only sort went wrong: Nodepool breaks them
# by name.
FLAVORS = [
    Flavor('zz.large', 8, 16384), Flavor('aa.large', 16, 16384),
    Flavor('m1.small', 2, 4096), Flavor('m1.medium', 4, 8192),
    Flavor('opendev.medium', 4, 8192), Flavor('xl', 32, 65536),
]


def nodepools_choice(flavors, min_ram, flavor_name):
    """Nodepool's own _findFlavorByRam, on a cloud listing ``flavors``."""
    listed = [{'name': f.name, 'ram': f.ram, 'vcpus': f.vcpus}
              for f in reversed(flavors)]
    fake = types.SimpleNamespace(
        log=logging.getLogger('test'),
        _client=types.SimpleNamespace(
            list_flavors=lambda get_extra=False: list(listed)))
    fake._listFlavors = functools.partial(adapter.OpenStackAdapter
                                          ._listFlavors, fake)
    try:
        return adapter.OpenStackAdapter._findFlavorByRam(
            fake, min_ram, flavor_name)['name']
    except Exception:
        return None


class TestFlavorChoice(testtools.TestCase):

    def test_same_choice_as_nodepool(self):
        cases = 0
        for min_ram in (1, 4096, 4097, 8192, 9000, 16384, 20000, 70000):
            for name in (None, '', 'large', 'medium', 'm1', 'nope'):
                ours = flavor_by_ram(FLAVORS, min_ram, name)
                self.assertEqual(nodepools_choice(FLAVORS, min_ram, name),
                                 ours.name if ours else None,
                                 (min_ram, name))
                cases += 1
        self.assertEqual(48, cases)

    def test_ram_tie_broken_by_name(self):
        self.assertEqual('aa.large', flavor_by_ram(FLAVORS, 10000).name)
