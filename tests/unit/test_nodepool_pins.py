"""Facts borrowed from Nodepool 11, checked against Nodepool itself.

Where Nodepool does not expose a fact as an API, the project keeps one
copy; these tests run Nodepool's own code on the same input and fail
when a Nodepool upgrade disagrees.
"""

import functools
import logging
import os
import types

import fixtures
import nodepool.config
from nodepool.cmd.config_validator import ConfigValidator
from nodepool.driver.openstack import adapter
import testtools
import yaml

from nodepool_aarch64.check.rules.flavors import flavor_by_ram
from nodepool_aarch64.engines import nodepool as nodepool_engine
from nodepool_aarch64.formats import configset
from nodepool_aarch64.model import Flavor

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


def load_provider(directory, provider):
    """Nodepool's own typed config for one provider with its defaults."""
    clouds = os.path.join(directory, 'clouds.yaml')
    with open(clouds, 'w') as f:
        f.write('clouds:\n  linaro:\n    auth:\n'
                '      auth_url: http://127.0.0.1:5000/v3\n')
    path = os.path.join(directory, 'nodepool.yaml')
    with open(path, 'w') as f:
        yaml.safe_dump({'labels': [{'name': 'l'}],
                        'providers': [provider]}, f)
    with fixtures.EnvironmentVariable('OS_CLIENT_CONFIG_FILE', clouds), \
            nodepool_engine.drivers({'openstack', 'fake'}):
        config = nodepool.config.loadConfig(path, env={})
    return config.providers[provider['name']]


class TestProviderFacts(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.dir = self.useFixture(fixtures.TempDir()).path

    def test_default_timeouts_are_nodepools(self):
        loaded = load_provider(self.dir, {
            'name': 'linaro-us', 'cloud': 'linaro',
            'pools': [{'name': 'main', 'labels': [
                {'name': 'l', 'cloud-image': 'i', 'min-ram': 1}]}],
            'cloud-images': [{'name': 'i'}]})
        self.assertEqual(
            (loaded.boot_timeout, loaded.launch_timeout,
             loaded.launch_retries),
            (nodepool_engine.DEFAULT_BOOT_TIMEOUT,
             nodepool_engine.DEFAULT_LAUNCH_TIMEOUT,
             nodepool_engine.DEFAULT_LAUNCH_RETRIES))

    def test_the_checker_reads_absent_timeouts_as_nodepool_does(self):
        provider = {'name': 'linaro-us', 'cloud': 'linaro', 'pools': []}
        loaded = load_provider(self.dir, dict(provider))
        ours = configset.Provider(None, provider)
        self.assertEqual(
            (loaded.boot_timeout, loaded.launch_timeout,
             loaded.launch_retries),
            (ours.boot_timeout, ours.launch_timeout, ours.launch_retries))

    def test_fake_names_get_the_fake_driver(self):
        for name in ('fake-provider', 'fake', 'fakeish', 'linaro-fake',
                     'Fake-upper', 'linaro-us'):
            for driver in (None, 'openstack', 'static'):
                provider = {'name': name}
                if driver:
                    provider['driver'] = driver
                with nodepool_engine.drivers({'openstack', 'fake',
                                              'static'}):
                    config = nodepool.config.get_provider_config(
                        dict(provider))
                # nodepool.driver.<name>.config.<Driver>ProviderConfig
                theirs = type(config).__module__.split('.')[2]
                ours = nodepool_engine.provider_driver(provider)
                self.assertEqual(theirs, ours, (name, driver))
                self.assertEqual(ours == 'fake', name.startswith('fake'))

    def test_top_level_keys_are_in_nodepools_schema(self):
        schema = ConfigValidator.getSchema().schema
        keys = {str(k) for k in schema}
        self.assertLessEqual(set(nodepool_engine.TOP_LEVEL_KEYS), keys)
