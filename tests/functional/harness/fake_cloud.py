"""Point a rendered Nodepool launcher config at Nodepool's fake cloud.

Only the test harness does this: the shipped, rendered config stays a
real OpenStack config.  The switch changes what a machine without the
clouds cannot provide and nothing the tests assert on:

- each OpenStack provider gets ``driver: fake`` (Nodepool's in-process
  fake cloud);
- images the builder would upload (``diskimage:``) become ``cloud-images``
  that resolve to the fake cloud's one image, so no builder is needed;
- flavors resolve to the fake cloud's flavor;
- ZooKeeper is the test's TLS ZooKeeper; the web app is dropped.

Provider names, regions, pools, labels, max-servers, node attributes
(executor-zone) and timeouts are kept as rendered.
"""

import copy

from nodepool.driver.fake import adapter as fake_adapter

# The names the fake cloud answers to (nodepool/driver/fake/adapter.py).
FAKE_IMAGE = 'Fake Precise'
FAKE_FLAVOR = 'Fake Flavor'
FAKE_FLAVOR_VCPUS = 4
FAKE_FLAVOR_RAM = 8192

# Keys whose values only make sense against a real cloud.
_LABEL_KEYS_DROPPED = ('min-ram', 'flavor-name', 'boot-from-volume',
                       'volume-size', 'diskimage', 'cloud-image')
_PROVIDER_KEYS_DROPPED = ('diskimages', 'cloud-images')


def fake_servers_limit():
    """How many Fake Flavor servers one fake cloud's quota admits."""
    cores, instances, ram = fake_adapter.FakeOpenStackCloud._get_quota()
    return min(instances, cores // FAKE_FLAVOR_VCPUS,
               ram // FAKE_FLAVOR_RAM)


def _image_of(label):
    return label.get('diskimage') or label.get('cloud-image')


def _fake_provider(provider):
    provider = copy.deepcopy(provider)
    if provider.get('driver', 'openstack') not in ('openstack', 'fake'):
        return provider
    provider['driver'] = 'fake'
    images = []
    for pool in provider.get('pools', []):
        for label in pool.get('labels', []):
            image = _image_of(label)
            for key in _LABEL_KEYS_DROPPED:
                label.pop(key, None)
            label['cloud-image'] = image
            label['flavor-name'] = FAKE_FLAVOR
            if image not in images:
                images.append(image)
    for key in _PROVIDER_KEYS_DROPPED:
        provider.pop(key, None)
    provider['cloud-images'] = [
        {'name': image, 'image-name': FAKE_IMAGE} for image in images]
    return provider


def fake_launcher_config(config, zookeeper):
    """A copy of launcher ``config`` (a dict) switched to the fake cloud.

    ``zookeeper`` is a TLSZooKeeper fixture.
    """
    config = copy.deepcopy(config)
    config.pop('webapp', None)
    config.update(zookeeper.nodepool_config())
    config['providers'] = [
        _fake_provider(p) for p in config.get('providers', [])]
    return config


def clouds_yaml(config):
    """A clouds.yaml naming every provider's cloud and region.

    Nodepool resolves ``cloud:`` through openstacksdk even for the fake
    driver; the entries hold no secrets and point nowhere reachable.
    """
    clouds = {}
    for provider in config.get('providers', []):
        name = provider.get('cloud')
        if not name:
            continue
        entry = clouds.setdefault(name, {
            'auth': {'auth_url': 'http://127.0.0.1:9/identity/v3',
                     'username': 'functional', 'password': 'functional',
                     'project_name': 'functional'},
            'regions': [],
        })
        region = provider.get('region-name')
        if region and region not in entry['regions']:
            entry['regions'].append(region)
    for entry in clouds.values():
        if not entry['regions']:
            del entry['regions']
    return {'clouds': clouds}


def max_servers(config):
    """provider name -> {pool name: max-servers} as written in ``config``."""
    result = {}
    for provider in config.get('providers', []):
        result[provider['name']] = {
            pool['name']: pool.get('max-servers')
            for pool in provider.get('pools', [])}
    return result


def pool_labels(config):
    """label name -> set of (provider, pool) that serve it."""
    result = {}
    for provider in config.get('providers', []):
        for pool in provider.get('pools', []):
            for label in pool.get('labels', []):
                result.setdefault(label['name'], set()).add(
                    (provider['name'], pool['name']))
    return result
