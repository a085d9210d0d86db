"""False positives seen on real repositories, each from a minimal copy of
the construct that caused it."""

import json
import os

from nodepool_aarch64.check import runner
from nodepool_aarch64.check import tenant
from tests import base

# OpenDev retiring a cloud: the provider stays, its pool at max-servers 0
# and its diskimages emptied, while the pool still lists labels.
RETIRED = """\
labels:
  - name: ubuntu-jammy
diskimages:
  - name: ubuntu-jammy
providers:
  - name: live
    cloud: live
    boot-timeout: 120
    launch-timeout: 600
    diskimages:
      - name: ubuntu-jammy
    pools:
      - name: main
        max-servers: 10
        labels:
          - name: ubuntu-jammy
            diskimage: ubuntu-jammy
            flavor-name: m1.large
  - name: retiring
    cloud: retiring
    diskimages: []
    pools:
      - name: main
        max-servers: 0
        labels:
          - name: ubuntu-jammy
            diskimage: ubuntu-jammy
            flavor-name: m1.large
"""

# Two clouds of one operator with the same flavor catalogue: a label on
# the bigger flavor in each is no copy-paste.
ONE_OPERATOR = """\
labels:
  - name: small
  - name: big
diskimages:
  - name: img
providers:
{providers}
"""
_OPERATOR_PROVIDER = """\
  - name: {name}
    cloud: {name}
    boot-timeout: 120
    launch-timeout: 600
    diskimages:
      - name: img
    pools:
      - name: main
        max-servers: 5
        labels:
          - name: small
            diskimage: img
            flavor-name: {small}
          - name: big
            diskimage: img
            flavor-name: {big}
"""

# One anchored provider diskimage list, with a repeated entry, shared by
# three providers.
ANCHORED = """\
labels:
  - name: jammy
diskimages:
  - name: jammy
providers:
  - name: a
    cloud: a
    boot-timeout: 120
    launch-timeout: 600
    diskimages: &images
      - name: jammy
      - name: jammy
    pools:
      - name: main
        max-servers: 1
        labels:
          - {name: jammy, diskimage: jammy, flavor-name: m1}
  - name: b
    cloud: b
    boot-timeout: 120
    launch-timeout: 600
    diskimages: *images
    pools:
      - name: main
        max-servers: 1
        labels:
          - {name: jammy, diskimage: jammy, flavor-name: m1}
  - name: c
    cloud: c
    boot-timeout: 120
    launch-timeout: 600
    diskimages: *images
    pools:
      - name: main
        max-servers: 1
        labels:
          - {name: jammy, diskimage: jammy, flavor-name: m1}
"""


class Case(base.TestCase):

    def codes(self, result):
        return sorted(f.code for f in result.findings)


class TestRetiredCloud(Case):

    def test_disabled_pool_needs_no_image_and_no_timeouts(self):
        path = self.write(self.tempdir(), 'nodepool/nl.yaml', RETIRED)
        result = runner.run([path])
        self.assertEqual([], [str(f) for f in result.findings])

    def test_the_same_pool_switched_on_is_reported(self):
        path = self.write(self.tempdir(), 'nodepool/nl.yaml',
                          RETIRED.replace('max-servers: 0',
                                          'max-servers: 4'))
        codes = self.codes(runner.run([path]))
        self.assertIn('NPA012', codes)
        self.assertIn('NPA041', codes)


class TestFlavorsPerCloud(Case):

    def config(self, **flavors):
        providers = ''.join(_OPERATOR_PROVIDER.format(name=name,
                                                      small=small, big=big)
                            for name, (small, big) in flavors.items())
        return ONE_OPERATOR.format(providers=providers.rstrip('\n'))

    def test_one_operators_catalogue_is_not_a_copy(self):
        path = self.write(self.tempdir(), 'nl.yaml', self.config(
            **{'ovh-bhs1': ('b2-7', 'b2-30'),
               'ovh-gra1': ('b2-7', 'b2-30')}))
        self.assertNotIn('NPA051', self.codes(runner.run([path])))

    def test_a_flavor_from_another_catalogue_is(self):
        path = self.write(self.tempdir(), 'nl.yaml', self.config(
            **{'linaro': ('opendev.large', 'opendev.xlarge'),
               'osuosl': ('m1.large', 'opendev.xlarge')}))
        result = runner.run([path])
        found = [f.message for f in result.findings if f.code == 'NPA051']
        self.assertTrue(any('provider osuosl' in m and 'opendev.xlarge' in m
                            for m in found), found)


class TestAnchoredList(Case):

    def test_one_finding_names_every_provider(self):
        path = self.write(self.tempdir(), 'nl.yaml', ANCHORED)
        found = [f for f in runner.run([path]).findings
                 if f.code == 'NPA003']
        self.assertEqual(1, len(found), [str(f) for f in found])
        self.assertIn('diskimage of providers a, b, c', found[0].message)
        self.assertEqual(12, found[0].line)  # the repeated entry


