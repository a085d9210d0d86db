"""Which keys Zuul 14.3's zuul-launcher objects accept, and which they need.

Zuul checks a provider in two steps: its parser checks each ``image``,
``flavor`` and ``label`` stanza alone, and ``flattenConfig`` then checks
the provider that a ``provider`` stanza and its section chain add up to
against the schema of the connection's driver.  Zuul is not a
requirement at run time, so the key sets live here as data; when Zuul is
importable they are read from Zuul itself (``from_zuul``), and a test
pins this copy to what Zuul 14.3 says.

Each level maps to (allowed keys, required keys).  ``ANY_DRIVER`` is the
union over every driver: where the driver of a connection cannot be
told (it is named in zuul.conf, not in the config), keys that some
driver accepts are tolerated.
"""

import functools

ZUUL_VERSION = '14.3.0'

# Where in a provider each key set applies.
BODY = 'body'                 # section and provider bodies, flattened
LABEL = 'label'               # a label entry of a section or provider
LABEL_DEFAULTS = 'label-defaults'
CLOUD_IMAGE = 'cloud-image'   # an image entry whose image is type: cloud
ZUUL_IMAGE = 'zuul-image'     # ... type: zuul
IMAGE_DEFAULTS = 'image-defaults'
# What a cloud or zuul image takes from image-defaults.
CLOUD_IMAGE_INHERITS = 'cloud-image-inherits'
ZUUL_IMAGE_INHERITS = 'zuul-image-inherits'
FLAVOR = 'flavor'
FLAVOR_DEFAULTS = 'flavor-defaults'
# Top-level stanzas, as Zuul's parser checks them.
IMAGE_OBJECT = 'image-object'
FLAVOR_OBJECT = 'flavor-object'
LABEL_OBJECT = 'label-object'

PROVIDER_LEVELS = (BODY, LABEL, LABEL_DEFAULTS, CLOUD_IMAGE, ZUUL_IMAGE,
                   IMAGE_DEFAULTS, CLOUD_IMAGE_INHERITS, ZUUL_IMAGE_INHERITS,
                   FLAVOR, FLAVOR_DEFAULTS)
OBJECT_LEVELS = (IMAGE_OBJECT, FLAVOR_OBJECT, LABEL_OBJECT)
# The drivers whose own keys are checked; the others' are tolerated.
CHECKED_DRIVERS = ('openstack', 'static')
ANY_DRIVER = 'any'


def _keys(*names):
    return frozenset(names)


_COMMON_LABEL_DEFAULTS = (
    'aliases', 'boot-timeout', 'executor-zone', 'final', 'host-key-checking',
    'key-name', 'max-age', 'max-ready-age', 'min-retention-time', 'reuse',
    'slots', 'snapshot-expiration', 'snapshot-timeout', 'tags')
_COMMON_IMAGE_DEFAULTS = (
    'connection-port', 'connection-type', 'final', 'import-timeout',
    'max-retain-count', 'python-path', 'retain-count', 'shell-type', 'tags',
    'upload-methods', 'username')
_COMMON_BODY = (
    'abstract', 'connection', 'flavor-defaults', 'flavors', 'image-defaults',
    'images', 'label-defaults', 'labels', 'launch-attempts',
    'launch-timeout', 'name', 'parent', 'resource-limits', 'section')
_OPENSTACK_LABEL_EXTRA = (
    'auto-floating-ip', 'az', 'boot-from-volume', 'networks',
    'security-groups', 'userdata', 'volume-size')
_IMAGE_BASE = ('description', 'name', 'type')
# A cloud image keeps no uploads, so it inherits nothing about them.
_CLOUD_INHERITS = tuple(sorted(set(_COMMON_IMAGE_DEFAULTS) - {
    'max-retain-count', 'retain-count', 'tags', 'upload-methods'}))

