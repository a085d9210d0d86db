"""What each region's real quota allows, read through openstacksdk.

Each provider's cloud region is asked for its compute limits and usage
(``conn.compute.get_limits().absolute``), the flavors the provider's
labels use, its Neutron floating-IP quota and, when the provider names a
network, the addresses its IPv4 subnets can hand out.  The answers are
sized with the same rules as the inventory (``sizing.allowed_servers``).

Regions are asked in parallel, each with its own timeout and bounded
retries; a region that times out, answers 5xx or refuses the credentials
is reported as such and never stops the others.  Nothing from the auth
section of clouds.yaml is ever printed: every message passes through a
scrubber that knows the secret values.
"""

import dataclasses
import ipaddress
import json
import sys
import threading
import time
import urllib.parse

import keystoneauth1.exceptions as ksa_exc
import openstack
import openstack.config
import openstack.exceptions as os_exc
import requests
import requests.exceptions

from nodepool_aarch64 import model
from nodepool_aarch64 import sizing as sizing_mod
from nodepool_aarch64.errors import InputError
from nodepool_aarch64.formats import yamlutil

# Per HTTP call: seconds to wait, and retries for connection failures
# and for 5xx answers keystoneauth considers retriable.
API_TIMEOUT = 10.0
CONNECT_RETRIES = 2
STATUS_CODE_RETRIES = 2
# The whole conversation with one region, whatever the retries do.
REGION_DEADLINE = 60.0

SECRET_HINTS = ('password', 'secret', 'token', 'key', 'credential')


@dataclasses.dataclass
class RegionQuota:
    provider: str
    cloud: str
    region: str
    # ok, timeout, auth, server-error, unreachable, config, error
    status: str = 'ok'
    error: str | None = None
    # resource -> (limit or None for unlimited, in use or None)
    usage: dict = dataclasses.field(default_factory=dict)
    # logical flavor -> {'name', 'vcpus', 'ram'}
    flavors: dict = dataclasses.field(default_factory=dict)
    # every flavor the region lists (model.Flavor), for cloud facts
    cloud_flavors: tuple = ()
    sizing: sizing_mod.Sizing | None = None
    seconds: float = 0.0

    def as_dict(self):
        out = {'provider': self.provider, 'cloud': self.cloud,
               'region': self.region, 'status': self.status,
               'seconds': round(self.seconds, 2)}
        if self.error:
            out['error'] = self.error
        if self.usage:
            out['usage'] = {k: {'limit': v[0], 'used': v[1]}
                            for k, v in self.usage.items()}
            out['flavors'] = self.flavors
        if self.sizing:
            out['servers-allowed'] = dict(self.sizing.limits)
            out['binding'] = self.sizing.binding
            out['max-servers'] = self.sizing.max_servers
        return out


class Scrubber:
    """Replaces known secret values in text with '***'.

    A secret is replaced in every form a message may carry it: as it is,
    JSON-escaped (a quote or a non-ASCII character in it), and
    URL-encoded; and a password written into auth_url is a secret too.
    """

    def __init__(self, secrets=()):
        forms = set()
        for secret in secrets:
            if secret and len(secret) >= 3:
                forms.update(_encodings(secret))
        self.secrets = sorted(forms, key=len, reverse=True)

    def add_auth(self, auth):
        found = list(self.secrets)
        for key, value in (auth or {}).items():
            if not isinstance(value, str):
                continue
            if any(h in key.lower() for h in SECRET_HINTS):
                found.append(value)
            found.extend(_url_secrets(value))
        self.__init__(found)

    def __call__(self, text):
        text = str(text)
        for secret in self.secrets:
            text = text.replace(secret, '***')
        return text


def _encodings(secret):
    yield secret
    yield json.dumps(secret)[1:-1]
    yield json.dumps(secret, ensure_ascii=False)[1:-1]
    yield urllib.parse.quote(secret, safe='')
    yield urllib.parse.quote_plus(secret, safe='')


def _url_secrets(value):
    """The password of a URL such as https://user:pass@keystone/v3."""
    try:
        parts = urllib.parse.urlsplit(value)
        password = parts.password
    except ValueError:
        return []
    if not password:
        return []
    return [password, urllib.parse.unquote(password)]


def _limit(value):
    # Nova and Neutron say -1 for "no limit".
    if value is None or value < 0:
        return None
    return int(value)


