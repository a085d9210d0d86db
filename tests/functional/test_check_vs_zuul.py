"""``check`` against a real Zuul 14.3 on the same zuul-launcher objects.

Each case is one tenant with one config project holding the objects;
the connection is Zuul's OpenStack driver (a clouds.yaml with no
credentials in the processes' working directory; nothing contacts a
cloud).  zuul-web's config-errors say what Zuul rejects.  Every object
Zuul rejects must be an error in ``check``, and on objects Zuul accepts
``check`` may only warn, unless a finding names an Arm64, capacity or
facts defect, which Zuul does not judge.
"""

import os

import yaml

from nodepool_aarch64.check import runner
from tests.functional.harness import gitrepos
from tests.functional.harness import zookeeper as zookeeper_mod
from tests.functional.harness import zuul_services
from tests.functional.test_zuul_config_errors import SITE_CONFIG
from tests.unit.test_check_zuul_launcher_arm64 import TestTheIssuesExample
from tests.unit.test_check_zuul_launcher_schema import GOOD

SITE_PROJECT = 'site-config'
# Arm64 (NPA02x), min-ready (NPA03x), timeouts (NPA04x), flavors and
# facts (NPA05x), capacity (NPA06x): defects Zuul has no opinion on.
ZUUL_BLIND = ('NPA02', 'NPA03', 'NPA04', 'NPA05', 'NPA06')

CASES = {
    'good': GOOD,
    'image-not-images': GOOD.replace(
        '    section: region-one\n',
        '    section: region-one\n    image:\n      - ubuntu-noble-arm64\n'),
    'images-mapping': GOOD.replace(
        '    images:\n      - ubuntu-noble-arm64\n',
        '    images:\n      ubuntu-noble-arm64: {}\n'),
    'flavors-on-provider': GOOD.replace(
        '    section: region-one\n',
        '    section: region-one\n    flavors:\n      - name: large\n'
        '        flavor-name: other\n'),
    'no-image-id': GOOD.replace('        image-id: 1234-abcd\n', ''),
    'no-flavor-name': GOOD.replace('        flavor-name: opendev.xlarge\n',
                                   ''),
    'unknown-default': GOOD.replace('      key-name: root-keys\n',
                                    '      keyname: root-keys\n'),
    'unknown-label-key': GOOD.replace('    flavor: large\n    aliases',
                                      '    flavor: large\n    min-redy: 1\n'
                                      '    aliases'),
    'unknown-alias': GOOD.replace('aliases: [ubuntu-noble-arm64]',
                                  'aliases: [ubuntu-nobel-arm64]'),
    # Zuul accepts it; check finds its Arm64 defects.
    'arm64-defects': TestTheIssuesExample.TEXT,
}
CONNECTION = 'osuosl'
CLOUDS_YAML = {'clouds': {CONNECTION: {
    'auth': {'auth_url': 'http://127.0.0.1:9/v3'},
    'region_name': 'RegionOne'}}}


def _tenant(case):
    return f'case-{case}'


class TestCheckAgainstZuul(zuul_services.ZuulTestCase):

    def setUp(self):
        super().setUp()
        git_root = os.path.join(self.base, 'git')
        gitrepos.make_repo(os.path.join(git_root, SITE_PROJECT),
                           files={'zuul.d/site.yaml': SITE_CONFIG})
        tenants = []
        self.checked = {}
        for case, text in CASES.items():
            project = _tenant(case)
            gitrepos.make_repo(os.path.join(git_root, project),
                               files={'zuul.d/launcher.yaml': text})
            tenants.append({'tenant': {
                'name': _tenant(case),
                'source': {'git': {
                    'config-projects': [SITE_PROJECT, project]}}}})
            self.checked[case] = runner.run(
                [os.path.join(git_root, project, 'zuul.d')])
        tenant_config = os.path.join(self.base, 'main.yaml')
        with open(tenant_config, 'w') as f:
            yaml.safe_dump(tenants, f)
        workdir = os.path.join(self.base, 'zuul')
        os.makedirs(workdir)
        with open(os.path.join(workdir, 'clouds.yaml'), 'w') as f:
            yaml.safe_dump(CLOUDS_YAML, f)
        self.zookeeper = self.useFixture(
            zookeeper_mod.TLSZooKeeper(self.base))
        self.zuul = self.useFixture(zuul_services.Zuul(
            workdir, self.zookeeper, tenant_config, git_root,
            extra_config={f'connection {CONNECTION}': {
                'driver': 'openstack', 'cloud': CONNECTION}}))
        for case in CASES:
            self.zuul.wait_for_tenant(_tenant(case))

    def zuul_errors(self, case):
        return [e.get('error', '') for e in self.zuul.get(
            '/tenant/%s/config-errors' % _tenant(case))]

    def test_check_agrees_with_zuul(self):
        rejected = {}
        for case in CASES:
            errors = self.zuul_errors(case)
            result = self.checked[case]
            found = [str(f) for f in result.findings]
            if errors:
                rejected[case] = errors
                self.assertTrue(result.errors, f'{case}: Zuul rejects '
                                f'({errors}), check finds {found}')
            else:
                loud = [str(f) for f in result.errors
                        if not f.code.startswith(ZUUL_BLIND)]
                self.assertEqual([], loud, f'{case}: Zuul accepts')
        # The cases are what they claim: Zuul rejects every mistake and
        # accepts the rest.
        self.assertEqual(sorted(set(CASES) - {'good', 'arm64-defects'}),
                         sorted(rejected))
        self.assertTrue(self.checked['arm64-defects'].errors)
