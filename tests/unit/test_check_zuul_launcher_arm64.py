"""The Arm64, timeout, min-ready and facts rules on zuul-launcher objects.

The issue's example: an ``-arm64`` label that boots an x86 image, with
``min-ready: 4`` and the default boot timeout, gave no finding at all.
"""

import os

from nodepool_aarch64 import model
from nodepool_aarch64.check import facts as facts_mod
from nodepool_aarch64.check import runner
from tests import base

# One Arm64 region, right in every way the rules look at.
CLEAN = """\
- image:
    name: ubuntu-noble-arm64
    type: zuul
- image:
    name: ubuntu-noble
    type: zuul
- flavor:
    name: large
- label:
    name: ubuntu-noble-arm64
    image: ubuntu-noble-arm64
    flavor: large
- label:
    name: debian-arm64
    image: ubuntu-noble-arm64
    flavor: large
- section:
    name: arm64
    abstract: true
    launch-timeout: 800
    label-defaults:
      boot-timeout: 600
    image-defaults:
      tags:
        hw_firmware_type: uefi
- section:
    name: osuosl
    parent: arm64
    connection: osuosl
    region: RegionOne
    resource-limits:
      instances: 15
    flavors:
      - name: large
        flavor-name: opendev.large
    images:
      - ubuntu-noble-arm64
    labels:
      - ubuntu-noble-arm64
      - debian-arm64
- provider:
    name: osuosl-regionone
    section: osuosl
"""


def osuosl_facts(flavors=('opendev.large',), instances=15):
    return facts_mod.Facts('facts.yaml', (facts_mod.ProviderFacts(
        name=None, cloud='osuosl', region='RegionOne',
        quota=model.Quota(instances=instances),
        reserved=model.Quota(),
        flavors={n: model.Flavor(n, 8, 8192) for n in flavors}),))


class Case(base.TestCase):

    def check(self, text, facts=None):
        path = self.write(self.tempdir(), 'zuul.d/launcher.yaml', text)
        return path, runner.run([path], facts=facts)

    def found(self, result, code):
        return [f for f in result.findings if f.code == code]

    def line(self, path, finding):
        with open(path) as f:
            return f.read().splitlines()[finding.line - 1]


class TestCleanArm64(Case):

    def test_no_findings(self):
        _, result = self.check(CLEAN, facts=osuosl_facts())
        self.assertEqual([], [str(f) for f in result.findings])
        self.assertEqual([], result.skipped)


class TestTheIssuesExample(Case):
    """-arm64 label, x86 image, min-ready 4, default boot-timeout."""

    TEXT = CLEAN.replace(
        '- label:\n    name: ubuntu-noble-arm64\n'
        '    image: ubuntu-noble-arm64\n    flavor: large\n',
        '- label:\n    name: ubuntu-noble-arm64\n'
        '    image: ubuntu-noble\n    flavor: large\n    min-ready: 4\n'
    ).replace('    label-defaults:\n      boot-timeout: 600\n', '').replace(
        '    images:\n      - ubuntu-noble-arm64\n',
        '    images:\n      - ubuntu-noble-arm64\n      - ubuntu-noble\n')

    def test_each_defect_is_found(self):
        path, result = self.check(self.TEXT)
        (arch,) = self.found(result, 'NPA020')
        self.assertIn('label ubuntu-noble-arm64 mixes architectures',
                      arch.message)
        self.assertIn('image ubuntu-noble (the Arm64 build is '
                      'ubuntu-noble-arm64) says x86_64', arch.message)
        (warm,) = self.found(result, 'NPA030')
        self.assertIn('min-ready: 4', self.line(path, warm))
        # The mixed label's arch is unknown; the other Arm64 label still
        # boots with Zuul's default of 300 s.
        (boot,) = self.found(result, 'NPA040')
        self.assertIn('boot-timeout defaults to 300 s', boot.message)
        self.assertIn('(debian-arm64)', boot.message)


class TestUefiTags(Case):

    def test_arm64_image_without_uefi_tag(self):
        text = CLEAN.replace('    image-defaults:\n      tags:\n'
                             '        hw_firmware_type: uefi\n', '')
        path, result = self.check(text)
        (finding,) = self.found(result, 'NPA022')
        self.assertIn('image ubuntu-noble-arm64 without tags '
                      'hw_firmware_type: uefi', finding.message)
        self.assertIn('images:', self.line(path, finding))

    def test_cloud_images_are_the_clouds_business(self):
        text = CLEAN.replace(
            '- image:\n    name: ubuntu-noble-arm64\n    type: zuul\n',
            '- image:\n    name: ubuntu-noble-arm64\n    type: cloud\n')
        text = text.replace('      - ubuntu-noble-arm64\n    labels:',
                            '      - name: ubuntu-noble-arm64\n'
                            '        image-id: abcd\n    labels:')
        text = text.replace('    image-defaults:\n      tags:\n'
                            '        hw_firmware_type: uefi\n', '')
        _, result = self.check(text)
        self.assertEqual([], self.found(result, 'NPA022'))


