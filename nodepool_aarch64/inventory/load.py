"""Read an inventory file into the model, or fail with one clear line."""

import dataclasses
import datetime
import os
import types

import voluptuous as v

from nodepool_aarch64 import model
from nodepool_aarch64 import sizing
from nodepool_aarch64 import timeutil
from nodepool_aarch64.engines import nodepool
from nodepool_aarch64.errors import InputError
from nodepool_aarch64.formats import yamlutil
from nodepool_aarch64.inventory import schema

DEFAULT_INVENTORY = os.path.join(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
    'data', 'linaro.yaml')
DEFAULT_ZOOKEEPER = ('localhost', 2281)


class _Reader:
    """Turns key paths into InputErrors that name the file and line."""

    def __init__(self, path, data):
        self.path = path
        self.data = data

    def error(self, keypath, message):
        return InputError(self.path, yamlutil.line_of(self.data, keypath),
                          yamlutil.dotted(keypath), message)


def load_inventory(path=None):
    """Load, validate and model an inventory; None loads the shipped one."""
    path = DEFAULT_INVENTORY if path is None else path
    data = yamlutil.load_strict(path)
    if not isinstance(data, dict):
        raise InputError(path, getattr(data, 'line', 1), '',
                         'expected a mapping of inventory sections')
    reader = _Reader(path, data)
    try:
        schema.INVENTORY(data)
    except v.MultipleInvalid as e:
        first = sorted(e.errors, key=lambda x: _path_line(data, x.path))[0]
        raise reader.error(first.path, schema.describe(first))
    return _build(reader, data)


def _path_line(data, keypath):
    return yamlutil.line_of(data, keypath) or 0


def _unique(reader, section, items):
    seen = {}
    for i, item in enumerate(items):
        if item['name'] in seen:
            raise reader.error(
                (section, i, 'name'),
                f'duplicate name {item["name"]!r} (first at line '
                f'{seen[item["name"]]})')
        seen[item['name']] = yamlutil.line_of(reader.data, (section, i))
    return {item['name']: item for item in items}


def _quota(raw):
    raw = raw or {}
    return model.Quota(**{k.replace('-', '_'): raw.get(k)
                          for k in model.QUOTA_KEYS})


def _build(reader, data):
    flavors = {name: model.Flavor(name, f['vcpus'], f['ram'])
               for name, f in _unique(reader, 'flavors',
                                      data['flavors']).items()}
    _unique(reader, 'diskimages', data['diskimages'])
    diskimages = {}
    for i, raw in enumerate(data['diskimages']):
        diskimages[raw['name']] = _diskimage(reader, i, raw)
    _unique(reader, 'providers', data['providers'])
    timeouts = data.get('timeouts', {})
    providers = tuple(_provider(reader, i, raw, timeouts, flavors)
                      for i, raw in enumerate(data['providers']))
    _check_hosts(reader, providers)
    provider_names = [p.name for p in providers]
    _unique(reader, 'labels', data['labels'])
    labels = tuple(_label(reader, i, raw, flavors, diskimages,
                          provider_names)
                   for i, raw in enumerate(data['labels']))
    zk = data.get('zookeeper')
    builder = data.get('builder', {})
    capacity = data.get('capacity', {})
    inventory = model.Inventory(
        path=reader.path,
        zookeeper=_zookeeper(zk),
        images_dir=builder.get('images-dir', '/opt/nodepool_dib'),
        build_log_dir=builder.get('build-log-dir',
                                  '/var/log/nodepool/builds'),
        providers=providers,
        flavors=types.MappingProxyType(flavors),
        diskimages=types.MappingProxyType(diskimages),
        labels=labels,
        headroom=float(capacity.get('headroom', 0.0)),
        windows=(),
    )
    for provider in providers:
        _check_sized(reader, inventory, provider)
    windows = tuple(_window(reader, i, raw, inventory)
                    for i, raw in enumerate(capacity.get('windows', [])))
    _check_flavors_mapped(reader, inventory)
    return dataclasses.replace(inventory, windows=windows)


def _zookeeper(raw):
    if not raw:
        return model.Zookeeper((DEFAULT_ZOOKEEPER,), None, None, None)
    servers = tuple((host, int(port)) for host, port in
                    (s.rsplit(':', 1) for s in raw['servers']))
    tls = raw.get('tls', {})
    return model.Zookeeper(servers, tls.get('ca'), tls.get('cert'),
                           tls.get('key'))


