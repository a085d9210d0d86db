"""zuul-launcher objects against Zuul's own provider and driver schemas.

Zuul rejects these when the config loads (or, for a provider, when it
builds the provider); each finding points at the key to change.  A key
another driver accepts is tolerated when the chain looks like that
driver's (zuulschema.ANY_DRIVER): the connection's driver is in
zuul.conf, which the checker does not see.
"""

import difflib

from nodepool_aarch64.check import effective
from nodepool_aarch64.check import zuulschema as zs
from nodepool_aarch64.check.rules import ERROR, rule

CODE = 'NPA073'
OBJECT_LEVEL = {'image': zs.IMAGE_OBJECT, 'flavor': zs.FLAVOR_OBJECT,
                'label': zs.LABEL_OBJECT}
ENTRY_LEVEL = {'labels': zs.LABEL, 'flavors': zs.FLAVOR}
DEFAULTS_LEVEL = effective.DEFAULT_LEVELS


def _hint(key, allowed):
    close = difflib.get_close_matches(str(key), sorted(allowed), n=1,
                                      cutoff=0.75)
    return f' (did you mean "{close[0]}"?)' if close else ''


def _unknown(stanza, node, keys, allowed, what):
    for key in keys:
        if key not in allowed:
            yield stanza.source.finding(
                node, CODE, ERROR,
                f'Zuul rejects {what}: unknown key "{key}"'
                f'{_hint(key, allowed)}', key=key)


def _missing(stanza, node, config, required, what, key=None):
    for name in sorted(required - set(config)):
        yield stanza.source.finding(
            node, CODE, ERROR,
            f'Zuul rejects {what}: required key "{name}" is missing',
            key=key)


def _objects(objects):
    _, levels = zs.key_sets()
    for kind, level in OBJECT_LEVEL.items():
        allowed, required = levels[level]
        for stanza in objects.defs[kind].values():
            what = f'{kind} {stanza.name}'
            yield from _unknown(stanza, stanza.body, stanza.body, allowed,
                                what)
            yield from _missing(stanza, stanza.body, stanza.body, required,
                                what)
            if kind == 'image' and 'type' in stanza.body and \
                    stanza.body['type'] not in ('zuul', 'cloud'):
                yield stanza.source.finding(
                    stanza.body, CODE, ERROR,
                    f'Zuul rejects {what}: type must be "zuul" or '
                    f'"cloud"', key='type')


def _lists(stanza):
    """The shape Zuul's section and provider parsers insist on."""
    keys = ('images', 'labels') if stanza.kind == 'provider' else \
        effective.LISTS
    what = f'{stanza.kind} {stanza.name}'
    for key in keys:
        value = stanza.body.get(key)
        if value is None:
            continue
        if not isinstance(value, list):
            shape = 'a mapping' if isinstance(value, dict) else \
                type(value).__name__
            yield stanza.source.finding(
                stanza.body, CODE, ERROR,
                f'Zuul rejects {what}: "{key}" must be a list of names or '
                f'mappings, not {shape}', key=key)
            continue
        for entry in value:
            if isinstance(entry, dict) and not isinstance(
                    entry.get('name'), str):
                yield stanza.source.finding(
                    entry, CODE, ERROR,
                    f'Zuul rejects {what}: a {key[:-1]} entry has no name')
            elif not isinstance(entry, (str, dict)):
                yield stanza.source.finding(
                    stanza.body, CODE, ERROR,
                    f'Zuul rejects {what}: "{key}" entries must be names '
                    'or mappings', key=key)
    if stanza.kind == 'provider':
        if 'flavors' in stanza.body:
            yield stanza.source.finding(
                stanza.body, CODE, ERROR,
                f'Zuul rejects {what}: "flavors" may only be set in a '
                'section, not in a provider', key='flavors')
        if not isinstance(stanza.body.get('section'), str):
            yield stanza.source.finding(
                stanza.body, CODE, ERROR,
                f'Zuul rejects {what}: required key "section" is missing')


def _image_level(objects, name, entry):
    kind = entry.get('type')
    if kind is None:
        stanza = objects.defs['image'].get(name)
        kind = stanza.body.get('type') if stanza else None
    return zs.CLOUD_IMAGE if kind == 'cloud' else zs.ZUUL_IMAGE


def _provider(objects, provider):
    drivers, _ = zs.key_sets()
    levels = drivers[provider.driver]
    body_allowed = levels[zs.BODY][0] | {'description'}
    for stanza in provider.path:
        what = f'{stanza.kind} {stanza.name}'
        yield from _unknown(stanza, stanza.body, stanza.body, body_allowed,
                            what)
        for key, level in DEFAULTS_LEVEL.items():
            defaults = stanza.body.get(key)
            if isinstance(defaults, dict):
                yield from _unknown(stanza, defaults, defaults,
                                    levels[level][0], f'{what} {key}')
        for key in effective.LISTS:
            for name, node, entry in effective.listed(stanza.body, key):
                if node is stanza.body:
                    continue  # "- name": nothing but the name
                level = ENTRY_LEVEL.get(key) or \
                    _image_level(objects, name, entry)
                yield from _unknown(stanza, node, entry, levels[level][0],
                                    f'{what} {key[:-1]} {name}')
    if provider.connection is None:
        yield provider.stanza.source.finding(
            provider.stanza.body, CODE, ERROR,
            f'Zuul rejects provider {provider.name}: no section of it '
            'names a "connection"')
    # Required keys are judged on the effective entry: the image-id of a
    # cloud image may come from image-defaults or an upper section.
    for key in ('images', 'flavors'):
        for item in provider.entries(key).values():
            if key == 'images' and \
                    objects.defs['image'].get(item.name) is None:
                continue  # NPA071 reports the undefined image
            level = ENTRY_LEVEL.get(key) or \
                _image_level(objects, item.name, item.config)
            what = (f'{item.stanza.kind} {item.stanza.name} '
                    f'{key[:-1]} {item.name}')
            yield from _missing(item.stanza, item.node, item.config,
                                levels[level][1], what)


@rule(CODE, ERROR, "Zuul's zuul-launcher schemas reject an image, flavor, "
      'label, section or provider: unknown key, wrong shape, or a required '
      'key missing')
def launcher_schema(configset, context):
    objects = configset.zuul_launcher
    if not any(objects.defs.values()):
        return  # no zuul-launcher objects: no need to ask Zuul anything
    yield from _objects(objects)
    for stanza in list(objects.defs['section'].values()) + \
            objects.providers:
        yield from _lists(stanza)
    for provider in objects.effective():
        yield from _provider(objects, provider)
