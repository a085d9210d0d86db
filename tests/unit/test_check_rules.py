"""Every check rule on small hand-written configs, positive and negative.

Each test starts from one clean Arm64 config set (a launcher, a builder
and a Zuul nodeset) that produces no findings at all, changes one thing,
and asserts the finding it should cause, where it should point.
"""

import copy
import os

import fixtures
import testtools
import yaml

from nodepool_aarch64 import model
from nodepool_aarch64.check import facts as facts_mod
from nodepool_aarch64.check import rules
from nodepool_aarch64.check import runner

LAUNCHER = {
    'zookeeper-servers': [{'host': 'zk.example.org', 'port': 2281}],
    'labels': [{'name': 'ubuntu-noble-arm64', 'min-ready': 0},
               {'name': 'debian-bookworm-arm64', 'min-ready': 0}],
    'providers': [{
        'name': 'linaro-us',
        'cloud': 'linaro-us',
        'region-name': 'RegionOne',
        'boot-timeout': 600,
        'launch-timeout': 800,
        'diskimages': [{'name': 'ubuntu-noble-arm64', 'config-drive': True},
                       {'name': 'debian-bookworm-arm64',
                        'config-drive': True}],
        'pools': [{
            'name': 'main',
            'max-servers': 10,
            'labels': [{'name': 'ubuntu-noble-arm64',
                        'flavor-name': 'os.large',
                        'diskimage': 'ubuntu-noble-arm64'},
                       {'name': 'debian-bookworm-arm64',
                        'flavor-name': 'os.large',
                        'diskimage': 'debian-bookworm-arm64'}],
        }],
    }],
    'diskimages': [{'name': 'ubuntu-noble-arm64'},
                   {'name': 'debian-bookworm-arm64'}],
}

UEFI = dict(model.UEFI_METADATA)

BUILDER = {
    'zookeeper-servers': [{'host': 'zk.example.org', 'port': 2281}],
    'providers': [{
        'name': 'linaro-us',
        'cloud': 'linaro-us',
        'region-name': 'RegionOne',
        'diskimages': [{'name': 'ubuntu-noble-arm64', 'meta': UEFI},
                       {'name': 'debian-bookworm-arm64', 'meta': UEFI}],
    }],
    'diskimages': [
        {'name': 'ubuntu-noble-arm64',
         'elements': ['ubuntu-minimal', 'vm', 'block-device-efi'],
         'release': 'noble', 'env-vars': {'ARCH': 'arm64'}},
        {'name': 'debian-bookworm-arm64',
         'elements': ['debian-minimal', 'vm', 'block-device-efi'],
         'release': 'bookworm', 'env-vars': {'ARCH': 'arm64'}},
    ],
}

ZUUL = [
    {'nodeset': {'name': 'ubuntu-noble-arm64',
                 'nodes': [{'name': 'primary',
                            'label': 'ubuntu-noble-arm64'}]}},
    {'job': {'name': 'unit-arm64',
             'nodeset': {'nodes': [{'name': 'node',
                                    'label': 'debian-bookworm-arm64'}]}}},
]


ZUUL_LAUNCHER = [
    {'image': {'name': 'noble-arm64', 'type': 'zuul'}},
    {'flavor': {'name': 'large'}},
    {'label': {'name': 'zl-arm64', 'image': 'noble-arm64',
               'flavor': 'large'}},
    {'section': {'name': 'arm64', 'abstract': True,
                 'launch-timeout': 800,
                 'label-defaults': {'boot-timeout': 600}}},
    {'section': {'name': 'linaro-us', 'parent': 'arm64',
                 'connection': 'linaro-us',
                 'flavors': [{'name': 'large', 'flavor-name': 'os.large'}],
                 'images': [{'name': 'noble-arm64',
                             'tags': {'hw_firmware_type': 'uefi'}}],
                 'labels': [{'name': 'zl-arm64'}]}},
    {'provider': {'name': 'linaro-us', 'section': 'linaro-us'}},
]


