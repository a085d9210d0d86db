"""Rules for incidents from public Nodepool history, each shown firing on
the mistake and staying quiet on the config without it."""

import copy

from nodepool_aarch64 import model
from nodepool_aarch64.check import facts as facts_mod
from tests.unit.test_check_rules import CheckCase
from tests.unit.test_check_rules import inventory_facts


def file_facts(*regions):
    """Facts as a facts file gives them: by cloud and region, no name."""
    return facts_mod.Facts('facts.yaml', tuple(
        facts_mod.ProviderFacts(
            None, cloud, region, quota, model.Quota(),
            None if flavors is None else
            {n: model.Flavor(n, c, r)
             for n, (c, r) in flavors.items()})
        for cloud, region, flavors, quota in regions))


class TestDeclaredLabelUnserved(CheckCase):

    def test_declared_label_no_pool_serves(self):
        self.launcher['labels'].append({'name': 'ubuntu-jammy-arm64',
                                        'min-ready': 0})
        found = self.only(self.check(), 'NPA017')
        self.assertIn('label ubuntu-jammy-arm64 is declared in nl01 but no '
                      'pool of it serves the label', found[0].message)
        self.assertEqual('warning', found[0].severity)
        self.assertTrue(found[0].path.endswith('nl01.yaml'))

    def test_without_min_ready_too(self):
        self.launcher['labels'].append({'name': 'ubuntu-jammy-arm64'})
        self.assertEqual(['NPA017'], self.codes(self.check()))

    def test_min_ready_is_said_once_by_npa031(self):
        self.launcher['labels'].append({'name': 'ubuntu-jammy-arm64',
                                        'min-ready': 1})
        self.assertNotIn('NPA017', self.codes(self.check()))
        self.assertIn('NPA031', self.codes(self.check()))

    def test_a_switched_off_pool_still_serves_it(self):
        self.pool['max-servers'] = 0
        self.assertNotIn('NPA017', self.codes(self.check(zuul=False)))


class TestProviderRegionDiffers(CheckCase):

    def test_builder_uploads_to_another_region(self):
        self.builder['providers'][0]['region-name'] = 'RegionTwo'
        found = self.only(self.check(), 'NPA005')
        self.assertIn('provider linaro-us has region-name RegionOne here '
                      'but RegionTwo in builder', found[0].message)
        self.assertTrue(found[0].path.endswith('nl01.yaml'))
        self.assertEqual('error', found[0].severity)

    def test_builder_uploads_to_another_cloud(self):
        self.builder['providers'][0]['cloud'] = 'linaro'
        found = self.only(self.check(), 'NPA005')
        self.assertIn('has cloud linaro-us here but linaro', found[0].message)

    def test_same_region_or_unsaid_region_is_fine(self):
        self.assertNotIn('NPA005', self.codes(self.check()))
        del self.builder['providers'][0]['region-name']
        self.assertNotIn('NPA005', self.codes(self.check()))


class TestTimeoutLeftToDefault(CheckCase):

    def sibling(self, name, cloud):
        other = copy.deepcopy(self.provider)
        other.update({'name': name, 'cloud': cloud})
        self.launcher['providers'].append(other)
        return other

    def test_x86_provider_forgets_launch_timeout_its_siblings_set(self):
        for label in self.pool['labels']:
            label['name'] = label['name'].replace('-arm64', '')
        self.launcher['labels'] = [{'name': x['name']}
                                   for x in self.pool['labels']]
        self.provider.update({'boot-timeout': 120, 'launch-timeout': 600})
        other = self.sibling('ovh-gra1', 'ovh')
        del other['launch-timeout']
        found = self.only(self.check(builder=False, zuul=False), 'NPA042')
        self.assertEqual(1, len(found))
        self.assertIn("provider ovh-gra1 has no launch-timeout, so "
                      "Nodepool's default of 3600 s applies, while "
                      "linaro-us set one", found[0].message)

    def test_same_cloud_in_another_file(self):
        other = copy.deepcopy(self.launcher)
        other['providers'][0]['name'] = 'linaro-us-2'
        del other['providers'][0]['boot-timeout']
        path = self.write('nodepool/nl02.yaml', other)
        found = self.only(self.check(extra=[path]), 'NPA042')
        self.assertIn('provider linaro-us-2 has no boot-timeout',
                      found[0].message)

    def test_nobody_sets_it(self):
        del self.provider['launch-timeout']
        self.sibling('linaro-london', 'linaro-london')
        self.assertNotIn('NPA042', self.codes(self.check()))

    def test_all_set(self):
        self.sibling('linaro-london', 'linaro-london')
        self.assertNotIn('NPA042', self.codes(self.check()))


