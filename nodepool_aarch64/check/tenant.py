"""What the rest of a Zuul tenant serves: label names from outside the set.

A consumer repository (Kolla's .zuul.d) asks for labels that many
launchers serve, only some of which the user has at hand.  The tenant's
full label list comes from zuul-web (``/api/tenant/<t>/labels``: labels
of registered Nodepool launchers and the tenant's zuul-launcher label
stanzas) or from a plain file, one label name a line.
"""

import dataclasses
import urllib.parse

from nodepool_aarch64.errors import InputError
from nodepool_aarch64.formats import yamlutil
from nodepool_aarch64.formats import zuulweb

# A tenant's label list is a few hundred names; anything far larger is
# not a label list.
MAX_ANSWER_BYTES = 4 * 1024 * 1024


@dataclasses.dataclass(frozen=True)
class TenantLabels:
    source: str          # where the names came from, for messages
    labels: frozenset


@dataclasses.dataclass(frozen=True)
class TenantNodesets:
    source: str          # where the names came from, for messages
    nodesets: frozenset


def _names(path, what):
    """Names from a file: one a line, '#' starts a comment."""
    # Editors on Windows start UTF-8 files with a byte order mark; it is
    # not part of the first name.
    text = yamlutil.read_text(path).lstrip('\ufeff')
    names = set()
    for number, raw in enumerate(text.splitlines(), 1):
        name = raw.split('#', 1)[0].strip()
        if not name:
            continue
        if len(name.split()) != 1:
            raise InputError(path, number, '',
                             f'expected one {what} name a line')
        names.add(name)
    if not names:
        raise InputError(path, None, '', f'no {what} names in the file')
    return frozenset(names)


def from_file(path):
    """Label names from a file: one a line, '#' starts a comment."""
    return TenantLabels(f'labels file {path}', _names(path, 'label'))


def nodesets_from_file(path):
    """Nodeset names the tenant defines elsewhere, from a file like the
    labels file.  zuul-web 14.3 lists no nodesets, so there is no
    --zuul-url counterpart."""
    return TenantNodesets(f'nodesets file {path}', _names(path, 'nodeset'))


def from_zuul(base, tenant, client=None):
    """The labels zuul-web lists for ``tenant``; InputError on failure."""
    client = client or zuulweb.Client(base)
    path = '/tenant/%s/labels' % urllib.parse.quote(tenant, safe='')
    try:
        data, where = client.get_json(path, max_bytes=MAX_ANSWER_BYTES)
    except zuulweb.HTTPStatusError as e:
        if e.status == 404:
            raise InputError(e.path, None, '', f'zuul-web knows no tenant '
                             f'{tenant!r} (HTTP 404)')
        if e.status in (401, 403):
            raise InputError(e.path, None, '', f'zuul-web answered HTTP '
                             f'{e.status}: the tenant needs a login; use '
                             '--labels-file instead')
        raise
    return TenantLabels(f'tenant {tenant} at {client.site.shown}',
                        _parse(where, data))


def _parse(where, data):
    if not isinstance(data, list) or not all(
            isinstance(x, dict) and isinstance(x.get('name'), str)
            for x in data):
        raise InputError(where, None, '', 'zuul-web answered JSON that is '
                         'not a label list ([{"name": ...}, ...])')
    return frozenset(x['name'] for x in data)
