"""Quota through openstacksdk against Nova and Neutron as they answer.

The clouds are mocked with requests-mock and openstacksdk's own
ConnectionFixture (its Keystone token and service catalog); the JSON
bodies are shaped as Nova 2.1 and Neutron 2.0 serve them.
"""

import io
import json
import os
import time
import urllib.parse

import fixtures
import requests.exceptions
import requests_mock
import testtools
import yaml
from openstack.fixture import connection as os_fixture

from nodepool_aarch64 import cloudfacts
from nodepool_aarch64.capacity import quota
from nodepool_aarch64.inventory import DEFAULT_INVENTORY, load_inventory
from tests import base

CANARY = 'canary-Tr0ub4dor-3-pw'
PROJECT = '0c7bd3a8f3c64ac0a2a6a7e8f9e0d1c2'
CLOUDS = ('linaro-us', 'linaro-london', 'linaro')
# Region per cloud, and the host part of its service endpoints.  The
# shipped inventory has two clouds in "RegionOne"; the test inventory
# moves the China one to "CN1" so each region has its own endpoints.
REGIONS = {'linaro-us': ('RegionOne', ''), 'linaro-london': ('London',
                                                             'london.'),
           'linaro': ('CN1', 'cn1.')}


def nova_limits(instances, cores, ram, used):
    return {'limits': {'rate': [], 'absolute': {
        'maxServerMeta': 128, 'maxPersonality': 5,
        'totalServerGroupsUsed': 0, 'maxImageMeta': 128,
        'maxPersonalitySize': 10240, 'maxTotalKeypairs': 100,
        'maxSecurityGroupRules': 20, 'maxServerGroups': 10,
        'totalCoresUsed': used[1], 'totalRAMUsed': used[2],
        'totalInstancesUsed': used[0], 'maxSecurityGroups': 10,
        'totalFloatingIpsUsed': 0, 'maxTotalCores': cores,
        'maxServerGroupMembers': 10, 'maxTotalFloatingIps': -1,
        'totalSecurityGroupsUsed': 1, 'maxTotalInstances': instances,
        'maxTotalRAMSize': ram}}}


def nova_flavor(flavor_id, name, vcpus, ram):
    return {'OS-FLV-DISABLED:disabled': False, 'disk': 80,
            'OS-FLV-EXT-DATA:ephemeral': 0,
            'os-flavor-access:is_public': True, 'id': flavor_id,
            'links': [{'href': f'https://compute.example.com/v2.1/flavors/'
                               f'{flavor_id}', 'rel': 'self'}],
            'name': name, 'ram': ram, 'swap': '', 'vcpus': vcpus,
            'rxtx_factor': 1.0, 'description': None, 'extra_specs': {}}


def neutron_quota_details(fip_limit, fip_used):
    def item(limit, used):
        return {'limit': limit, 'used': used, 'reserved': 0}
    return {'quota': {
        'floatingip': item(fip_limit, fip_used), 'network': item(100, 1),
        'port': item(500, 12), 'rbac_policy': item(10, 0),
        'router': item(10, 1), 'security_group': item(10, 1),
        'security_group_rule': item(100, 4), 'subnet': item(100, 1),
        'subnetpool': item(-1, 0)}}


def neutron_network(net_id, name):
    return {'id': net_id, 'name': name, 'status': 'ACTIVE',
            'admin_state_up': True, 'shared': False,
            'subnets': [f'{net_id}-v4', f'{net_id}-v6'],
            'tenant_id': PROJECT, 'project_id': PROJECT, 'mtu': 1450,
            'router:external': False, 'availability_zones': ['nova'],
            'ipv4_address_scope': None, 'ipv6_address_scope': None,
            'port_security_enabled': True, 'tags': [],
            'description': '', 'revision_number': 3}


def neutron_subnet(subnet_id, net_id, version, cidr, pools):
    return {'id': subnet_id, 'network_id': net_id, 'name': subnet_id,
            'ip_version': version, 'cidr': cidr,
            'gateway_ip': pools[0]['start'].rsplit('.', 1)[0] + '.1'
            if version == 4 else None,
            'allocation_pools': pools, 'enable_dhcp': True,
            'dns_nameservers': [], 'host_routes': [],
            'tenant_id': PROJECT, 'project_id': PROJECT,
            'ipv6_address_mode': None, 'ipv6_ra_mode': None,
            'subnetpool_id': None, 'tags': [], 'description': '',
            'revision_number': 0, 'service_types': []}