def inventory_facts(flavors=None, quota=None):
    flavors = flavors or {'os.large': (8, 8192), 'os.xlarge': (16, 32768)}
    return facts_mod.Facts('inventory.yaml', (facts_mod.ProviderFacts(
        name='linaro-us', cloud='linaro-us', region='RegionOne',
        quota=quota or model.Quota(instances=41, cores=720, ram=1441792,
                                   floating_ips=45),
        reserved=model.Quota(instances=1),
        flavors={n: model.Flavor(n, c, r)
                 for n, (c, r) in flavors.items()}),))


class CheckCase(testtools.TestCase):
    """Writes a config set to a temp dir and checks it."""

    def setUp(self):
        super().setUp()
        self.launcher = copy.deepcopy(LAUNCHER)
        self.builder = copy.deepcopy(BUILDER)
        self.zuul = copy.deepcopy(ZUUL)
        self.dir = self.useFixture(fixtures.TempDir()).path

    @property
    def provider(self):
        return self.launcher['providers'][0]

    @property
    def pool(self):
        return self.provider['pools'][0]

    def write(self, name, data):
        path = os.path.join(self.dir, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, 'w') as f:
            if isinstance(data, str):
                f.write(data)
            else:
                yaml.safe_dump(data, f, default_flow_style=False,
                               sort_keys=False)
        return path

    def check(self, facts=None, extra=(), launcher=True, builder=True,
              zuul=True, patience=3600):
        paths = []
        if launcher:
            paths.append(self.write('nodepool/nl01.yaml', self.launcher))
        if builder:
            paths.append(self.write('nodepool/nb01.yaml', self.builder))
        if zuul:
            paths.append(self.write('zuul.d/nodesets.yaml', self.zuul))
        return runner.run(paths + list(extra), facts=facts,
                          patience=patience)

    def codes(self, result):
        return sorted({f.code for f in result.findings})

    def only(self, result, code):
        found = [f for f in result.findings if f.code == code]
        self.assertNotEqual([], found, f'no {code} in {result.findings}')
        return found


class TestBaseline(CheckCase):

    def test_clean_set_has_no_findings(self):
        result = self.check(facts=inventory_facts())
        self.assertEqual([], result.findings)
        self.assertEqual([], result.skipped)

    def test_facts_rules_are_skipped_and_said_so(self):
        result = self.check()
        self.assertEqual([], result.findings)
        needing = sorted(c for c, r in rules.RULES.items() if r.needs_facts)
        self.assertEqual(needing, result.skipped)
        for code in needing:
            self.assertTrue(any(n.startswith(code) for n in result.notes))


class TestDuplicates(CheckCase):

    def test_duplicate_yaml_key(self):
        path = self.write('nodepool/nl02.yaml', (
            'labels:\n  - name: a\nproviders: []\nlabels:\n  - name: b\n'))
        found = self.only(self.check(extra=[path]), 'NPA002')
        self.assertEqual((path, 4, 1), (found[0].path, found[0].line,
                                        found[0].col))
        self.assertIn('first at line 1', found[0].message)

    def test_merge_key_override_is_not_duplicate(self):
        path = self.write('nodepool/nl02.yaml', (
            'labels:\n  - &base\n    name: a\n    min-ready: 0\n'
            '  - <<: *base\n    name: b\n'))
        self.assertNotIn('NPA002', self.codes(self.check(extra=[path])))

    def test_duplicate_pool_label(self):
        self.pool['labels'].append(copy.deepcopy(self.pool['labels'][0]))
        found = self.only(self.check(), 'NPA003')
        self.assertIn("label of pool main in provider linaro-us "
                      "'ubuntu-noble-arm64' defined twice",
                      found[0].message)

    def test_duplicate_provider_and_top_level_label(self):
        self.launcher['providers'].append(copy.deepcopy(self.provider))
        self.launcher['labels'].append({'name': 'ubuntu-noble-arm64'})
        messages = [f.message for f in self.only(self.check(), 'NPA003')]
        self.assertTrue(any(m.startswith("provider 'linaro-us'")
                            for m in messages))
        self.assertTrue(any(m.startswith("label 'ubuntu-noble-arm64'")
                            for m in messages))

    def test_duplicate_nodeset_across_zuul_files(self):
        other = self.write('zuul.d/more.yaml', self.zuul[:1])
        found = self.only(self.check(extra=[other]), 'NPA003')
        self.assertIn("nodeset 'ubuntu-noble-arm64' defined twice",
                      found[0].message)

    def test_job_variants_are_not_duplicates(self):
        self.zuul.append(copy.deepcopy(self.zuul[1]))
        self.assertEqual([], self.check().findings)

    def test_provider_in_two_launchers(self):
        # The same pools in two launchers share max-servers (Nodepool
        # counts a pool's nodes in ZooKeeper): that is a provider run by
        # two hosts, not a mistake.
        other = self.write('nodepool/nl02.yaml', self.launcher)
        self.assertEqual([], self.check(extra=[other]).findings)
        self.launcher['providers'][0]['pools'][0]['max-servers'] = 5
        found = self.only(self.check(extra=[other]), 'NPA004')
        self.assertEqual('warning', found[0].severity)
        self.assertIn('other names or max-servers', found[0].message)