def _classify(exc):
    if isinstance(exc, os_exc.ConfigException):
        return 'config'
    if isinstance(exc, (ksa_exc.ConnectTimeout, requests.exceptions.Timeout,
                        TimeoutError)):
        return 'timeout'
    if isinstance(exc, (ksa_exc.Unauthorized, ksa_exc.AuthorizationFailure,
                        os_exc.ForbiddenException)):
        return 'auth'
    status = getattr(exc, 'status_code', None) or \
        getattr(exc, 'http_status', None)
    if status in (401, 403):
        return 'auth'
    if status and 500 <= int(status) < 600:
        return 'server-error'
    if isinstance(exc, ksa_exc.http.HttpServerError):
        return 'server-error'
    if isinstance(exc, (ksa_exc.ConnectFailure, ksa_exc.ConnectionError)):
        return 'unreachable'
    return 'error'


def _connect(config, cloud, region):
    cloud_region = config.get_one(
        cloud=cloud, region_name=region, api_timeout=API_TIMEOUT,
        connect_retries=CONNECT_RETRIES,
        status_code_retries=STATUS_CODE_RETRIES)
    _probe_identity(cloud_region)
    return openstack.connection.Connection(config=cloud_region)


def _probe_identity(cloud_region):
    """Refuse an identity endpoint that answers its version document with
    401 or 403.

    keystoneauth answers such a 401 by authenticating inside its own
    discovery, takes the lock its caller already holds and waits for
    ever; asked first, the region is reported as an auth failure at once.
    """
    auth_url = (cloud_region.config.get('auth') or {}).get('auth_url')
    if not isinstance(auth_url, str) or not auth_url.startswith('http'):
        return
    verify = cloud_region.config.get('cacert') or \
        cloud_region.config.get('verify', True)
    try:
        answer = requests.get(auth_url, timeout=API_TIMEOUT, verify=verify,
                              headers={'Accept': 'application/json'})
    except requests.exceptions.RequestException:
        return  # keystoneauth retries and reports it in its own words
    if answer.status_code in (401, 403):
        raise ksa_exc.Unauthorized(
            f'the identity endpoint answered {answer.status_code} to its '
            'version document')


def _usable_addresses(conn, network_name):
    network = conn.network.find_network(network_name, ignore_missing=True)
    if network is None:
        return None
    total = 0
    for subnet in conn.network.subnets(network_id=network.id):
        if subnet.ip_version != 4:
            continue
        for pool in subnet.allocation_pools or []:
            start = ipaddress.ip_address(pool['start'])
            end = ipaddress.ip_address(pool['end'])
            total += int(end) - int(start) + 1
    return total


def ask_region(inv, provider, config, scrub):
    """Everything one region tells about its quota, as a RegionQuota."""
    result = RegionQuota(provider.name, provider.cloud, provider.region)
    started = time.monotonic()
    try:
        conn = _connect(config, provider.cloud, provider.region)
        absolute = conn.compute.get_limits().absolute
        usage = {
            'instances': (_limit(absolute.instances),
                          absolute.instances_used),
            'cores': (_limit(absolute.total_cores),
                      absolute.total_cores_used),
            'ram': (_limit(absolute.total_ram), absolute.total_ram_used),
        }
        wanted = {label.flavor for label in inv.labels_for(provider)}
        by_name = {f.name: f for f in conn.compute.flavors(details=True)}
        result.cloud_flavors = tuple(
            model.Flavor(f.name, f.vcpus, f.ram) for f in by_name.values())
        flavors = []
        for logical in sorted(wanted):
            name = provider.flavor_name(logical)
            found = by_name.get(name)
            if found is None:
                raise LookupError(f'flavor {name!r} (for {logical}) is not '
                                  f'in the region')
            result.flavors[logical] = {'name': name, 'vcpus': found.vcpus,
                                       'ram': found.ram}
            flavors.append(model.Flavor(name, found.vcpus, found.ram))
        project = conn.current_project_id
        fip = conn.network.get_quota(project, details=True).floating_ips
        usage['floating-ips'] = (_limit(fip.get('limit')), fip.get('used'))
        if provider.network:
            addresses = _usable_addresses(conn, provider.network)
            if addresses is not None:
                usage['addresses'] = (addresses, None)
        result.usage = usage
        quota = model.Quota(**{k.replace('-', '_'): v[0]
                               for k, v in usage.items()})
        result.sizing = sizing_mod.allowed_servers(
            quota, flavors, provider.reserved, headroom=inv.headroom,
            cap=provider.max_servers)
    except Exception as e:  # one region must never stop the others
        result.status = _classify(e)
        result.error = _describe(e, scrub)
    result.seconds = time.monotonic() - started
    return result


