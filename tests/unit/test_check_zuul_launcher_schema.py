"""zuul-launcher objects against Zuul 14.3: its schemas (NPA073) and the
effective provider its flattenConfig builds.

Every case is first shown to Zuul's own parser and flattenConfig
(tests/zuul_launcher_engine.py): what Zuul rejects must be an NPA073
error at the line of the key to change, what Zuul accepts must give
none, and the effective entries must be the ones Zuul builds.
"""

import os
from unittest import mock

import testtools
import yaml
from zuul import version as zuul_version

from nodepool_aarch64.check import configset
from nodepool_aarch64.check import effective
from nodepool_aarch64.check import runner
from nodepool_aarch64.check import zuulschema
from tests import base
from tests import zuul_launcher_engine as engine

GOOD = """\
- image:
    name: ubuntu-noble-arm64
    type: zuul
- image:
    name: debian-cloud-arm64
    type: cloud
- flavor:
    name: large
- flavor:
    name: xlarge
- label:
    name: ubuntu-noble-arm64
    image: ubuntu-noble-arm64
    flavor: large
- label:
    name: debian-arm64
    image: debian-cloud-arm64
    flavor: large
    aliases: [ubuntu-noble-arm64]
- job:
    name: build-noble
    image-build-name: ubuntu-noble-arm64
- section:
    name: base
    abstract: true
    connection: osuosl
    launch-timeout: 800
    label-defaults:
      boot-timeout: 600
      key-name: root-keys
      tags: {team: infra, arch: arm64}
    image-defaults:
      config-drive: true
      tags: {hw_firmware_type: uefi}
    flavor-defaults:
      public-ipv4: true
    flavors:
      - name: large
        flavor-name: opendev.large
      - name: xlarge
        flavor-name: opendev.xlarge
    images:
      - name: ubuntu-noble-arm64
        tags: {hw_disk_bus: scsi}
      - name: debian-cloud-arm64
        image-id: 1234-abcd
        username: debian
- section:
    name: region-one
    parent: base
    region: RegionOne
    images:
      - ubuntu-noble-arm64
    labels:
      - name: ubuntu-noble-arm64
        tags: {arch: aarch64}
      - name: debian-arm64
        flavor: xlarge
- provider:
    name: osuosl-regionone
    section: region-one
    labels:
      - name: debian-arm64
        boot-timeout: 900
"""


def _stanzas(text):
    return [s for s in yaml.safe_load(text) if 'job' not in s]


class CheckCase(base.TestCase):

    def check(self, text):
        path = self.write(self.tempdir(), 'zuul.d/launcher.yaml', text)
        return path, runner.run([path])

    def codes(self, result, code):
        return [f for f in result.findings if f.code == code]

    def line_of(self, path, finding):
        with open(path) as f:
            return f.read().splitlines()[finding.line - 1]


class TestPinnedToZuul(testtools.TestCase):

    def test_zuul_is_the_pinned_version(self):
        self.assertEqual(zuulschema.ZUUL_VERSION,
                         zuul_version.release_string)

    def test_pinned_key_sets_are_zuuls(self):
        drivers, objects, other = zuulschema.from_zuul()
        self.assertEqual(zuulschema.PINNED, drivers)
        self.assertEqual(zuulschema.PINNED_OBJECTS, objects)
        self.assertEqual(zuulschema.PINNED_OTHER_KEYS, other)

    def test_pinned_copy_is_used_without_zuul(self):
        zuulschema.key_sets.cache_clear()
        self.addCleanup(zuulschema.key_sets.cache_clear)
        with mock.patch.object(zuulschema, 'from_zuul',
                               side_effect=ImportError('no zuul')):
            drivers, objects = zuulschema.key_sets()
        self.assertIs(zuulschema.PINNED['openstack'][zuulschema.BODY],
                      drivers['openstack'][zuulschema.BODY])
        tolerant = drivers[zuulschema.ANY_DRIVER][zuulschema.LABEL][0]
        self.assertIn('subnet-ids', tolerant)      # an AWS key
        self.assertIn('networks', tolerant)        # an OpenStack key