class TestReferences(CheckCase):

    def test_nodeset_label_not_served(self):
        self.zuul[0]['nodeset']['nodes'][0]['label'] = 'centos-7-arm64'
        result = self.check()
        found = self.only(result, 'NPA010')
        self.assertIn('nodeset ubuntu-noble-arm64 asks for label '
                      'centos-7-arm64', found[0].message)
        self.assertTrue(found[0].path.endswith('zuul.d/nodesets.yaml'))
        self.assertEqual(1, len(result.errors))

    def test_job_inline_nodeset_and_project_variant(self):
        self.zuul[1]['job']['nodeset']['nodes'][0]['label'] = 'nope-1-arm64'
        self.zuul.append({'project': {'check': {'jobs': [
            {'unit-arm64': {'nodeset': {'nodes': [
                {'name': 'x', 'label': 'nope-2-arm64'}]}}}]}}})
        messages = [f.message for f in self.only(self.check(), 'NPA010')]
        self.assertEqual(2, len(messages))
        self.assertTrue(any('job unit-arm64 asks for label nope-1-arm64' in m
                            for m in messages))
        self.assertTrue(any('project project check job unit-arm64 asks '
                            'for label nope-2-arm64' in m for m in messages))

    def test_label_only_in_disabled_pool_is_not_served(self):
        self.pool['max-servers'] = 0
        self.assertEqual(2, len(self.only(self.check(), 'NPA010')))

    def test_static_driver_nodes_serve_labels(self):
        self.launcher['labels'].append({'name': 'static-arm64'})
        self.launcher['providers'].append({
            'name': 'static', 'driver': 'static', 'pools': [{
                'name': 'main', 'nodes': [
                    {'name': 'h1.example.org',
                     'labels': ['static-arm64']}]}]})
        self.zuul[0]['nodeset']['nodes'][0]['label'] = 'static-arm64'
        self.assertEqual([], self.check().findings)
        self.launcher['labels'].pop()
        self.assertEqual(['NPA011'], self.codes(self.check()))

    def test_unknown_driver_is_a_validator_finding(self):
        self.launcher['providers'].append({'name': 'x',
                                           'driver': 'nosuchdriver'})
        found = self.only(self.check(), 'NPA001')
        self.assertIn('nosuchdriver', found[0].message)

    def test_no_launcher_no_label_check(self):
        result = self.check(launcher=False)
        self.assertNotIn('NPA010', self.codes(result))
        self.assertTrue(any('NPA010' in n for n in result.notes))

    def test_zuul_launcher_labels_serve(self):
        self.zuul += copy.deepcopy(ZUUL_LAUNCHER)
        self.zuul[0]['nodeset']['nodes'][0]['label'] = 'zl-arm64'
        self.zuul[1]['job']['nodeset']['nodes'][0]['label'] = 'zl-arm64'
        self.assertEqual([], self.check(launcher=False).findings)

    def test_zuul_launcher_label_without_provider_is_not_served(self):
        self.zuul += copy.deepcopy(ZUUL_LAUNCHER)[:-1]
        self.zuul.append({'provider': {'name': 'p2', 'section': 'other'}})
        self.zuul.append({'section': {'name': 'other'}})
        self.zuul[0]['nodeset']['nodes'][0]['label'] = 'zl-arm64'
        found = self.only(self.check(launcher=False), 'NPA010')
        self.assertIn('label zl-arm64', found[0].message)

    def test_job_names_undefined_nodeset(self):
        self.zuul.append({'job': {'name': 'j2',
                                  'nodeset': 'ubuntu-noble-arm46'}})
        self.zuul.append({'project': {'check': {'jobs': [
            {'j2': {'nodeset': 'ubuntu-noble-arm64'}},
            {'j3': {'nodeset': {'alternatives': ['nope',
                                                 'ubuntu-noble-arm64']}}},
        ]}}})
        found = self.only(self.check(), 'NPA016')
        self.assertEqual(['nodeset nope', 'nodeset ubuntu-noble-arm46'],
                         sorted(' '.join(f.message.split()[:2])
                                for f in found))
        self.assertEqual('warning', found[0].severity)

    def test_nodesets_from_elsewhere_are_not_judged(self):
        self.zuul = [{'job': {'name': 'j', 'nodeset': 'ubuntu-noble'}}]
        self.assertEqual([], self.check().findings)

    def test_pool_label_undeclared(self):
        self.launcher['labels'].pop()
        found = self.only(self.check(), 'NPA011')
        self.assertIn('label debian-bookworm-arm64 is not declared',
                      found[0].message)

    def test_label_image_not_in_provider(self):
        self.provider['diskimages'].pop()
        found = self.only(self.check(), 'NPA012')
        self.assertIn('provider linaro-us does not list',
                      found[0].message)
        # The position is the label's diskimage key.
        self.assertIn('diskimage', self.launcher_line(found[0]))

    def launcher_line(self, finding):
        with open(finding.path) as f:
            line = f.read().splitlines()[finding.line - 1]
        return line[finding.col - 1:]

    def test_label_image_via_shared_anchor(self):
        # Two providers share one diskimages list through an anchor; the
        # image missing from it breaks both, and each is reported.
        text = yaml.safe_dump(self.launcher, sort_keys=False)
        data = yaml.safe_load(text)
        data['providers'][0]['diskimages'].pop()
        second = copy.deepcopy(data['providers'][0])
        second['name'] = 'linaro-us-2'
        data['providers'].append(second)
        text = yaml.safe_dump(data, sort_keys=False)
        text = text.replace('  diskimages:\n  - name: ubuntu-noble-arm64\n'
                            '    config-drive: true\n',
                            '  diskimages: &images\n'
                            '  - name: ubuntu-noble-arm64\n'
                            '    config-drive: true\n', 1)
        head, tail = text.split('- name: linaro-us-2', 1)
        tail = tail.replace('  diskimages:\n  - name: ubuntu-noble-arm64\n'
                            '    config-drive: true\n',
                            '  diskimages: *images\n', 1)
        text = head + '- name: linaro-us-2' + tail
        self.assertIn('*images', text)
        path = self.write('nodepool/nl02.yaml', text)
        found = self.only(self.check(extra=[path], launcher=False),
                          'NPA012')
        providers = {f.message.split()[1] for f in found}
        self.assertEqual({'linaro-us', 'linaro-us-2'}, providers)

    def test_cloud_image_missing(self):
        label = self.pool['labels'][0]
        del label['diskimage']
        label['cloud-image'] = 'noble-cloud-arm64'
        found = self.only(self.check(), 'NPA013')
        self.assertIn('cloud-image noble-cloud-arm64', found[0].message)
        self.provider['cloud-images'] = [{'name': 'noble-cloud-arm64',
                                          'image-name': 'noble-arm64'}]
        self.assertNotIn('NPA013', self.codes(self.check()))

    def test_diskimage_not_top_level(self):
        self.launcher['diskimages'].pop()
        result = self.check()
        messages = [f.message for f in self.only(result, 'NPA014')]
        self.assertEqual(2, len(messages))
        self.assertNotIn('NPA012', self.codes(result))

    def test_diskimage_not_uploaded_to_provider(self):
        self.builder['providers'][0]['diskimages'].pop()
        found = self.only(self.check(), 'NPA015')
        self.assertIn('has no provider linaro-us uploading it',
                      found[0].message)

    def test_diskimage_built_by_no_builder(self):
        self.builder['diskimages'][1].pop('elements')
        self.builder['diskimages'][1].pop('env-vars')
        found = self.only(self.check(), 'NPA015')
        self.assertIn('no builder in this config set builds it',
                      found[0].message)

    def test_upload_check_needs_a_builder(self):
        self.builder['providers'][0]['diskimages'].pop()
        result = self.check(builder=False)
        self.assertNotIn('NPA015', self.codes(result))
        self.assertTrue(any('NPA015' in n for n in result.notes))


