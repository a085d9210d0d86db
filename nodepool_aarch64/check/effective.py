"""The provider zuul-launcher builds from a provider stanza and its sections.

This follows Zuul 14.3's ``ProviderConfig.flattenConfig``: the section
chain is applied root first, provider last; bodies are merged (mappings
deep, lists appended); an image, flavor or label listed again lower down
replaces the whole entry above it (its attributes are not merged); then
each entry gets the attributes of its top-level stanza and, for keys the
driver lets it inherit, the ``label-defaults``, ``flavor-defaults`` or
``image-defaults`` in force.  An entry or defaults marked ``final``
takes its defaults where it is listed.  A test pins the result to
Zuul's own on the same objects.

Each entry remembers the stanza and YAML node that listed it last, so a
rule can point at the line an admin must change.
"""

import copy
import dataclasses

from nodepool_aarch64.check import zuulschema as zs

LISTS = ('images', 'flavors', 'labels')
DEFAULTS = {'images': 'image-defaults', 'flavors': 'flavor-defaults',
            'labels': 'label-defaults'}
KIND = {'images': 'image', 'flavors': 'flavor', 'labels': 'label'}
DEFAULT_LEVELS = {'label-defaults': zs.LABEL_DEFAULTS,
                  'image-defaults': zs.IMAGE_DEFAULTS,
                  'flavor-defaults': zs.FLAVOR_DEFAULTS}


@dataclasses.dataclass
class Entry:
    """One image, flavor or label of an effective provider."""
    name: str
    config: dict        # after inheritance and defaults
    stanza: object      # the section or provider that listed it last
    node: object        # its YAML mapping, or the stanza body for "- name"


@dataclasses.dataclass
class Provider:
    stanza: object                  # the provider stanza
    path: list                      # root section first, provider last
    body: dict                      # merged bodies, without the lists
    images: dict                    # name -> Entry
    flavors: dict
    labels: dict
    driver: str

    @property
    def name(self):
        return self.stanza.name

    @property
    def connection(self):
        return self.body.get('connection') if isinstance(
            self.body.get('connection'), str) else None

    @property
    def region(self):
        return self.body.get('region') if isinstance(
            self.body.get('region'), str) else None

    def entries(self, key):
        return getattr(self, key)


def merge(a, b):
    """Zuul's merge: mappings deep, lists appended, b wins otherwise."""
    result = {k: v for k, v in a.items() if k not in b}
    for k, bv in b.items():
        av = a.get(k)
        if isinstance(av, dict) and isinstance(bv, dict):
            result[k] = merge(av, bv)
        elif isinstance(av, list) and isinstance(bv, list):
            result[k] = av + bv
        else:
            result[k] = bv
    return result


def listed(body, key):
    """(name, node, entry dict) for each well-formed entry of a list."""
    entries = body.get(key)
    found = []
    for entry in entries if isinstance(entries, list) else []:
        if isinstance(entry, str):
            found.append((entry, body, {'name': entry}))
        elif isinstance(entry, dict) and isinstance(entry.get('name'), str):
            found.append((entry['name'], entry, copy.deepcopy(entry)))
    return found


def object_config(objects, key, name):
    """What a top-level image, flavor or label stanza gives its entries
    (Zuul's ``toConfig`` without the None values)."""
    stanza = objects.defs[KIND[key]].get(name)
    if stanza is None:
        return None
    body = stanza.body
    if key == 'images':
        keys = ('name', 'type', 'description')
    elif key == 'flavors':
        keys = ('name', 'description')
    else:
        keys = ('name', 'image', 'flavor', 'description', 'max-ready-age',
                'max-age', 'min-retention-time', 'aliases')
    config = {k: copy.deepcopy(body[k]) for k in keys
              if body.get(k) is not None}
    if key == 'labels':
        aliases = body.get('aliases')
        config['aliases'] = [] if not aliases else (
            list(aliases) if isinstance(aliases, list) else [aliases])
    return config


def _inheritable(driver, key, entry):
    drivers, _ = zs.key_sets()
    levels = drivers[driver]
    if key == 'labels':
        return levels[zs.LABEL_DEFAULTS][0]
    if key == 'flavors':
        return levels[zs.FLAVOR_DEFAULTS][0]
    # Zuul knows an image's type only after the top-level stanza is in.
    if entry.get('type') == 'cloud':
        return levels[zs.CLOUD_IMAGE_INHERITS][0]
    return levels[zs.ZUUL_IMAGE_INHERITS][0]


def apply_defaults(objects, driver, key, entry, defaults):
    base = object_config(objects, key, entry['name'])
    if base is not None:
        entry.update(merge(base, entry))
    if not isinstance(defaults, dict):
        return entry
    for k in _inheritable(driver, key, entry):
        if k not in entry and k in defaults:
            entry[k] = copy.deepcopy(defaults[k])
        elif k == 'tags' and isinstance(entry.get(k), dict) and \
                isinstance(defaults.get(k), dict):
            entry[k].update(merge(defaults[k], entry[k]))
    return entry


def _used_keys(path):
    """{level: keys} the chain writes, for telling its driver."""
    used = {}
    for stanza in path:
        used.setdefault(zs.BODY, set()).update(stanza.body)
        for key, level in DEFAULT_LEVELS.items():
            if isinstance(stanza.body.get(key), dict):
                used.setdefault(level, set()).update(stanza.body[key])
        for key, level in (('labels', zs.LABEL), ('flavors', zs.FLAVOR)):
            for _, node, entry in listed(stanza.body, key):
                used.setdefault(level, set()).update(entry)
    return used


def guess_driver(path):
    """The driver whose keys the chain uses: the connection's driver is
    named in zuul.conf, which the checker does not see.  OpenStack unless
    the chain has static ``nodes`` or keys only another driver (aws,
    azure, kubernetes) accepts; then any driver's keys are tolerated."""
    drivers, _ = zs.key_sets()
    used = _used_keys(path)
    if 'nodes' in used[zs.BODY]:
        return 'static'
    for level, keys in used.items():
        others = drivers[zs.ANY_DRIVER][level][0]
        for name in zs.CHECKED_DRIVERS:
            others = others - drivers[name][level][0]
        if keys & others:
            return zs.ANY_DRIVER
    return 'openstack'


def flatten(objects, provider):
    """The effective Provider of a provider stanza, or None when its
    section chain does not resolve (NPA071 reports that)."""
    path = objects.chain(provider)
    last = path[-1]
    if last.kind == 'provider' or isinstance(last.body.get('parent'), str):
        # No section, or a parent that is not defined (or a loop):
        # Zuul cannot build this provider at all.
        return None
    path.reverse()
    driver = guess_driver(path)
    body = {}
    current = {key: {} for key in LISTS}
    for stanza in path:
        other = {k: copy.deepcopy(v) for k, v in stanza.body.items()
                 if k not in LISTS and k != 'name'}
        body = merge(body, other)
        for key in LISTS:
            if key == 'flavors' and stanza.kind == 'provider':
                continue  # Zuul refuses them there (NPA073)
            defaults = body.get(DEFAULTS[key], {})
            for name, node, entry in listed(stanza.body, key):
                if entry.get('final') or (isinstance(defaults, dict) and
                                          defaults.get('final')):
                    apply_defaults(objects, driver, key, entry, defaults)
                current[key][name] = Entry(name, entry, stanza, node)
    for key in LISTS:
        defaults = body.get(DEFAULTS[key], {})
        for item in current[key].values():
            if not item.config.get('final'):
                apply_defaults(objects, driver, key, item.config, defaults)
    return Provider(provider, path, body, current['images'],
                    current['flavors'], current['labels'], driver)