class TestEffectiveConfig(CheckCase):
    """flatten() against Zuul's flattenConfig on the same stanzas."""

    def assertSameAsZuul(self, text, provider, driver='openstack'):
        zuul_config = engine.flatten(_stanzas(text), provider, driver)
        path = self.write(self.tempdir(), 'zuul.d/launcher.yaml', text)
        objects = configset.load([path]).zuul_launcher
        ours = {p.name: p for p in objects.effective()}[provider]
        for key in effective.LISTS:
            self.assertEqual(
                {e['name']: e for e in zuul_config[key]},
                {name: e.config for name, e in ours.entries(key).items()},
                key)
        return ours

    def test_inheritance_defaults_and_overrides(self):
        ours = self.assertSameAsZuul(GOOD, 'osuosl-regionone')
        # The provider lists the label again: its entry replaces the
        # section's whole, so the section's flavor override is gone.
        self.assertEqual('large', ours.labels['debian-arm64']
                         .config['flavor'])
        self.assertEqual(900, ours.labels['debian-arm64']
                         .config['boot-timeout'])
        self.assertEqual('RegionOne', ours.region)
        self.assertEqual('osuosl', ours.connection)
        # Re-listing an inherited image drops the attributes given above;
        # image-defaults still apply.
        self.assertEqual({'hw_firmware_type': 'uefi'},
                         ours.images['ubuntu-noble-arm64'].config['tags'])
        self.assertEqual('1234-abcd', ours.images['debian-cloud-arm64']
                         .config['image-id'])

    def test_final_label_takes_defaults_where_listed(self):
        text = GOOD.replace(
            '      - name: ubuntu-noble-arm64\n        tags: {arch: aarch64}',
            '      - name: ubuntu-noble-arm64\n        final: true')
        text = text.replace('    region: RegionOne\n',
                            '    region: RegionOne\n    label-defaults:\n'
                            '      boot-timeout: 1200\n')
        ours = self.assertSameAsZuul(text, 'osuosl-regionone')
        self.assertEqual(1200, ours.labels['ubuntu-noble-arm64']
                         .config['boot-timeout'])

    def test_static_driver(self):
        text = """\
- image: {name: bare, type: cloud}
- flavor: {name: any}
- label: {name: static-arm64, image: bare, flavor: any}
- section:
    name: lab
    connection: lab-hosts
    label-defaults: {boot-timeout: 60}
    images: [bare]
    flavors: [any]
    labels: [static-arm64]
    nodes:
      - name: arm1.example.org
        label: static-arm64
- provider: {name: lab, section: lab}
"""
        ours = self.assertSameAsZuul(text, 'lab', driver='static')
        self.assertEqual('static', ours.driver)
        _, result = self.check(text)
        self.assertEqual([], self.codes(result, 'NPA073'))


class TestZuulRejects(CheckCase):
    """Each mistake: Zuul refuses it, and check says where."""

    def assertZuulRejects(self, text, provider='osuosl-regionone'):
        self.assertRaises(Exception, engine.flatten, _stanzas(text),
                          provider)

    def assertNPA073(self, text, fragment, line_text):
        self.assertZuulRejects(text)
        path, result = self.check(text)
        found = self.codes(result, 'NPA073')
        self.assertEqual(1, len(found), [str(f) for f in found])
        self.assertIn(fragment, found[0].message)
        self.assertEqual(path, found[0].path)
        self.assertIn(line_text, self.line_of(path, found[0]))
        return found[0]

    def test_good_config_is_accepted_by_both(self):
        engine.flatten(_stanzas(GOOD), 'osuosl-regionone')
        _, result = self.check(GOOD)
        self.assertEqual([], [str(f) for f in result.findings])

    def test_image_instead_of_images_on_provider(self):
        text = GOOD.replace('    section: region-one\n',
                            '    section: region-one\n'
                            '    image:\n      - ubuntu-noble-arm64\n')
        self.assertNPA073(text, 'unknown key "image" (did you mean '
                                '"images"?)', 'image:')

    def test_images_as_a_mapping(self):
        text = GOOD.replace('    images:\n      - ubuntu-noble-arm64\n',
                            '    images:\n      ubuntu-noble-arm64: {}\n')
        finding = self.assertNPA073(text, '"images" must be a list',
                                    'images:')
        self.assertIn('not a mapping', finding.message)

    def test_flavors_on_a_provider(self):
        text = GOOD.replace('    section: region-one\n',
                            '    section: region-one\n'
                            '    flavors:\n      - name: large\n'
                            '        flavor-name: other\n')
        self.assertNPA073(text, 'only be set in a section', 'flavors:')

    def test_cloud_image_without_image_id(self):
        text = GOOD.replace('        image-id: 1234-abcd\n', '')
        self.assertNPA073(text, 'required key "image-id" is missing',
                          '- name: debian-cloud-arm64')

    def test_flavor_without_flavor_name(self):
        text = GOOD.replace('        flavor-name: opendev.xlarge\n', '')
        self.assertNPA073(text, 'required key "flavor-name" is missing',
                          '- name: xlarge')

    def test_unknown_key_in_label_defaults(self):
        text = GOOD.replace('      key-name: root-keys\n',
                            '      keyname: root-keys\n')
        self.assertNPA073(text, 'unknown key "keyname"', 'keyname:')

    def test_unknown_key_in_a_label_stanza(self):
        text = GOOD.replace('    flavor: large\n    aliases',
                            '    flavor: large\n    min-redy: 1\n'
                            '    aliases')
        path, result = self.check(text)
        found = self.codes(result, 'NPA073')
        self.assertEqual(1, len(found))
        self.assertIn('did you mean "min-ready"', found[0].message)
        self.assertRaises(Exception, engine.load, _stanzas(text))

    def test_unknown_key_in_a_section_image_entry(self):
        text = GOOD.replace('        username: debian\n',
                            '        user-name: debian\n')
        self.assertNPA073(text, 'unknown key "user-name"', 'user-name:')

    def test_a_section_shared_by_two_providers_is_one_finding(self):
        text = GOOD.replace('      key-name: root-keys\n',
                            '      keyname: root-keys\n')
        text += ('- provider:\n    name: second\n'
                 '    section: region-one\n')
        _, result = self.check(text)
        self.assertEqual(1, len(self.codes(result, 'NPA073')))

    def test_other_drivers_keys_are_tolerated(self):
        text = GOOD.replace('      key-name: root-keys\n',
                            '      key-name: root-keys\n'
                            '      subnet-ids: [subnet-1]\n'
                            '      volume-type: gp3\n')
        _, result = self.check(text)
        self.assertEqual([], self.codes(result, 'NPA073'))