class TestArchitecture(CheckCase):

    def test_x86_image_in_arm64_label(self):
        self.builder['diskimages'][0]['env-vars']['ARCH'] = 'amd64'
        found = self.only(self.check(), 'NPA020')
        self.assertIn('ARCH=amd64', found[0].message)
        self.assertIn('label name ubuntu-noble-arm64 says arm64',
                      found[0].message)

    def test_arm64_label_on_x86_image_by_name(self):
        self.pool['labels'][0]['diskimage'] = 'ubuntu-noble-amd64'
        self.provider['diskimages'].append({'name': 'ubuntu-noble-amd64'})
        self.launcher['diskimages'].append({'name': 'ubuntu-noble-amd64'})
        self.assertIn('NPA020', self.codes(self.check(builder=False)))

    def test_pool_mixes_architectures(self):
        self.launcher['labels'].append({'name': 'ubuntu-noble'})
        self.launcher['diskimages'].append({'name': 'ubuntu-noble'})
        self.provider['diskimages'].append({'name': 'ubuntu-noble'})
        self.pool['labels'].append({'name': 'ubuntu-noble',
                                    'diskimage': 'ubuntu-noble',
                                    'flavor-name': 'os.large'})
        found = self.only(self.check(builder=False), 'NPA021')
        self.assertIn('labels with no Arm64 image (ubuntu-noble)',
                      found[0].message)

    def test_arm64_without_uefi(self):
        del self.builder['providers'][0]['diskimages'][0]['meta']
        found = self.only(self.check(), 'NPA022')
        self.assertIn('ubuntu-noble-arm64', found[0].message)

    def test_uefi_from_top_level_metadata_counts(self):
        del self.builder['providers'][0]['diskimages'][0]['meta']
        self.builder['diskimages'][0]['metadata'] = UEFI
        self.assertNotIn('NPA022', self.codes(self.check()))

    def test_x86_image_needs_no_uefi(self):
        self.builder['diskimages'].append({
            'name': 'ubuntu-noble', 'elements': ['ubuntu-minimal']})
        self.builder['providers'][0]['diskimages'].append(
            {'name': 'ubuntu-noble'})
        self.assertEqual([], self.check().findings)

    def test_arm64_without_efi_element_even_via_parent(self):
        self.builder['diskimages'][0]['elements'].remove('block-device-efi')
        self.builder['diskimages'].insert(0, {
            'name': 'base-arm64', 'abstract': True,
            'elements': ['block-device-efi']})
        self.builder['diskimages'][2]['parent'] = 'base-arm64'
        self.builder['diskimages'][2]['elements'].remove('block-device-efi')
        found = self.only(self.check(), 'NPA023')
        self.assertEqual(1, len(found))
        self.assertIn('ubuntu-noble-arm64', found[0].message)