class TestWalkSkipsOtherApplications(Case):

    def setUp(self):
        super().setUp()
        self.root = self.tempdir()
        self.write(self.root, 'zuul.d/nodesets.yaml',
                   '- nodeset:\n    name: n\n    nodes: []\n')
        self.write(self.root, 'playbooks/deploy.yaml',
                   '- hosts: all\n  vars:\n    password: !vault |\n'
                   '      $ANSIBLE_VAULT;1.1;AES256\n      6162\n')
        self.write(self.root, 'jenkins/jobs.yaml',
                   '- job:\n    name: legacy\n    builders:\n'
                   '      - shell: !include-raw: build.sh\n')

    def test_tagged_files_are_skipped_with_a_note(self):
        code, out, err = self.run_cli('check', '-v', self.root)
        self.assertEqual(0, code, err)
        self.assertIn('deploy.yaml: YAML tag !vault of another application',
                      err)
        self.assertIn('jobs.yaml: YAML tag !include-raw: of another '
                      'application', err)

    def test_zuul_config_with_such_a_tag_is_still_refused(self):
        self.write(self.root, 'zuul.d/jobs.yaml',
                   '- job:\n    name: x\n    vars: !vault abc\n')
        code, out, err = self.run_cli('check', self.root)
        self.assertEqual(2, code)
        self.assertIn('zuul.d/jobs.yaml:3:', err)
        self.assertIn('!vault', err)

    def test_a_named_file_with_such_a_tag_is_refused(self):
        code, _, err = self.run_cli(
            'check', os.path.join(self.root, 'playbooks', 'deploy.yaml'))
        self.assertEqual(2, code)


class TestLabelsFile(Case):

    def test_byte_order_mark_is_not_part_of_the_first_label(self):
        path = os.path.join(self.tempdir(), 'labels.txt')
        with open(path, 'w', encoding='utf-8-sig') as f:
            f.write('ubuntu-noble-arm64\ncentos-9\n')
        with open(path, 'rb') as f:
            self.assertTrue(f.read().startswith(b'\xef\xbb\xbf'))
        labels = tenant.from_file(path).labels
        self.assertEqual({'ubuntu-noble-arm64', 'centos-9'}, set(labels))


class TestJsonSummary(Case):

    def test_summary_goes_to_stderr_and_stdout_is_json(self):
        path = self.write(self.tempdir(), 'nl.yaml', RETIRED.replace(
            'max-servers: 0', 'max-servers: 4'))
        code, out, err = self.run_cli('check', '--format', 'json', path)
        self.assertEqual(1, code)
        data = json.loads(out)
        errors = data['summary']['errors']
        self.assertIn(f'{errors} error(s), ', err)


# Kolla's .zuul.d: its own Arm64 nodesets, and jobs on the tenant's
# ubuntu-bionic nodeset that openstack-zuul-jobs defines.
CONSUMER = """\
- nodeset:
    name: kolla-ubuntu-bionic-aarch64
    nodes:
      - name: primary
        label: ubuntu-bionic-arm64
- job:
    name: kolla-build-ubuntu-source-aarch64
    nodeset: kolla-ubuntu-bionic-aarch64
- job:
    name: kolla-build-ubuntu-source
    nodeset: ubuntu-bionic
- job:
    name: kolla-build-centos-source
    nodeset: centos-8-typo
"""


class TestTenantNodesets(Case):

    def setUp(self):
        super().setUp()
        self.dir = self.tempdir()
        self.path = self.write(self.dir, '.zuul.d/jobs.yaml', CONSUMER)

    def npa016(self, *options):
        code, out, err = self.run_cli('check', '--format', 'json',
                                      *options, self.path)
        self.assertNotEqual(2, code, err)
        return [f['message'] for f in json.loads(out)['findings']
                if f['code'] == 'NPA016']

    def test_without_the_tenants_nodesets_both_are_flagged(self):
        self.assertEqual(2, len(self.npa016()))

    def test_the_tenants_nodesets_are_defined(self):
        listing = os.path.join(self.dir, 'nodesets.txt')
        with open(listing, 'w', encoding='utf-8-sig') as f:
            f.write('# openstack-zuul-jobs\nubuntu-bionic\ncentos-8\n')
        (message,) = self.npa016('--nodesets-file', listing)
        self.assertIn('nodeset centos-8-typo', message)
        self.assertIn(f'nor in nodesets file {listing}', message)

    def test_an_empty_nodesets_file_is_unusable(self):
        listing = os.path.join(self.dir, 'nodesets.txt')
        with open(listing, 'w') as f:
            f.write('# nothing\n')
        code, _, err = self.run_cli('check', '--nodesets-file', listing,
                                    self.path)
        self.assertEqual(2, code)
        self.assertIn('no nodeset names', err)