class TestQuota(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.dir = self.useFixture(fixtures.TempDir()).path
        self.clouds_yaml = os.path.join(self.dir, 'clouds.yaml')
        with open(self.clouds_yaml, 'w') as f:
            yaml.safe_dump({'clouds': {c: {
                'auth': {'auth_url': f'https://identity.{c}.example.com/v3',
                         'username': 'nodepool', 'password': CANARY,
                         'project_name': 'opendev-ci',
                         'user_domain_name': 'Default',
                         'project_domain_name': 'Default'},
                'identity_api_version': 3} for c in CLOUDS}}, f)
        with open(DEFAULT_INVENTORY) as f:
            text = f.read()
        text = text.replace('    cloud: linaro\n    region: RegionOne',
                            '    cloud: linaro\n    region: CN1')
        self.inventory = os.path.join(self.dir, 'inventory.yaml')
        with open(self.inventory, 'w') as f:
            f.write(text)
        self.inv = load_inventory(self.inventory)
        # Keep the retry back-off short; the retry counts stay real.
        self.useFixture(fixtures.MonkeyPatch(
            'nodepool_aarch64.capacity.quota.API_TIMEOUT', 2.0))
        # keystoneauth logs each retry; keep it out of the test output.
        self.logs = self.useFixture(fixtures.FakeLogger())
        self.os = self.useFixture(os_fixture.ConnectionFixture(
            project_id=PROJECT))
        for cloud, (region, host) in REGIONS.items():
            if not host:
                continue
            for service, name, suffix in (('compute', 'nova', '/v2.1/'),
                                          ('network', 'neutron', '')):
                entry = self.os.v3_token.add_service(service, name=name)
                url = f'https://{service}.{host}example.com{suffix}'
                entry.add_standard_endpoints(region=region, public=url,
                                             internal=url, admin=url)
        self.mock = self.useFixture(fixtures.MockPatchObject(
            quota, 'REGION_DEADLINE', 30.0))
        self.requests = requests_mock.Mocker()
        self.requests.start()
        self.addCleanup(self.requests.stop)
        for cloud in CLOUDS:
            self.mock_identity(cloud)
        self.mock_region('', 41, 720, 1441792, (5, 40, 40960),
                         {'os.large': (8, 8192), 'os.xlarge': (16, 32768)},
                         fips=(45, 6), pools=[('10.0.0.2', '10.0.0.62')])
        self.mock_region('london.', 9, 96, 131072, (1, 8, 16384),
                         {'opendev.large': (8, 8192)}, fips=(10, 1),
                         pools=[('10.1.0.2', '10.1.0.30')])
        self.mock_region('cn1.', 10, 80, 98304, (0, 0, 0),
                         {'opendev.large': (8, 8192)}, fips=(9, 0),
                         pools=[('10.2.0.2', '10.2.0.30')])

    def mock_identity(self, cloud, status=None):
        base = f'https://identity.{cloud}.example.com/v3'
        self.requests.get(base, json={'version': {
            'id': 'v3.14', 'status': 'stable', 'updated':
            '2020-04-07T00:00:00Z',
            'links': [{'rel': 'self', 'href': base + '/'}],
            'media-types': [{'base': 'application/json', 'type':
                             'application/vnd.openstack.identity-v3+json'}]
        }})
        if status is None:
            self.requests.post(base + '/auth/tokens', json=self.os.v3_token,
                               headers={'X-Subject-Token': 'gAAAA-token'},
                               status_code=201)
        else:
            # A server that echoes what it was sent in its error.
            self.requests.post(base + '/auth/tokens', status_code=status,
                               json={'error': {
                                   'code': status, 'title': 'Unauthorized',
                                   'message': 'The request you have made '
                                   'requires authentication (password '
                                   f'{CANARY} rejected).'}})

    def mock_region(self, host, instances, cores, ram, used, flavors,
                    fips, pools):
        compute = f'https://compute.{host}example.com/v2.1'
        network = f'https://network.{host}example.com'
        self.requests.get(compute + '/', json={'version': {
            'id': 'v2.1', 'status': 'CURRENT', 'version': '2.79',
            'min_version': '2.1', 'updated': '2013-07-23T11:33:21Z',
            'links': [{'rel': 'self', 'href': compute + '/'}],
            'media-types': [{'base': 'application/json', 'type':
                             'application/vnd.openstack.compute+json;'
                             'version=2.1'}]}})
        self.requests.get(compute + '/limits',
                          json=nova_limits(instances, cores, ram, used))
        self.requests.get(compute + '/flavors/detail', json={'flavors': [
            nova_flavor(str(n), name, v, r)
            for n, (name, (v, r)) in enumerate(sorted(flavors.items()))]})
        self.requests.get(network + '/', json={'versions': [{
            'id': 'v2.0', 'status': 'CURRENT',
            'links': [{'href': network + '/v2.0/', 'rel': 'self'}]}]})
        self.requests.get(network + f'/v2.0/quotas/{PROJECT}/details',
                          json=neutron_quota_details(*fips))
        net_id = f'net-{host or "us."}'.rstrip('.')
        self.requests.get(network + '/v2.0/networks/opendev-ci',
                          status_code=404, json={'NeutronError': {
                              'type': 'NetworkNotFound', 'detail': '',
                              'message': 'Network opendev-ci could not be '
                                         'found.'}})
        self.requests.get(network + '/v2.0/networks?name=opendev-ci',
                          json={'networks': [neutron_network(net_id,
                                                             'opendev-ci')]})
        self.requests.get(
            network + f'/v2.0/subnets?network_id={net_id}', json={
                'subnets': [
                    neutron_subnet(f'{net_id}-v4', net_id, 4,
                                   pools[0][0].rsplit('.', 1)[0] + '.0/26',
                                   [{'start': s, 'end': e}
                                    for s, e in pools]),
                    neutron_subnet(f'{net_id}-v6', net_id, 6,
                                   'fd00::/64', [{'start': 'fd00::2',
                                                  'end': 'fd00::ffff'}])]})

    def run_cli(self, *args):
        return base.run_cli('capacity', 'quota', '--inventory',
                            self.inventory, '--clouds-yaml',
                            self.clouds_yaml, *args)

    def results(self):
        config = quota.load_config(self.clouds_yaml)
        return {r.provider: r for r in quota.ask_all(
            self.inv, self.inv.providers, config)}

    def test_all_regions(self):
        results = self.results()
        us = results['linaro-us']
        self.assertEqual('ok', us.status, us.error)
        self.assertEqual((41, 5), us.usage['instances'])
        self.assertEqual((45, 6), us.usage['floating-ips'])
        self.assertEqual((61, None), us.usage['addresses'])
        # Reserved: 1 instance, 8 cores, 16 GiB, 1 floating IP; the
        # largest flavor (16 vCPU, 32 GiB) sizes cores and ram.
        self.assertEqual({'instances': 40, 'floating-ips': 44,
                          'addresses': 61, 'cores': 44, 'ram': 43},
                         us.sizing.limits)
        self.assertEqual(('max-servers', 30),
                         (us.sizing.binding, us.sizing.max_servers))
        london = results['linaro-london']
        self.assertEqual(('instances', 8),
                         (london.sizing.binding, london.sizing.max_servers))
        # The /27's 29 addresses less the mirror's.
        self.assertEqual(28, london.sizing.limits['addresses'])
        cn1 = results['linaro-cn1']
        self.assertEqual('CN1', cn1.region)
        self.assertEqual(('floating-ips', 8),
                         (cn1.sizing.binding, cn1.sizing.max_servers))
        self.assertEqual({'arm64-large': {'name': 'opendev.large',
                                          'vcpus': 8, 'ram': 8192}},
                         cn1.flavors)

    def test_timeout_and_auth_failure_leave_the_others(self):
        self.mock_identity('linaro-london', status=401)
        self.requests.get('https://compute.cn1.example.com/v2.1/limits',
                          exc=requests.exceptions.ConnectTimeout)
        results = self.results()
        self.assertEqual('ok', results['linaro-us'].status)
        self.assertEqual(30, results['linaro-us'].sizing.max_servers)
        self.assertEqual('auth', results['linaro-london'].status)
        self.assertEqual('timeout', results['linaro-cn1'].status)
        # Bounded retries: the first try and CONNECT_RETRIES more.
        tries = [r for r in self.requests.request_history
                 if r.url == 'https://compute.cn1.example.com/v2.1/limits']
        self.assertEqual(1 + quota.CONNECT_RETRIES, len(tries))

        code, out, err = self.run_cli()
        self.assertEqual(1, code)
        self.assertIn('linaro-london: auth:', out)
        self.assertIn('linaro-cn1: timeout:', out)
        self.assertRegex(out, r'linaro-us +RegionOne +ok .* max-servers +30')
        for text in (out, err, self.logs.output):
            self.assertNotIn(CANARY, text)
        code, out, err = self.run_cli('--format', 'json')
        self.assertNotIn(CANARY, out + err)
        data = {r['provider']: r for r in json.loads(out)}
        self.assertEqual('auth', data['linaro-london']['status'])
        self.assertEqual(30, data['linaro-us']['max-servers'])

    def test_401_on_the_identity_version_document_is_an_auth_failure(self):
        # keystoneauth re-enters its own lock on this and waits for ever;
        # the region must be reported as refusing, at once.
        self.requests.get('https://identity.linaro-london.example.com/v3',
                          status_code=401, json={'error': {'code': 401}})
        started = time.monotonic()
        results = self.results()
        self.assertLess(time.monotonic() - started, quota.REGION_DEADLINE)
        self.assertEqual('auth', results['linaro-london'].status)
        self.assertIn('version document', results['linaro-london'].error)
        self.assertEqual('ok', results['linaro-us'].status)

    def test_server_errors_are_retried_then_reported(self):
        # A proxy that echoes the request (password included) in its
        # error page: the message is reported, the secret is not.
        self.requests.get('https://compute.london.example.com/v2.1/limits',
                          status_code=503, json={'computeFault': {
                              'code': 503, 'message': 'upstream busy; '
                              f'request had password={CANARY}'}})
        results = self.results()
        self.assertEqual('server-error', results['linaro-london'].status)
        self.assertIn('password=***', results['linaro-london'].error)
        self.assertNotIn(CANARY, results['linaro-london'].error)
        self.assertEqual('ok', results['linaro-cn1'].status)
        tries = [r for r in self.requests.request_history if r.url ==
                 'https://compute.london.example.com/v2.1/limits']
        self.assertEqual(1 + quota.STATUS_CODE_RETRIES, len(tries))

    def test_unlimited_and_cloud_filter(self):
        self.requests.get(
            'https://compute.cn1.example.com/v2.1/limits',
            json=nova_limits(-1, -1, -1, (0, 0, 0)))
        code, out, err = self.run_cli('--cloud', 'linaro', '--format',
                                      'json')
        self.assertEqual(0, code, err)
        data = json.loads(out)
        self.assertEqual(['linaro-cn1'], [r['provider'] for r in data])
        self.assertIsNone(data[0]['usage']['instances']['limit'])
        self.assertEqual('floating-ips', data[0]['binding'])
        code, out, err = self.run_cli('--cloud', 'nowhere')
        self.assertEqual(2, code)
        self.assertIn("--cloud: 'nowhere' is neither", err)

    def test_cloud_missing_from_clouds_yaml(self):
        with open(self.clouds_yaml) as f:
            clouds = yaml.safe_load(f)
        del clouds['clouds']['linaro']
        with open(self.clouds_yaml, 'w') as f:
            yaml.safe_dump(clouds, f)
        results = self.results()
        self.assertEqual('config', results['linaro-cn1'].status)
        self.assertIn('linaro', results['linaro-cn1'].error)
        self.assertEqual('ok', results['linaro-london'].status)
        code, out, err = self.run_cli('--clouds-yaml', '/nonexistent.yaml')
        self.assertEqual(2, code)
        self.assertEqual('nodepool-aarch64: /nonexistent.yaml: no such file',
                         err.strip())

    def test_unusable_clouds_yaml_is_exit_2_naming_the_file(self):
        d = self.useFixture(fixtures.TempDir()).path
        cases = {'broken.yaml': b'clouds: [\n',
                 'empty-list.yaml': b'clouds: []\n',
                 'empty.yaml': b'',
                 'utf16.yaml': b'\xff\xfec\x00',
                 'secret.yaml': b'clouds:\n  c:\n    auth:\n'
                                b'      password: !!int ' +
                 CANARY.encode() + b'\n'}
        for name, data in cases.items():
            path = os.path.join(d, name)
            with open(path, 'wb') as f:
                f.write(data)
            code, out, err = self.run_cli('--clouds-yaml', path)
            self.assertEqual(2, code, name)
            self.assertEqual(1, len(err.splitlines()), (name, err))
            self.assertIn(path, err)
            self.assertNotIn(CANARY, out + err)

    def test_missing_flavor_is_reported(self):
        self.requests.get(
            'https://compute.london.example.com/v2.1/flavors/detail',
            json={'flavors': [nova_flavor('9', 'm1.small', 1, 2048)]})
        results = self.results()
        self.assertEqual('error', results['linaro-london'].status)
        self.assertIn("flavor 'opendev.large'",
                      results['linaro-london'].error)
        self.assertEqual('ok', results['linaro-us'].status)

    def test_scrubber_knows_escaped_encoded_and_url_forms(self):
        password = 'CANARY-"S3C\u00e9/+ &x'
        scrub = quota.Scrubber()
        scrub.add_auth({'password': password,
                        'auth_url': 'https://nodepool:URL-S3CR%2FET@'
                                    'keystone.example.com/v3'})
        for form in (password, json.dumps(password)[1:-1],
                     json.dumps(password, ensure_ascii=False)[1:-1],
                     urllib.parse.quote(password, safe=''),
                     urllib.parse.quote_plus(password),
                     'URL-S3CR%2FET', 'URL-S3CR/ET'):
            self.assertEqual('a *** b', scrub(f'a {form} b'), form)

    def test_library_warnings_on_stderr_are_scrubbed(self):
        import sys
        import warnings
        scrub = quota.Scrubber([CANARY])
        err = io.StringIO()
        stream = quota._ScrubbedStream(err, scrub)
        with warnings.catch_warnings():
            warnings.simplefilter('always')
            self.useFixture(fixtures.MonkeyPatch('sys.stderr', stream))
            warnings.warn(f'auth_url https://u:{CANARY}@k/v3 is insecure')
            sys.stderr.flush()
        self.assertNotIn(CANARY, err.getvalue())
        self.assertIn('https://u:***@k/v3', err.getvalue())

    def test_ask_all_scrubs_stderr_while_regions_answer(self):
        import sys
        err = io.StringIO()
        self.useFixture(fixtures.MonkeyPatch('sys.stderr', err))

        def noisy(inv, provider, config, scrub):
            sys.stderr.write(f'WARNING https://u:{CANARY}@k/v3\n')
            return quota.RegionQuota(provider.name, provider.cloud,
                                     provider.region, status='ok')

        self.useFixture(fixtures.MonkeyPatch(
            'nodepool_aarch64.capacity.quota.ask_region', noisy))
        self.useFixture(fixtures.MonkeyPatch(
            'nodepool_aarch64.capacity.quota.secret_scrubber',
            lambda config, clouds: quota.Scrubber([CANARY])))
        inv = load_inventory()
        quota.ask_all(inv, inv.providers[:1], None)
        self.assertIs(err, sys.stderr)
        self.assertIn('https://u:***@k/v3', err.getvalue())
        self.assertNotIn(CANARY, err.getvalue())

    def test_error_is_scrubbed_before_it_is_cut(self):
        scrub = quota.Scrubber([CANARY])
        exc = RuntimeError('x' * 290 + CANARY)
        text = quota._describe(exc, scrub)
        self.assertNotIn(CANARY[:5], text)

    def test_scrubber(self):
        scrub = quota.Scrubber()
        scrub.add_auth({'password': CANARY, 'username': 'nodepool',
                        'application_credential_secret': 'sekrit-42'})
        self.assertEqual('user nodepool *** and ***',
                         scrub(f'user nodepool {CANARY} and sekrit-42'))

    def test_write_facts_then_check_a_config_against_them(self):
        facts = os.path.join(self.dir, 'facts.yaml')
        code, out, err = self.run_cli('--write-facts', facts)
        self.assertEqual(0, code, err)
        self.assertIn(f'{facts}: cloud facts of 3 region(s)', err)
        with open(facts) as f:
            text = f.read()
        self.assertNotIn(CANARY, text)
        regions = {(r.cloud, r.region): r for r in cloudfacts.load(facts)}
        us = regions[('linaro-us', 'RegionOne')]
        # Every flavor the region lists, not only those the inventory
        # uses: a hand-written config may use others.
        self.assertEqual(['os.large', 'os.xlarge'],
                         [f.name for f in us.flavors])
        self.assertEqual((41, 720, 1441792, 45, 61),
                         (us.quota.instances, us.quota.cores, us.quota.ram,
                          us.quota.floating_ips, us.quota.addresses))
        self.assertEqual(9, regions[('linaro', 'CN1')].quota.floating_ips)

        # A hand-written launcher for the US region that asks for more
        # servers than the quota holds and a flavor the region lacks.
        launcher = os.path.join(self.dir, 'nl.yaml')
        with open(launcher, 'w') as f:
            yaml.safe_dump({'labels': [{'name': 'noble-arm64'},
                                       {'name': 'jammy-arm64'}],
                            'providers': [{
                                'name': 'us', 'cloud': 'linaro-us',
                                'region-name': 'RegionOne',
                                'boot-timeout': 600, 'launch-timeout': 800,
                                'cloud-images': [{'name': 'noble'}],
                                'pools': [{'name': 'main', 'max-servers': 50,
                                           'labels': [
                                               {'name': 'noble-arm64',
                                                'cloud-image': 'noble',
                                                'flavor-name': 'os.large'},
                                               {'name': 'jammy-arm64',
                                                'cloud-image': 'noble',
                                                'flavor-name': 'os.huge'}]}],
                            }]}, f)
        code, out, err = base.run_cli('check', '--facts', facts, launcher)
        self.assertEqual(1, code, err)
        lines = out.splitlines()
        self.assertTrue(any('NPA060 error: provider us pool main '
                            'max-servers 50 is above the 41 servers the '
                            'quota of linaro-us RegionOne allows' in line
                            for line in lines), lines)
        self.assertTrue(any('NPA052 error' in line and 'os.huge' in line
                            for line in lines), lines)

    def test_no_region_answering_keeps_the_facts(self):
        facts = os.path.join(self.dir, 'facts.yaml')
        code, _, err = self.run_cli('--write-facts', facts)
        self.assertEqual(0, code, err)
        with open(facts) as f:
            good = f.read()
        for cloud in CLOUDS:
            self.mock_identity(cloud, status=401)
        code, out, err = self.run_cli('--write-facts', facts)
        self.assertEqual(1, code, err)
        self.assertIn(f'{facts}: no region answered; the facts are left '
                      'as they were', err)
        with open(facts) as f:
            self.assertEqual(good, f.read())

    def test_flavors_check_would_refuse_are_left_out(self):
        self.requests.get(
            'https://compute.example.com/v2.1/flavors/detail', json={
                'flavors': [nova_flavor('1', 'os.large', 8, 8192),
                            nova_flavor('5', 'os.xlarge', 16, 32768),
                            nova_flavor('2', '', 8, 8192),
                            nova_flavor('3', 'negative', -1, 8192),
                            nova_flavor('4', 'no-ram', 8, None)]})
        facts = os.path.join(self.dir, 'facts.yaml')
        code, out, err = self.run_cli('--write-facts', facts)
        self.assertEqual(0, code, err)
        us = {(r.cloud, r.region): r for r in cloudfacts.load(facts)}[
            ('linaro-us', 'RegionOne')]
        self.assertEqual(['os.large', 'os.xlarge'],
                         [f.name for f in us.flavors])
        self.assertIn('3 flavor(s) without a name, vCPUs or RAM left out',
                      err)

    def test_write_facts_leaves_out_a_failed_region(self):
        self.mock_identity('linaro-london', status=401)
        facts = os.path.join(self.dir, 'facts.yaml')
        code, out, err = self.run_cli('--write-facts', facts)
        self.assertEqual(1, code)
        self.assertIn('cloud facts of 2 region(s); left out: linaro-london '
                      '(auth)', err)
        self.assertNotIn(CANARY, out + err)
        self.assertEqual({'linaro-us', 'linaro'},
                         {r.cloud for r in cloudfacts.load(facts)})