PINNED = {
    'openstack': {
        BODY: (_keys(*_COMMON_BODY, 'floating-ip-cleanup',
                     'port-cleanup-interval', 'region'),
               _keys('connection', 'flavors', 'images', 'labels', 'name',
                     'section')),
        LABEL: (_keys(*_COMMON_LABEL_DEFAULTS, *_OPENSTACK_LABEL_EXTRA,
                      'description', 'flavor', 'image', 'name'),
                _keys('name')),
        LABEL_DEFAULTS: (_keys(*_COMMON_LABEL_DEFAULTS,
                               *_OPENSTACK_LABEL_EXTRA), _keys()),
        CLOUD_IMAGE: (_keys(*_COMMON_IMAGE_DEFAULTS, *_IMAGE_BASE,
                            'config-drive', 'image-id', 'userdata',
                            'volume-size') - {'max-retain-count',
                                              'retain-count', 'tags',
                                              'upload-methods'},
                      _keys('image-id', 'name', 'type')),
        ZUUL_IMAGE: (_keys(*_COMMON_IMAGE_DEFAULTS, *_IMAGE_BASE,
                           'config-drive', 'userdata', 'volume-size'),
                     _keys('name', 'type')),
        IMAGE_DEFAULTS: (_keys(*_COMMON_IMAGE_DEFAULTS, 'config-drive',
                               'userdata', 'volume-size'), _keys()),
        CLOUD_IMAGE_INHERITS: (_keys(*_CLOUD_INHERITS, 'userdata',
                                     'volume-size'), _keys()),
        ZUUL_IMAGE_INHERITS: (_keys(*_COMMON_IMAGE_DEFAULTS, 'config-drive',
                                    'userdata', 'volume-size'), _keys()),
        FLAVOR: (_keys('description', 'final', 'flavor-name', 'name',
                       'public-ipv4', 'public-ipv6', 'userdata',
                       'volume-size'),
                 _keys('flavor-name', 'name')),
        FLAVOR_DEFAULTS: (_keys('final', 'public-ipv4', 'public-ipv6',
                                'userdata', 'volume-size'), _keys()),
    },
    'static': {
        BODY: (_keys(*_COMMON_BODY, 'nodes'),
               _keys('connection', 'flavors', 'images', 'labels', 'name',
                     'nodes', 'section')),
        LABEL: (_keys(*_COMMON_LABEL_DEFAULTS, 'description', 'flavor',
                      'image', 'name'), _keys('name')),
        LABEL_DEFAULTS: (_keys(*_COMMON_LABEL_DEFAULTS), _keys()),
        # One image schema for both types.
        CLOUD_IMAGE: (_keys(*_COMMON_IMAGE_DEFAULTS, *_IMAGE_BASE),
                      _keys('name', 'type')),
        ZUUL_IMAGE: (_keys(*_COMMON_IMAGE_DEFAULTS, *_IMAGE_BASE),
                     _keys('name', 'type')),
        IMAGE_DEFAULTS: (_keys(*_COMMON_IMAGE_DEFAULTS), _keys()),
        CLOUD_IMAGE_INHERITS: (_keys(*_CLOUD_INHERITS), _keys()),
        ZUUL_IMAGE_INHERITS: (_keys(*_COMMON_IMAGE_DEFAULTS), _keys()),
        FLAVOR: (_keys('description', 'final', 'name'), _keys('name')),
        FLAVOR_DEFAULTS: (_keys('final'), _keys()),
    },
}

# What configloader's ImageParser, FlavorParser and LabelParser accept.
PINNED_OBJECTS = {
    IMAGE_OBJECT: (_keys('description', 'max-retain-count', 'name',
                         'retain-count', 'type'), _keys('name', 'type')),
    FLAVOR_OBJECT: (_keys('description', 'name'), _keys('name')),
    LABEL_OBJECT: (_keys('aliases', 'description', 'flavor', 'image',
                         'max-age', 'max-nodes', 'max-ready-age',
                         'min-ready', 'min-retention-time', 'name'),
                   _keys('flavor', 'image', 'name')),
}

# Keys only other drivers (aws, azure, kubernetes) accept; the union
# with the checked drivers' keys is what ANY_DRIVER tolerates.
PINNED_OTHER_KEYS = frozenset((
    'annotations', 'architecture', 'ena-support', 'ephemeral-disk',
    'generate-password', 'iam-instance-profile', 'image-format',
    'image-pull-secrets', 'imds-http-tokens', 'imds-support',
    'import-method', 'iops', 'ipv4', 'ipv6', 'key-data', 'kind',
    'kms-key-id', 'object-storage', 'priority', 'resource-group',
    'security-group-ids', 'spec', 'subnet-id', 'subnet-ids',
    'subnet-reference', 'throughput', 'user-assigned-identities', 'vm-size',
    'volume-type'))