class TestFlavors(CheckCase):

    def test_min_ram_with_prefix_flavor(self):
        self.pool['labels'][0].update({'min-ram': 8000,
                                       'flavor-name': 'opendev'})
        self.pool['labels'][1]['flavor-name'] = 'opendev-16C-16GB'
        found = self.only(self.check(), 'NPA050')
        self.assertIn('may boot opendev-16C-16GB', found[0].message)

    def test_min_ram_with_unambiguous_flavor_is_quiet(self):
        self.pool['labels'][0]['min-ram'] = 8000
        self.assertNotIn('NPA050', self.codes(self.check()))

    def test_min_ram_pick_from_facts(self):
        self.pool['labels'][0]['min-ram'] = 16000
        facts = inventory_facts(flavors={'os.large': (8, 8192),
                                         'os.large-16': (8, 16384)})
        found = self.only(self.check(facts=facts), 'NPA054')
        self.assertIn('which is os.large-16', found[0].message)
        self.assertNotIn('NPA050', self.codes(self.check(facts=facts)))
        self.pool['labels'][0]['min-ram'] = 8000
        self.assertEqual([], self.check(facts=facts).findings)

    def test_flavor_copied_from_other_cloud(self):
        osuosl = copy.deepcopy(self.provider)
        osuosl.update({'name': 'osuosl', 'cloud': 'osuosl'})
        for label in osuosl['pools'][0]['labels']:
            label['flavor-name'] = 'opendev.large'
        osuosl['pools'][0]['labels'][1]['flavor-name'] = 'os.large'
        self.provider['pools'][0]['labels'].pop()
        self.provider['diskimages'].pop()
        self.launcher['providers'].append(osuosl)
        found = self.only(self.check(builder=False), 'NPA051')
        self.assertIn('provider osuosl pool main label '
                      'debian-bookworm-arm64 uses flavor-name os.large',
                      found[0].message)
        osuosl['pools'][0]['labels'][1]['flavor-name'] = 'opendev.large'
        self.assertNotIn('NPA051', self.codes(self.check(builder=False)))

    def test_flavor_not_in_cloud(self):
        self.pool['labels'][1]['flavor-name'] = 'opendev.large'
        found = self.only(self.check(facts=inventory_facts()), 'NPA052')
        self.assertIn('cloud linaro-us RegionOne does not offer',
                      found[0].message)
        self.assertEqual([], [f for f in self.check().findings
                              if f.code == 'NPA052'])

    def test_label_flavor_differs_between_providers(self):
        london = copy.deepcopy(self.provider)
        london.update({'name': 'linaro-london', 'cloud': 'linaro-london'})
        london['pools'][0]['labels'][0]['flavor-name'] = 'big'
        self.launcher['providers'].append(london)
        facts = inventory_facts()
        facts = facts_mod.Facts('inv', facts.providers + (
            facts_mod.ProviderFacts(
                'linaro-london', 'linaro-london', 'London',
                model.Quota(instances=9), model.Quota(),
                {'big': model.Flavor('big', 16, 32768),
                 'os.large': model.Flavor('os.large', 8, 8192)}),))
        found = self.only(self.check(facts=facts, builder=False), 'NPA053')
        self.assertIn('16 vCPU / 32768 MiB (big) in provider linaro-london',
                      found[0].message)


