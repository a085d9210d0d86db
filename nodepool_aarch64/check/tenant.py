"""What the rest of a Zuul tenant serves: label names from outside the set.

A consumer repository (Kolla's .zuul.d) asks for labels that many
launchers serve, only some of which the user has at hand.  The tenant's
full label list comes from zuul-web (``/api/tenant/<t>/labels``: labels
of registered Nodepool launchers and the tenant's zuul-launcher label
stanzas) or from a plain file, one label name a line.
"""

import dataclasses
import json
import time
import urllib.parse

from nodepool_aarch64 import yamlutil
from nodepool_aarch64.errors import InputError

# zuul-web answers the labels call from memory; a server that has not
# answered in this long will not, and a check must not hang on it.
CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 15.0
# The whole answer, however slowly it trickles in.
TOTAL_TIMEOUT = 30.0
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


def shown_url(url):
    """The URL without user or password: safe to print."""
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ''
    if ':' in host:
        host = f'[{host}]'  # an IPv6 address
    if parts.port:
        host += f':{parts.port}'
    return urllib.parse.urlunsplit(
        (parts.scheme, host, parts.path, '', ''))


def labels_url(base, tenant):
    """zuul-web's labels URL for a tenant, from the site's address with
    or without its ``/api`` suffix."""
    parts = urllib.parse.urlsplit(base)
    if parts.scheme not in ('http', 'https') or not parts.hostname:
        raise InputError(shown_url(base) or base, None, '--zuul-url',
                         'expected an http:// or https:// URL of zuul-web')
    path = parts.path.rstrip('/')
    if not path.endswith('/api'):
        path += '/api'
    path += '/tenant/%s/labels' % urllib.parse.quote(tenant, safe='')
    return urllib.parse.urlunsplit(
        (parts.scheme, parts.netloc, path, '', ''))


def from_zuul(base, tenant, session=None):
    """The labels zuul-web lists for ``tenant``; InputError on failure."""
    import requests

    url = labels_url(base, tenant)
    where = shown_url(url)
    session = session or requests.Session()
    try:
        response = session.get(
            url, timeout=(CONNECT_TIMEOUT, READ_TIMEOUT), stream=True,
            headers={'Accept': 'application/json'})
        with response:
            _status(response, where, tenant)
            body = _read(response, where)
    except requests.exceptions.Timeout:
        raise InputError(where, None, '', f'zuul-web did not answer within '
                         f'{CONNECT_TIMEOUT:g} s (connect) / '
                         f'{READ_TIMEOUT:g} s (read)')
    except requests.exceptions.RequestException as e:
        # The exception's text repeats the URL, credentials included.
        raise InputError(where, None, '', f'cannot reach zuul-web: '
                         f'{type(e).__name__}')
    return TenantLabels(f'tenant {tenant} at {shown_url(base)}',
                        _parse(where, body))


def _status(response, where, tenant):
    if response.status_code == 404:
        raise InputError(where, None, '', f'zuul-web knows no tenant '
                         f'{tenant!r} (HTTP 404)')
    if response.status_code in (401, 403):
        raise InputError(where, None, '', f'zuul-web answered HTTP '
                         f'{response.status_code}: the tenant needs a '
                         f'login; use --labels-file instead')
    if response.status_code != 200:
        raise InputError(where, None, '', f'zuul-web answered HTTP '
                         f'{response.status_code}')


def _read(response, where):
    deadline = time.monotonic() + TOTAL_TIMEOUT
    body = b''
    for chunk in response.iter_content(65536):
        body += chunk
        if len(body) > MAX_ANSWER_BYTES:
            raise InputError(where, None, '', 'answer too large for a '
                             'label list')
        if time.monotonic() > deadline:
            raise InputError(where, None, '', f'zuul-web took more than '
                             f'{TOTAL_TIMEOUT:g} s to answer')
    return body


def _parse(where, body):
    try:
        data = json.loads(body.decode('utf-8'))
    except (UnicodeDecodeError, ValueError):
        raise InputError(where, None, '', 'zuul-web answered something '
                         'that is not JSON')
    if not isinstance(data, list) or not all(
            isinstance(x, dict) and isinstance(x.get('name'), str)
            for x in data):
        raise InputError(where, None, '', 'zuul-web answered JSON that is '
                         'not a label list ([{"name": ...}, ...])')
    return frozenset(x['name'] for x in data)