def _schema_keys(schema):
    """(allowed, required) of a voluptuous mapping schema, unwrapped."""
    import voluptuous as vs
    while isinstance(getattr(schema, 'schema', None), vs.Schema):
        schema = schema.schema
    allowed, required = set(), set()
    for key in schema.schema:
        name = str(key)
        if name.startswith('_'):
            continue  # Zuul's own bookkeeping, never written by users
        allowed.add(name)
        if isinstance(key, vs.Required):
            required.add(name)
    return frozenset(allowed), frozenset(required)


def _image_alternatives(schema):
    """(cloud, zuul) key sets of a driver's image schema."""
    import voluptuous as vs
    found = {}
    alternatives = schema.validators if isinstance(schema, vs.Union) \
        else [schema]
    for alternative in alternatives:
        allowed, required = _schema_keys(alternative)
        kind = 'cloud' if 'image-id' in required or \
            'cloud' in str(alternative) else 'zuul'
        found[kind] = (allowed, required)
    if len(found) == 1:
        # One schema for both types (static): same keys either way.
        found['cloud'] = found['zuul'] = next(iter(found.values()))
    return found['cloud'], found['zuul']


def _driver_levels(schema_class):
    s = schema_class()
    cloud, zuul = _image_alternatives(s.getImageSchema())
    return {
        BODY: _schema_keys(s.getProviderSchema()),
        LABEL: _schema_keys(s.getLabelSchema()),
        LABEL_DEFAULTS: _schema_keys(s.getInheritableLabelSchema()),
        CLOUD_IMAGE: cloud,
        ZUUL_IMAGE: zuul,
        IMAGE_DEFAULTS: _schema_keys(s.getInheritableImageSchema()),
        CLOUD_IMAGE_INHERITS: _schema_keys(
            s.getInheritableCloudImageSchema()),
        ZUUL_IMAGE_INHERITS: _schema_keys(s.getInheritableZuulImageSchema()),
        FLAVOR: _schema_keys(s.getFlavorSchema()),
        FLAVOR_DEFAULTS: _schema_keys(s.getInheritableFlavorSchema()),
    }


def from_zuul():
    """The key sets read from the installed Zuul; ImportError without it.

    Returns (drivers, objects, other_keys) shaped like PINNED,
    PINNED_OBJECTS and PINNED_OTHER_KEYS.
    """
    from zuul import configloader
    from zuul.driver import aws, azure, kubernetes, openstack, static
    classes = {
        'openstack': openstack.OpenstackDriver,
        'static': static.StaticDriver,
        'aws': aws.AwsDriver,
        'azure': azure.AzureDriver,
        'kubernetes': kubernetes.KubernetesDriver,
    }
    drivers = {name: _driver_levels(cls.getProviderSchemaClass(None))
               for name, cls in classes.items()}
    objects = {
        IMAGE_OBJECT: _schema_keys(configloader.ImageParser.schema),
        FLAVOR_OBJECT: _schema_keys(configloader.FlavorParser.schema),
        LABEL_OBJECT: _schema_keys(configloader.LabelParser.schema),
    }
    checked = set()
    for name in CHECKED_DRIVERS:
        for allowed, _ in drivers[name].values():
            checked |= allowed
    other = set()
    for name, levels in drivers.items():
        if name not in CHECKED_DRIVERS:
            for allowed, _ in levels.values():
                other |= allowed
    checked_drivers = {name: drivers[name] for name in CHECKED_DRIVERS}
    return checked_drivers, objects, frozenset(other - checked)


@functools.lru_cache(maxsize=None)
def key_sets():
    """(drivers, objects), from Zuul when importable, else the copy.

    ``drivers`` has CHECKED_DRIVERS and ANY_DRIVER; ANY_DRIVER's sets
    allow every key some driver allows and require nothing.
    """
    try:
        drivers, objects, other = from_zuul()
    except Exception:
        # Not installed, or a Zuul whose internals moved (these are not
        # its public API): the copy pinned to Zuul 14.3 still answers.
        drivers, objects, other = PINNED, PINNED_OBJECTS, PINNED_OTHER_KEYS
    tolerant = {}
    for level in PROVIDER_LEVELS:
        allowed = set(other)
        for name in CHECKED_DRIVERS:
            allowed |= drivers[name][level][0]
        tolerant[level] = (frozenset(allowed), frozenset())
    return dict(drivers, **{ANY_DRIVER: tolerant}), dict(objects)
