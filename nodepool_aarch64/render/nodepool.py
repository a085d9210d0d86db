"""Nodepool 11 launcher and builder config (OpenStack driver)."""

from nodepool_aarch64 import sizing

POOL = 'main'


def _zookeeper(inv):
    config = {'zookeeper-servers': [
        {'host': host, 'port': port} for host, port in inv.zookeeper.servers]}
    zk = inv.zookeeper
    if zk.tls_ca:
        config['zookeeper-tls'] = {
            'ca': zk.tls_ca, 'cert': zk.tls_cert, 'key': zk.tls_key}
    return config


def _provider_diskimages(inv, provider):
    return [{'name': image.name,
             'config-drive': image.config_drive,
             'meta': dict(image.metadata)}
            for image in inv.diskimages_for(provider)]


def _pool(inv, provider, at):
    pool = {'name': POOL,
            'max-servers': sizing.sizing_at(inv, provider, at).max_servers}
    if provider.network:
        pool['networks'] = [provider.network]
    if provider.executor_zone:
        # Zuul runs the job on an executor of this zone, close to the
        # nodes; the link from elsewhere is too slow for Ansible.
        pool['node-attributes'] = {'executor-zone': provider.executor_zone}
    labels = []
    for label in inv.labels_for(provider):
        entry = {'name': label.name,
                 'diskimage': label.diskimage,
                 # flavor-name without min-ram: Nodepool then matches the
                 # name exactly instead of by substring.
                 'flavor-name': provider.flavor_name(label.flavor)}
        if provider.key_name:
            entry['key-name'] = provider.key_name
        labels.append(entry)
    pool['labels'] = labels
    return pool


def _min_ready(inv, label, launcher, at):
    # Each launcher tops up min-ready on its own, so ready nodes would add
    # up across the hosts that serve a label: the first of them keeps the
    # label warm, the others only answer requests.  Losing that host
    # loses the warm node until it returns, never the label.
    if inv.label_launchers(label)[0] != launcher:
        return 0
    return inv.min_ready_at(label, at)


def launcher_config(inv, launcher, at=None):
    """The launcher config of one launcher host, at an instant."""
    providers = [p for p in inv.providers if launcher in p.launchers]
    served = {label.name: label for p in providers
              for label in inv.labels_for(p)}
    images = {image.name: image for p in providers
              for image in inv.diskimages_for(p)}
    config = _zookeeper(inv)
    config['labels'] = [
        {'name': label.name,
         'min-ready': _min_ready(inv, label, launcher, at)}
        for label in served.values()]
    config['providers'] = [{
        'name': p.name,
        'cloud': p.cloud,
        'region-name': p.region,
        'boot-timeout': p.boot_timeout,
        'launch-timeout': p.launch_timeout,
        'launch-retries': p.launch_retries,
        'diskimages': _provider_diskimages(inv, p),
        'pools': [_pool(inv, p, at)],
    } for p in providers]
    # The launcher only needs the names; the builder holds the recipes.
    config['diskimages'] = [{'name': name} for name in images]
    return config


def builder_config(inv, builder):
    """The builder config: how to build each image, where to upload it."""
    providers = [p for p in inv.providers if p.builder == builder]
    images = {image.name: image for p in providers
              for image in inv.diskimages_for(p)}
    config = _zookeeper(inv)
    config['images-dir'] = inv.images_dir
    config['build-log-dir'] = inv.build_log_dir
    config['providers'] = [{
        'name': p.name,
        'cloud': p.cloud,
        'region-name': p.region,
        'diskimages': _provider_diskimages(inv, p),
    } for p in providers]
    config['diskimages'] = [{
        'name': image.name,
        'elements': list(image.elements),
        'release': image.release,
        'env-vars': dict(image.env_vars),
    } for image in images.values()]
    return config