def _diskimage(reader, i, raw):
    arch = raw.get('arch', model.ARM64)
    where = ('diskimages', i)
    elements = raw.get('elements')
    if elements is None:
        if raw['distro'] not in model.DISTRO_ELEMENTS:
            raise reader.error(
                where + ('distro',),
                f'no default elements for distro {raw["distro"]!r}; '
                'list them under "elements"')
        elements = model.DISTRO_ELEMENTS[raw['distro']]
    elements = list(elements)
    env_vars = {'DIB_RELEASE': str(raw['release'])}
    metadata = {}
    if arch == model.ARM64:
        if model.EFI_ELEMENT not in elements:
            elements.append(model.EFI_ELEMENT)
        env_vars['ARCH'] = model.ARM64
        metadata.update(model.UEFI_METADATA)
        for key, value in raw.get('metadata', {}).items():
            if key in model.UEFI_METADATA and \
                    str(value) != model.UEFI_METADATA[key]:
                raise reader.error(
                    where + ('metadata', key),
                    f'arm64 images need {key}: '
                    f'{model.UEFI_METADATA[key]} to boot under UEFI')
    env_vars.update({k: str(val) for k, val in
                     raw.get('env-vars', {}).items()})
    if arch == model.ARM64 and env_vars['ARCH'] != model.ARM64:
        raise reader.error(where + ('env-vars', 'ARCH'),
                           'an arm64 diskimage must build with ARCH=arm64')
    metadata.update({k: str(val) for k, val in
                     raw.get('metadata', {}).items()})
    return model.Diskimage(
        name=raw['name'], distro=raw['distro'], release=str(raw['release']),
        arch=arch, elements=tuple(elements),
        env_vars=types.MappingProxyType(env_vars),
        metadata=types.MappingProxyType(metadata),
        config_drive=raw.get('config-drive', True))


def _provider(reader, i, raw, timeouts, flavors):
    where = ('providers', i)
    for logical in raw.get('flavors', {}):
        if logical not in flavors:
            raise reader.error(where + ('flavors', logical),
                               f'unknown flavor {logical!r}; declare it '
                               'under the top-level "flavors"')

    def timeout(key, default):
        return raw.get(key, timeouts.get(key, default))

    return model.Provider(
        name=raw['name'], cloud=raw['cloud'], region=raw['region'],
        launchers=_launchers(reader, where, raw.get('launcher')),
        builder=raw.get('builder'),
        quota=_quota(raw['quota']), reserved=_quota(raw.get('reserved')),
        max_servers=raw.get('max-servers'), network=raw.get('network'),
        key_name=raw.get('key-name'),
        executor_zone=raw.get('executor-zone'), mirror=raw.get('mirror'),
        boot_timeout=timeout('boot-timeout', model.ARM64_BOOT_TIMEOUT),
        launch_timeout=timeout('launch-timeout', model.ARM64_LAUNCH_TIMEOUT),
        launch_retries=timeout('launch-retries',
                               nodepool.DEFAULT_LAUNCH_RETRIES),
        flavor_names=types.MappingProxyType(dict(raw.get('flavors', {}))))


def _launchers(reader, where, value):
    if value is None:
        return ()
    hosts = [value] if isinstance(value, str) else value
    for j, host in enumerate(hosts):
        if host in hosts[:j]:
            # Listed twice, the host would count twice towards the two a
            # label needs to outlive one of them.
            raise reader.error(where + ('launcher', j),
                               f'launcher host {host!r} is listed twice')
    return tuple(hosts)


def _check_hosts(reader, providers):
    # A launcher without a builder would boot images nothing uploads; a
    # builder without a launcher would upload images nothing boots.
    for i, provider in enumerate(providers):
        if (not provider.launchers) != (provider.builder is None):
            missing = 'builder' if provider.builder is None else 'launcher'
            raise reader.error(
                ('providers', i),
                f'"launcher" and "builder" go together; add "{missing}", '
                'or drop both to publish this provider to zuul-launcher '
                'only')
    # Each host gets one file, nodepool/<host>.yaml: a host named both as
    # a launcher and as a builder would have one file rendered over the
    # other.
    launchers = {host for p in providers for host in p.launchers}
    for i, provider in enumerate(providers):
        if provider.builder in launchers:
            raise reader.error(
                ('providers', i, 'builder'),
                f'{provider.builder!r} is also a launcher host; launcher '
                'and builder configs are rendered to one file per host, '
                'so give the builder its own host name')