def _describe(exc, scrub):
    # Scrubbed before it is cut: a cut can split a secret and leave a
    # prefix the scrubber no longer recognises.
    text = scrub(' '.join(str(exc).split()) or type(exc).__name__)
    return text[:300]


def load_config(clouds_yaml=None):
    """openstacksdk's cloud config, from ``clouds_yaml`` when given.

    openstacksdk skips a file it cannot parse and then reports every
    cloud as "not found"; a given file is read first, so that a broken
    one is reported as such (file and line, never its values).
    """
    if clouds_yaml:
        data, _ = yamlutil.load_single(clouds_yaml)
        clouds = data.get('clouds') if isinstance(data, dict) else None
        if not isinstance(clouds, dict) or not clouds:
            raise InputError(clouds_yaml, getattr(data, 'line', None),
                             'clouds', 'expected a mapping of cloud names '
                             'to their settings')
    files = [clouds_yaml] if clouds_yaml else None
    return openstack.config.OpenStackConfig(config_files=files)


def secret_scrubber(config, clouds):
    scrub = Scrubber()
    for cloud in clouds:
        try:
            scrub.add_auth(config.get_one(cloud=cloud).config.get('auth'))
        except Exception:
            # A cloud missing from clouds.yaml is reported by its region.
            pass
    return scrub


class _ScrubbedStream:
    """A text stream that scrubs what passes through it.

    keystoneauth and openstacksdk warn on stderr with the auth URL in the
    text; a password written into that URL must not reach the terminal.
    """

    def __init__(self, stream, scrub):
        self._stream = stream
        self._scrub = scrub

    def write(self, text):
        return self._stream.write(self._scrub(text))

    def __getattr__(self, name):
        return getattr(self._stream, name)


def ask_all(inv, providers, config, deadline=REGION_DEADLINE):
    """RegionQuota for each provider, asked in parallel."""
    scrub = secret_scrubber(config, {p.cloud for p in providers})
    stderr = sys.stderr
    sys.stderr = _ScrubbedStream(stderr, scrub)
    try:
        return _ask_all(inv, providers, config, deadline, scrub)
    finally:
        sys.stderr = stderr


def _ask_all(inv, providers, config, deadline, scrub):
    results = {}
    threads = []
    for provider in providers:
        def work(p=provider):
            results[p.name] = ask_region(inv, p, config, scrub)
        # Daemon threads: a region stuck past its deadline must not keep
        # the command from exiting.
        thread = threading.Thread(target=work, daemon=True)
        thread.start()
        threads.append((provider, thread))
    end = time.monotonic() + deadline
    out = []
    for provider, thread in threads:
        thread.join(max(0.0, end - time.monotonic()))
        if provider.name in results:
            out.append(results[provider.name])
        else:
            out.append(RegionQuota(
                provider.name, provider.cloud, provider.region,
                status='timeout',
                error=f'no answer within {deadline:g} s', seconds=deadline))
    return out


def as_facts(results):
    """(regions, left out): cloud facts (cloudfacts.CloudRegion) from the
    regions that answered, and how many flavors were left out.

    Limits, not what is left: usage moves by the minute, the quota is
    what a config is sized against.  Providers sharing a cloud region
    give it once.  A flavor the cloud lists without a name, with
    negative vCPUs or without RAM is left out: ``check --facts`` would
    refuse the whole file for it.
    """
    from nodepool_aarch64 import cloudfacts
    regions = {}
    dropped = 0
    for r in results:
        if r.status != 'ok' or (r.cloud, r.region) in regions:
            continue
        quota = model.Quota(**{k.replace('-', '_'): v[0]
                               for k, v in r.usage.items()})
        flavors = [f for f in r.cloud_flavors if _usable_flavor(f)]
        dropped += len(r.cloud_flavors) - len(flavors)
        regions[(r.cloud, r.region)] = cloudfacts.CloudRegion(
            r.cloud, r.region, tuple(sorted(flavors, key=lambda f: f.name)),
            quota)
    return list(regions.values()), dropped


def _usable_flavor(flavor):
    def count(value):
        return isinstance(value, int) and not isinstance(value, bool) \
            and value >= 0
    return isinstance(flavor.name, str) and flavor.name.strip() != '' \
        and count(flavor.vcpus) and count(flavor.ram)