class TestReadiness(CheckCase):

    def test_min_ready_on_arm64(self):
        self.launcher['labels'][0]['min-ready'] = 1
        found = self.only(self.check(), 'NPA030')
        self.assertEqual('warning', found[0].severity)
        self.assertEqual(0, len(self.check().errors))

    def test_min_ready_on_unserved_label(self):
        self.launcher['labels'].append({'name': 'ubuntu-noble',
                                        'min-ready': 2})
        found = self.only(self.check(), 'NPA031')
        self.assertIn('no pool of nl01 serves it', found[0].message)
        self.assertNotIn('NPA030', self.codes(self.check()))

    def test_min_ready_in_two_launchers(self):
        self.launcher['labels'][0]['min-ready'] = 1
        other = copy.deepcopy(self.launcher)
        other['providers'][0]['name'] = 'linaro-london'
        path = self.write('nodepool/nl02.yaml', other)
        found = self.only(self.check(extra=[path]), 'NPA032')
        self.assertIn('nl01.yaml', found[0].message)


class TestTimeouts(CheckCase):

    def test_arm64_boot_timeout_too_short(self):
        self.provider['boot-timeout'] = 120
        found = self.only(self.check(), 'NPA040')
        self.assertIn('boot-timeout is 120 s', found[0].message)

    def test_arm64_default_boot_timeout(self):
        del self.provider['boot-timeout']
        found = self.only(self.check(), 'NPA040')
        self.assertIn('boot-timeout defaults to 60 s', found[0].message)

    def test_x86_provider_short_boot_timeout_is_fine(self):
        for label in self.pool['labels']:
            label['name'] = label['name'].replace('-arm64', '')
            label['diskimage'] = label['diskimage'].replace('-arm64', '')
        for entry in (self.launcher['labels'] + self.launcher['diskimages']
                      + self.provider['diskimages']):
            entry['name'] = entry['name'].replace('-arm64', '')
        self.provider['boot-timeout'] = 120
        self.assertEqual([], self.check(builder=False, zuul=False).findings)

    def test_default_launch_timeout_exceeds_patience(self):
        del self.provider['launch-timeout']
        result = self.check()
        found = self.only(result, 'NPA041')
        self.assertIn('3600 s (the default) x 3 retries = 10800 s',
                      found[0].message)

    def test_patience_is_an_option(self):
        self.assertIn('NPA041', self.codes(self.check(patience=1800)))
        self.assertNotIn('NPA041', self.codes(self.check(patience=2400)))