def _label(reader, i, raw, flavors, diskimages, provider_names):
    where = ('labels', i)
    if raw['diskimage'] not in diskimages:
        raise reader.error(where + ('diskimage',),
                           f'unknown diskimage {raw["diskimage"]!r}')
    if raw['flavor'] not in flavors:
        raise reader.error(where + ('flavor',),
                           f'unknown flavor {raw["flavor"]!r}')
    providers = raw.get('providers', provider_names)
    for j, name in enumerate(providers):
        if name not in provider_names:
            raise reader.error(where + ('providers', j),
                               f'unknown provider {name!r}')
    return model.Label(name=raw['name'], diskimage=raw['diskimage'],
                       flavor=raw['flavor'],
                       min_ready=raw.get('min-ready', 0),
                       providers=tuple(dict.fromkeys(providers)))


def _check_flavors_mapped(reader, inventory):
    """Every flavor a provider boots is mapped to the cloud's name.

    Falling back to the logical name would write a flavor-name the cloud
    may not have, and nodes that never launch; mapping a flavor to its
    own name says the cloud calls it that.
    """
    for index, provider in enumerate(inventory.providers):
        for label in inventory.labels_for(provider):
            if label.flavor not in provider.flavor_names:
                raise reader.error(
                    ('providers', index, 'flavors'),
                    f'provider {provider.name} serves label {label.name}, '
                    f'whose flavor {label.flavor} has no mapping here; add '
                    f'"{label.flavor}: <the cloud\'s flavor name>" (the '
                    'same name if the cloud calls it that)')


def _check_sized(reader, inventory, provider):
    where = ('providers', [p.name for p in inventory.providers]
             .index(provider.name))
    try:
        sizing.provider_sizing(inventory, provider, provider.max_servers)
    except ValueError as e:
        raise reader.error(where + ('quota',), str(e))


def _parse_time(value):
    hours, minutes = value.split(':')
    return datetime.time(int(hours), int(minutes))


def _window(reader, i, raw, inventory):
    where = ('capacity', 'windows', i)
    weekly = 'start' in raw or 'end' in raw or 'days' in raw
    one_off = 'from' in raw or 'until' in raw
    if weekly == one_off:
        raise reader.error(where, 'a window is either weekly (days, start, '
                                  'end) or one-off (from, until)')
    starts = ends = None
    start = end = datetime.time(0, 0)
    days = frozenset(range(7))
    if weekly:
        for key in ('start', 'end'):
            if key not in raw:
                raise reader.error(where, f'weekly window needs "{key}"')
        start, end = _parse_time(raw['start']), _parse_time(raw['end'])
        if start == end:
            raise reader.error(where + ('end',), 'end equals start: the '
                                                 'window would be empty')
        if 'days' in raw:
            days = frozenset(model.WEEKDAYS.index(d) for d in raw['days'])
    else:
        for key in ('from', 'until'):
            if key not in raw:
                raise reader.error(where, f'one-off window needs "{key}"')
        for key in ('from', 'until'):
            try:
                timeutil.parse_utc(raw[key])
            except ValueError as e:
                raise reader.error(where + (key,), f'bad timestamp: {e}')
        starts = timeutil.parse_utc(raw['from'])
        ends = timeutil.parse_utc(raw['until'])
        if ends <= starts:
            raise reader.error(where + ('until',), 'must be after "from"')
    for name, servers in raw.get('max-servers', {}).items():
        try:
            provider = inventory.provider(name)
        except StopIteration:
            raise reader.error(where + ('max-servers', name),
                               f'unknown provider {name!r}')
        quota_bound = sizing.provider_sizing(inventory, provider, servers)
        if quota_bound.max_servers < servers:
            raise reader.error(
                where + ('max-servers', name),
                f'{servers} is above what the quota allows '
                f'({quota_bound.max_servers}, bound by '
                f'{quota_bound.binding})')
    for name in raw.get('min-ready', {}):
        if name not in [label.name for label in inventory.labels]:
            raise reader.error(where + ('min-ready', name),
                               f'unknown label {name!r}')
    return model.Window(
        name=raw['name'], days=days, start=start, end=end, starts=starts,
        ends=ends,
        max_servers=types.MappingProxyType(dict(raw.get('max-servers', {}))),
        min_ready=types.MappingProxyType(dict(raw.get('min-ready', {}))))