# The section's label entry overrides the flavor; the provider does not
# list the label again.
OVERRIDE = GOOD.replace(
    "    labels:\n      - name: debian-arm64\n        boot-timeout: 900\n",
    "")


class TestEffectiveRules(CheckCase):

    def test_label_override_of_flavor_is_what_boots(self):
        # The label stanza's flavor (small) is in no section, but the
        # section's label entry overrides it with one that is.
        text = OVERRIDE.replace(
            "- flavor:\n    name: xlarge\n",
            "- flavor:\n    name: xlarge\n- flavor:\n    name: small\n")
        text = text.replace(
            '    image: debian-cloud-arm64\n    flavor: large\n',
            '    image: debian-cloud-arm64\n    flavor: small\n')
        config = engine.flatten(_stanzas(text), 'osuosl-regionone')
        self.assertEqual('xlarge', {e['name']: e for e in config['labels']}
                         ['debian-arm64']['flavor'])
        _, result = self.check(text)
        self.assertEqual([], [str(f) for f in result.findings])

    def test_override_to_an_unconfigured_flavor(self):
        text = OVERRIDE.replace(
            "- flavor:\n    name: xlarge\n",
            "- flavor:\n    name: xlarge\n- flavor:\n    name: small\n")
        text = text.replace('        flavor: xlarge\n',
                            '        flavor: small\n')
        path, result = self.check(text)
        found = self.codes(result, 'NPA072')
        self.assertEqual(1, len(found), [str(f) for f in result.findings])
        self.assertIn('label debian-arm64', found[0].message)
        self.assertIn('flavor small', found[0].message)

    def test_unknown_alias(self):
        text = GOOD.replace('aliases: [ubuntu-noble-arm64]',
                            'aliases: [ubuntu-nobel-arm64]')
        path, result = self.check(text)
        found = self.codes(result, 'NPA070')
        self.assertEqual(1, len(found))
        self.assertIn('alias ubuntu-nobel-arm64', found[0].message)
        layout = engine.load(_stanzas(text))
        self.assertRaises(Exception,
                          layout.labels['debian-arm64'].validateReferences,
                          layout)

    def test_zuul_image_without_a_build_job(self):
        text = GOOD.replace('- flavor:\n    name: large\n',
                            '- image:\n    name: debian-trixie-arm64\n'
                            '    type: zuul\n'
                            '- flavor:\n    name: large\n')
        path, result = self.check(text)
        found = self.codes(result, 'NPA074')
        self.assertEqual(1, len(found))
        self.assertIn('image debian-trixie-arm64', found[0].message)
        self.assertIn('type: zuul', self.line_of(path, found[0]))

    def test_no_build_jobs_in_the_set_is_not_judged(self):
        text = GOOD.replace('    image-build-name: ubuntu-noble-arm64\n',
                            '')
        _, result = self.check(text)
        self.assertEqual([], self.codes(result, 'NPA074'))

    def test_renamed_flavor_is_one_cause(self):
        # The flavor stanza is renamed; the section still lists the old
        # name.  Only that listing is reported, not every label on it.
        text = GOOD.replace('- flavor:\n    name: large\n',
                            '- flavor:\n    name: large-v2\n')
        text = text.replace('    flavor: large\n', '    flavor: large-v2\n')
        path, result = self.check(text)
        codes = sorted(f.code for f in result.findings)
        self.assertEqual(['NPA071'], codes, [str(f) for f in
                                             result.findings])


REALWORLD = os.path.join(base.REALWORLD, 'zuul-launcher',
                         'osism-zuul-providers-d40cb0e')


class TestRealZuulLauncherRepo(testtools.TestCase):

    def test_osism_has_exactly_its_one_real_error(self):
        base.require_realworld(self, REALWORLD)
        result = runner.run([REALWORLD])
        self.assertEqual([], result.warnings)
        (error,) = result.errors
        self.assertEqual('NPA010', error.code)
        self.assertTrue(error.path.endswith('zuul.d/nodesets.yaml'))
        self.assertIn('debian-trixie-4GB', error.message)