class TestCapacity(CheckCase):

    def test_max_servers_above_instances(self):
        self.pool['max-servers'] = 41
        found = self.only(self.check(facts=inventory_facts()), 'NPA060')
        self.assertIn('above the 40 servers', found[0].message)
        self.assertIn('bound by instances', found[0].message)

    def test_max_servers_above_cores_of_largest_flavor(self):
        self.pool['labels'][1]['flavor-name'] = 'os.xlarge'
        facts = inventory_facts(quota=model.Quota(instances=100, cores=128))
        found = self.only(self.check(facts=facts), 'NPA060')
        self.assertIn('bound by cores', found[0].message)
        self.pool['max-servers'] = 8
        self.assertNotIn('NPA060', self.codes(self.check(facts=facts)))

    def test_max_servers_above_floating_ips(self):
        facts = inventory_facts(quota=model.Quota(floating_ips=8))
        found = self.only(self.check(facts=facts), 'NPA060')
        self.assertIn('bound by floating-ips', found[0].message)

    def test_matched_by_cloud_and_region(self):
        self.provider['name'] = 'linaro-us-regionone'
        self.builder['providers'][0]['name'] = 'linaro-us-regionone'
        self.pool['max-servers'] = 50
        self.assertIn('NPA060',
                      self.codes(self.check(facts=inventory_facts())))


class TestZuulLauncher(CheckCase):

    def setUp(self):
        super().setUp()
        self.zuul += copy.deepcopy(ZUUL_LAUNCHER)
        self.section = self.zuul[-2]['section']

    def test_clean(self):
        self.assertEqual([], self.check().findings)

    def test_label_names_undefined_flavor(self):
        self.zuul[-4]['label']['flavor'] = 'huge'
        found = self.only(self.check(), 'NPA070')
        self.assertIn('uses flavor huge', found[0].message)

    def test_section_lists_undefined_image_and_parent(self):
        self.section['images'].append({'name': 'ghost'})
        self.section['parent'] = 'nowhere'
        messages = sorted(f.message for f in self.only(self.check(),
                                                       'NPA071'))
        self.assertEqual(2, len(messages))
        self.assertIn('lists image ghost', messages[0])
        self.assertIn('names parent nowhere', messages[1])

    def test_provider_names_undefined_section(self):
        self.zuul[-1]['provider']['section'] = 'linaro-uk'
        result = self.check()
        self.assertIn('NPA071', self.codes(result))
        # With no section, the provider serves nothing.
        self.zuul[0]['nodeset']['nodes'][0]['label'] = 'zl-arm64'
        self.assertIn('NPA010', self.codes(self.check(launcher=False)))

    def test_label_flavor_not_configured_in_section_chain(self):
        self.section['flavors'] = []
        found = self.only(self.check(), 'NPA072')
        self.assertIn('provider linaro-us offers label zl-arm64, but no '
                      'section of it configures its flavor large',
                      found[0].message)

    def test_flavor_from_parent_section_counts(self):
        self.zuul[-3]['section']['flavors'] = self.section.pop('flavors')
        self.assertEqual([], self.check().findings)