class TestDuplicateKeyNamesWhatIsDropped(CheckCase):

    def test_repeated_providers_key_names_the_lost_providers(self):
        path = self.write('nodepool/nl02.yaml', (
            'labels: []\n'
            'providers:\n'
            '  - name: limestone-regionone\n'
            '  - name: airship-kna1\n'
            'providers:\n'
            '  - name: rax-dfw\n'))
        found = self.only(self.check(extra=[path]), 'NPA002')
        self.assertEqual(5, found[0].line)
        self.assertIn('drops providers limestone-regionone, airship-kna1',
                      found[0].message)

    def test_repeated_empty_key(self):
        path = self.write('nodepool/nl02.yaml', (
            'labels:\nlabels: []\nproviders: []\n'))
        found = self.only(self.check(extra=[path]), 'NPA002')
        self.assertIn('drops the first, which is empty', found[0].message)


class TestPlaceholderDiskimage(CheckCase):

    def test_other_builders_image_declared_without_elements(self):
        # OpenDev's builder files list each other's images so that the
        # names resolve; this builder neither builds nor uploads it.
        self.builder['diskimages'].append({
            'name': 'centos-9-stream-arm64', 'parent': 'base-arm64'})
        self.builder['diskimages'].append({
            'name': 'base-arm64', 'abstract': True,
            'elements': ['vm'], 'env-vars': {'ARCH': 'arm64'}})
        self.assertNotIn('NPA023', self.codes(self.check()))

    def test_uploaded_image_without_efi_is_still_flagged(self):
        self.builder['diskimages'].append({
            'name': 'centos-9-stream-arm64', 'parent': 'base-arm64'})
        self.builder['diskimages'].append({
            'name': 'base-arm64', 'abstract': True,
            'elements': ['vm'], 'env-vars': {'ARCH': 'arm64'}})
        self.builder['providers'][0]['diskimages'].append(
            {'name': 'centos-9-stream-arm64', 'meta': dict(
                model.UEFI_METADATA)})
        found = self.only(self.check(), 'NPA023')
        self.assertIn('centos-9-stream-arm64', found[0].message)


class TestFactsPerCloudRegion(CheckCase):

    def test_flavor_of_another_region_of_the_same_cloud(self):
        facts = file_facts(
            ('linaro-us', 'RegionOne', {'os.large': (8, 8192)}, None),
            ('linaro-us', 'RegionTwo', {'os.huge': (64, 262144)}, None))
        self.assertNotIn('NPA052', self.codes(self.check(facts=facts)))
        self.provider['region-name'] = 'RegionTwo'
        self.builder['providers'][0]['region-name'] = 'RegionTwo'
        found = self.only(self.check(facts=facts), 'NPA052')
        self.assertIn('which cloud linaro-us RegionTwo does not offer '
                      '(its flavors: os.huge)', found[0].message)

    def test_cloud_without_facts_or_without_flavors_is_skipped(self):
        self.pool['labels'][0]['flavor-name'] = 'nowhere'
        facts = file_facts(('elsewhere', None, {'x': (1, 1)}, None))
        self.assertEqual([], self.check(facts=facts).findings)
        facts = file_facts(('linaro-us', None, None,
                            model.Quota(instances=100)))
        self.assertEqual([], self.check(facts=facts).findings)

    def test_one_region_facts_match_a_provider_with_a_region(self):
        self.pool['labels'][0]['flavor-name'] = 'nowhere'
        facts = file_facts(('linaro-us', None, {'os.large': (8, 8192)},
                            None))
        self.assertEqual(['NPA052'], self.codes(self.check(facts=facts)))

    def test_max_servers_above_subnet_addresses(self):
        facts = file_facts(('linaro-us', 'RegionOne', None,
                            model.Quota(addresses=8)))
        found = self.only(self.check(facts=facts), 'NPA060')
        self.assertIn('above the 8 servers the quota of linaro-us '
                      'RegionOne allows (bound by addresses',
                      found[0].message)
        self.pool['max-servers'] = 8
        self.assertEqual([], self.check(facts=facts).findings)

    def test_max_servers_above_ram_from_file_facts(self):
        facts = file_facts(('linaro-us', 'RegionOne',
                            {'os.large': (8, 8192)},
                            model.Quota(instances=100, ram=8192 * 6)))
        found = self.only(self.check(facts=facts), 'NPA060')
        self.assertIn('bound by ram', found[0].message)


