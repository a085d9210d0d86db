"""The inventory's shape, checked with voluptuous before the model is built.

Unknown keys are errors: a misspelt ``min-redy`` must not silently keep
the default.  Cross-references (a label's flavor, a window's provider)
are checked by the loader, which knows every name.
"""

import re

import voluptuous as v

from nodepool_aarch64.model import AMD64, ARM64, QUOTA_KEYS, WEEKDAYS

NAME = v.All(str, v.Match(r'^[A-Za-z0-9][A-Za-z0-9._-]*\Z',
                          msg='expected a name of letters, digits, '
                              '".", "_" and "-"'))


def _whole_number(value):
    # YAML's true/false are ints to Python; "max-servers: true" is a
    # mistake, not 1.
    if isinstance(value, bool) or not isinstance(value, int):
        raise v.Invalid('not a whole number')
    return value


def _host_port(value):
    host, _, port = value.rpartition(':')
    if not 1 <= int(port) <= 65535:
        raise v.Invalid('port out of range')
    return value


COUNT = v.All(_whole_number, v.Range(min=0),
              msg='expected a whole number >= 0')
POSITIVE = v.All(_whole_number, v.Range(min=1),
                 msg='expected a whole number >= 1')
# Far above any real site (OpenDev's whole Nodepool had about 15
# providers and 60 labels) and low enough that rendering, whose output
# grows with labels x providers, stays within seconds.
LIMITS = {'flavors': 200, 'diskimages': 200, 'providers': 100,
          'labels': 500, 'windows': 500}


def _count(section, minimum=1):
    return v.Length(min=minimum, max=LIMITS[section],
                    msg=f'expected {minimum} to {LIMITS[section]} '
                        f'{section}')


TIME_OF_DAY = v.All(str, v.Match(r'^([01][0-9]|2[0-3]):[0-5][0-9]\Z',
                                 msg='expected a UTC time of day "HH:MM"'))
TIMESTAMP = v.All(
    str, v.Match(r'^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2})?'
                 r'(Z|[+-]\d{2}:?\d{2})?\Z',
                 msg='expected an ISO 8601 date and time, e.g. '
                     '"2026-12-01T06:00Z" (quote it)'))
STRINGS = {str: v.Any(str, int, float, bool)}

QUOTA = {v.Optional(key): COUNT for key in QUOTA_KEYS}

TIMEOUTS = {
    v.Optional('boot-timeout'): POSITIVE,
    v.Optional('launch-timeout'): POSITIVE,
    v.Optional('launch-retries'): POSITIVE,
}

ZOOKEEPER = {
    v.Required('servers'): v.All(
        [v.All(str, v.Match(r'^[^\s:]+:\d{1,5}\Z'), _host_port,
               msg='expected "host:port" with a port from 1 to 65535')],
        v.Length(min=1)),
    v.Optional('tls'): {
        v.Required('ca'): str,
        v.Required('cert'): str,
        v.Required('key'): str,
    },
}

BUILDER = {
    v.Optional('images-dir'): str,
    v.Optional('build-log-dir'): str,
}

FLAVOR = {
    v.Required('name'): NAME,
    v.Required('vcpus'): POSITIVE,
    v.Required('ram'): POSITIVE,
}

DISKIMAGE = {
    v.Required('name'): NAME,
    v.Required('distro'): NAME,
    # 18.04 or 12 read as numbers; null must not become "None".
    v.Required('release'): v.All(v.Any(str, int, float,
                                       msg='expected a release name'),
                                 v.Coerce(str), NAME),
    v.Optional('arch'): v.Any(ARM64, AMD64,
                              msg=f'expected "{ARM64}" or "{AMD64}"'),
    v.Optional('elements'): [NAME],
    v.Optional('env-vars'): STRINGS,
    v.Optional('metadata'): STRINGS,
    v.Optional('config-drive'): bool,
}

LABEL = {
    v.Required('name'): NAME,
    v.Required('diskimage'): NAME,
    v.Required('flavor'): NAME,
    v.Optional('min-ready'): COUNT,
    v.Optional('providers'): v.All([NAME], v.Length(min=1)),
}

PROVIDER = {
    v.Required('name'): NAME,
    v.Required('cloud'): NAME,
    v.Required('region'): NAME,
    # Both or neither: a provider without them has no Nodepool and is
    # published as zuul-launcher objects only.
    v.Optional('launcher'): NAME,
    v.Optional('builder'): NAME,
    v.Required('quota'): QUOTA,
    v.Optional('reserved'): QUOTA,
    v.Optional('max-servers'): COUNT,
    v.Optional('network'): str,
    v.Optional('key-name'): str,
    v.Optional('executor-zone'): NAME,
    v.Optional('mirror'): str,
    v.Optional('flavors'): {NAME: str},
    **TIMEOUTS,
}

WINDOW = {
    v.Required('name'): NAME,
    v.Optional('days'): v.All([v.Any(*WEEKDAYS, msg='expected one of '
                                     + ', '.join(WEEKDAYS))],
                              v.Length(min=1)),
    v.Optional('start'): TIME_OF_DAY,
    v.Optional('end'): TIME_OF_DAY,
    v.Optional('from'): TIMESTAMP,
    v.Optional('until'): TIMESTAMP,
    v.Optional('max-servers'): {NAME: COUNT},
    v.Optional('min-ready'): {NAME: COUNT},
}

CAPACITY = {
    v.Optional('headroom'): v.All(v.Any(int, float), v.Range(min=0, max=0.9),
                                  msg='expected a fraction from 0 to 0.9'),
    v.Optional('windows'): v.All([WINDOW], _count('windows', minimum=0)),
}

INVENTORY = v.Schema({
    v.Optional('zookeeper'): ZOOKEEPER,
    v.Optional('builder'): BUILDER,
    v.Optional('timeouts'): TIMEOUTS,
    v.Required('flavors'): v.All([FLAVOR], _count('flavors')),
    v.Required('diskimages'): v.All([DISKIMAGE], _count('diskimages')),
    v.Required('providers'): v.All([PROVIDER], _count('providers')),
    v.Required('labels'): v.All([LABEL], _count('labels')),
    v.Optional('capacity'): CAPACITY,
})


def describe(error):
    """A voluptuous error as a short 'what was expected' phrase."""
    message = error.msg
    if message == 'extra keys not allowed':
        return 'unknown key'
    if message == 'required key not provided':
        return 'required key is missing'
    message = re.sub(r' @ data\[.*$', '', message)
    if message.startswith('expected dict'):
        return 'expected a mapping'
    if message.startswith('expected list'):
        return 'expected a list'
    if message.startswith('expected str'):
        return 'expected a string'
    return message