class TestTimeouts(Case):

    def test_shared_label_defaults_is_one_finding(self):
        text = CLEAN.replace('      boot-timeout: 600\n',
                             '      boot-timeout: 120\n')
        text += ('- provider:\n    name: osuosl-two\n'
                 '    section: osuosl\n')
        path, result = self.check(text)
        (finding,) = self.found(result, 'NPA040')
        self.assertIn('boot-timeout is 120 s', finding.message)
        self.assertIn('(debian-arm64, ubuntu-noble-arm64)', finding.message)
        self.assertIn('boot-timeout: 120', self.line(path, finding))

    def test_label_entry_override_is_the_cause(self):
        text = CLEAN.replace(
            '    labels:\n      - ubuntu-noble-arm64\n',
            '    labels:\n      - name: ubuntu-noble-arm64\n'
            '        boot-timeout: 200\n')
        path, result = self.check(text)
        (finding,) = self.found(result, 'NPA040')
        self.assertIn('(ubuntu-noble-arm64)', finding.message)
        self.assertIn('boot-timeout: 200', self.line(path, finding))

    def test_short_launch_timeout(self):
        text = CLEAN.replace('    launch-timeout: 800\n',
                             '    launch-timeout: 300\n')
        path, result = self.check(text)
        (finding,) = self.found(result, 'NPA040')
        self.assertIn('launch-timeout is 300 s', finding.message)


class TestFacts(Case):
    """Facts match by connection (the clouds.yaml cloud) and region."""

    def test_resource_limits_above_quota(self):
        path, result = self.check(CLEAN, facts=osuosl_facts(instances=8))
        (finding,) = self.found(result, 'NPA060')
        self.assertIn('resource-limits instances 15 is above the 8',
                      finding.message)
        self.assertIn('instances: 15', self.line(path, finding))

    def test_flavor_name_not_in_cloud(self):
        path, result = self.check(CLEAN,
                                  facts=osuosl_facts(flavors=('m1.large',)))
        (finding,) = self.found(result, 'NPA052')
        self.assertIn('flavor-name opendev.large', finding.message)
        self.assertIn('osuosl RegionOne', finding.message)

    def test_other_region_is_not_matched(self):
        text = CLEAN.replace('region: RegionOne', 'region: RegionTwo')
        _, result = self.check(text, facts=osuosl_facts(instances=8))
        self.assertEqual([], self.found(result, 'NPA060'))


class TestShippedOneRegionRender(Case):

    def test_render_is_clean_with_its_facts(self):
        inventory = os.path.join(base.REPO, 'nodepool_aarch64', 'data',
                                 'one-region.yaml')
        out = self.tempdir()
        code, _, err = self.run_cli('render', '--inventory', inventory,
                                    '--output-dir', out)
        self.assertEqual(0, code, err)
        facts = runner.load_facts(inventory_path=inventory)
        result = runner.run([os.path.join(out, 'zuul.d')], facts=facts)
        self.assertEqual([], [str(f) for f in result.findings])
        self.assertEqual([], result.skipped)


class TestProviderMixesArch(Case):

    def test_arm64_and_x86_labels_in_one_provider(self):
        text = CLEAN.replace(
            '- label:\n    name: debian-arm64\n',
            '- image:\n    name: ubuntu-noble-amd64\n    type: cloud\n'
            '- label:\n    name: ubuntu-noble-x86\n'
            '    image: ubuntu-noble-amd64\n    flavor: large\n'
            '- label:\n    name: debian-arm64\n')
        text = text.replace(
            '    images:\n      - ubuntu-noble-arm64\n',
            '    images:\n      - ubuntu-noble-arm64\n'
            '      - name: ubuntu-noble-amd64\n        image-id: abc\n')
        text = text.replace('      - debian-arm64\n',
                            '      - debian-arm64\n      - ubuntu-noble-x86\n')
        path, result = self.check(text)
        (finding,) = self.found(result, 'NPA021')
        self.assertIn('x86 labels (ubuntu-noble-x86)', finding.message)
        self.assertIn('name: osuosl-regionone', self.line(path, finding))


class TestBrokenShapes(Case):

    def test_a_label_image_that_is_not_a_name_crashes_no_rule(self):
        # Found by the fuzz test: an image given as a list of mappings.
        text = CLEAN.replace(
            '    name: ubuntu-noble-arm64\n    image: ubuntu-noble-arm64\n',
            '    name: ubuntu-noble-arm64\n    image:\n      - name: null\n')
        _, result = self.check(text)
        self.assertEqual([], [str(c) for c in result.crashes])