class TestLabelSizeDiffers(CheckCase):

    def london(self, label):
        london = copy.deepcopy(self.provider)
        london.update({'name': 'linaro-london', 'cloud': 'linaro-london',
                       'region-name': 'London'})
        london['pools'][0]['labels'] = [label]
        self.launcher['providers'].append(london)
        self.builder['providers'].append(
            dict(self.builder['providers'][0], name='linaro-london',
                 cloud='linaro-london', **{'region-name': 'London'}))

    def test_min_ram_counts_as_a_ram_bound(self):
        self.london({'name': 'ubuntu-noble-arm64', 'min-ram': 32000,
                     'diskimage': 'ubuntu-noble-arm64'})
        found = self.only(self.check(facts=inventory_facts()), 'NPA053')
        self.assertIn('label ubuntu-noble-arm64 is 32000 MiB (min-ram '
                      '32000) in provider linaro-london but 8 vCPU / 8192 '
                      'MiB (os.large) in provider linaro-us',
                      found[0].message)

    def test_min_ram_picks_a_flavor_when_the_cloud_is_known(self):
        self.london({'name': 'ubuntu-noble-arm64', 'min-ram': 8000,
                     'flavor-name': 'opendev',
                     'diskimage': 'ubuntu-noble-arm64'})
        facts = inventory_facts()
        facts = facts_mod.Facts('f', facts.providers + file_facts(
            ('linaro-london', 'London',
             {'opendev.large': (8, 8192), 'opendev.xlarge': (16, 16384)},
             None)).providers)
        self.assertNotIn('NPA053', self.codes(self.check(facts=facts)))
        self.london({'name': 'debian-bookworm-arm64', 'min-ram': 9000,
                     'flavor-name': 'opendev',
                     'diskimage': 'debian-bookworm-arm64'})
        found = self.only(self.check(facts=facts), 'NPA053')
        self.assertIn('16 vCPU / 16384 MiB (opendev.xlarge)',
                      found[0].message)


class TestBuiltHere(CheckCase):
    """One answer to "does this file build that image?" for every rule."""

    def test_an_image_with_only_build_settings_is_built_by_its_builder(self):
        # Its env-vars make the file a builder; the builder builds it (with
        # no elements at all), so no rule may say nobody builds it.
        self.builder['diskimages'][1] = {
            'name': 'debian-bookworm-arm64', 'env-vars': {'ARCH': 'arm64'}}
        codes = self.codes(self.check())
        self.assertNotIn('NPA015', codes)
        found = self.only(self.check(), 'NPA023')
        self.assertIn('debian-bookworm-arm64', found[0].message)

    def test_own_dib_command_still_needs_the_efi_element(self):
        self.builder['diskimages'][1] = {
            'name': 'debian-bookworm-arm64',
            'dib-cmd': '/opt/dib/bin/disk-image-create',
            'env-vars': {'ARCH': 'arm64'}}
        found = self.only(self.check(), 'NPA023')
        self.assertIn('debian-bookworm-arm64', found[0].message)
