"""zuul-web's REST API: the one client every command asks it through.

A user names zuul-web the way it appears in a browser: the site root
(``https://zuul.example``), the API root (``.../api``), with or without a
scheme, sometimes with a user and password or a ``?token=`` for the proxy
in front of it.  Whatever the form, nothing but scheme, host, port and
path is ever shown: messages end up in cron mail and CI logs.

A run has one deadline for everything it asks, and every socket
operation waits at most until then: a server that sends one byte a
second, or "100 Continue" forever, ends in one line at the deadline
rather than per read.  The body is bounded in bytes, compressed answers
are not asked for, and redirects are followed a few times at most.
"""

import base64
import contextlib
import http.client
import io
import json
import math
import socket
import ssl
import threading
import time
import urllib.parse

from nodepool_aarch64.errors import InputError

# zuul-web answers from memory or one SQL query; a connection or a read
# that takes longer than this is not going to finish.
CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 15.0
# All the requests of one run, however slowly each answer trickles in.
TOTAL_TIMEOUT = 30.0
# A page of 500 builds is about 1 MB of JSON.
MAX_BODY_BYTES = 8 * 1024 * 1024
# Apache in front of zuul-web redirects http to https and / to /zuul/;
# more hops than this is a loop.
MAX_REDIRECTS = 5
REDIRECTS = (301, 302, 303, 307, 308)


class HTTPStatusError(InputError):
    """zuul-web answered with a status other than 200."""

    def __init__(self, where, status):
        super().__init__(where, None, '', f'zuul-web answered HTTP {status}')
        self.status = status


class _Late(Exception):
    """The run's deadline passed."""


class Deadline:
    """The one moment by which everything a run asks must be answered."""

    def __init__(self, seconds):
        if not (isinstance(seconds, (int, float)) and math.isfinite(seconds)
                and seconds > 0):
            raise ValueError('a deadline is a finite number of seconds')
        self.seconds = seconds
        self.end = time.monotonic() + seconds

    def timeout(self, limit):
        """Seconds one socket operation may wait: at most ``limit``,
        never past the deadline."""
        left = self.end - time.monotonic()
        if left <= 0:
            raise _Late()
        return min(limit, left)


def _printable(text):
    return ''.join(c if c.isprintable() and c != ' ' else '%%%02X' % ord(c)
                   if ord(c) < 256 else '?' for c in text)


def _host_port(parts):
    """(host, port) of a split URL; port None when not given."""
    host = parts.hostname or ''
    try:
        port = parts.port
    except ValueError:
        port = -1
    return host, port


def shown(url):
    """``url`` with no user, password, query or fragment: safe to print."""
    parts = urllib.parse.urlsplit(_with_scheme(str(url)))
    host, port = _host_port(parts)
    if ':' in host:
        host = f'[{host}]'  # an IPv6 address
    if port is not None and port >= 0:
        host += f':{port}'
    return _printable(urllib.parse.urlunsplit(
        (parts.scheme, host, parts.path, '', '')))


def _with_scheme(url):
    # "zuul.example/api" and "admin:pw@zuul.example" have no scheme;
    # urlsplit would read "admin" as one.
    return url if '://' in url else 'https://' + url


class Site:
    """Where zuul-web's API is, split from what a user wrote."""

    def __init__(self, url):
        url = _with_scheme(str(url).strip())
        self.shown = shown(url)
        parts = urllib.parse.urlsplit(url)
        host, port = _host_port(parts)
        if parts.scheme not in ('http', 'https') or not host or port == -1:
            raise InputError(self.shown or '--zuul-url', None, '--zuul-url',
                             'expected the URL of zuul-web: '
                             '[http[s]://]HOST[:PORT][/PATH]')
        self.scheme = parts.scheme
        self.host = host
        self.port = port or (443 if self.scheme == 'https' else 80)
        path = parts.path.rstrip('/')
        self.api = path if path.endswith('/api') else path + '/api'
        # A proxy may want its token on every request; it is sent, and
        # never shown.
        self.query = urllib.parse.parse_qsl(parts.query,
                                            keep_blank_values=True)
        self.auth = None
        if parts.username is not None:
            pair = (f'{urllib.parse.unquote(parts.username)}:'
                    f'{urllib.parse.unquote(parts.password or "")}')
            self.auth = 'Basic ' + base64.b64encode(
                pair.encode('utf-8')).decode('ascii')

    @property
    def api_shown(self):
        """The API root as it may be printed."""
        return shown(f'{self.scheme}://{self._netloc()}{self.api}')

    def _netloc(self):
        host = f'[{self.host}]' if ':' in self.host else self.host
        return f'{host}:{self.port}'


class Client:
    """GETs against one zuul-web, all within one deadline."""

    def __init__(self, url, total=None, read_timeout=None,
                 connect_timeout=None):
        self.site = Site(url)
        self.deadline = Deadline(total or TOTAL_TIMEOUT)
        self.read_timeout = read_timeout or READ_TIMEOUT
        self.connect_timeout = connect_timeout or CONNECT_TIMEOUT

    def get_json(self, path, params=(), max_bytes=MAX_BODY_BYTES):
        """The JSON value zuul-web answers for ``path`` under its API
        root; InputError naming the credential-free URL otherwise."""
        body, where = self.get(path, params, max_bytes)
        try:
            return json.loads(body.decode('utf-8')), where
        except (UnicodeDecodeError, ValueError, RecursionError):
            raise InputError(where, None, '', 'zuul-web answered something '
                             'that is not JSON')

    def get(self, path, params=(), max_bytes=MAX_BODY_BYTES):
        """(body bytes, where) of a 200 answer for ``path``."""
        site = self.site
        ours = list(params.items() if isinstance(params, dict) else params)
        target = site.api + path
        where = shown(f'{site.scheme}://{site._netloc()}{target}') + (
            '?' + urllib.parse.urlencode(ours) if ours else '')
        where = _printable(where)
        url = (site.scheme, site.host, site.port,
               target + '?' + urllib.parse.urlencode(site.query + ours))
        try:
            return self._follow(url, where, max_bytes), where
        except _Late:
            raise InputError(where, None, '', 'zuul-web did not answer in '
                             f'full within {self.deadline.seconds:g} s')
        except (TimeoutError, socket.timeout):
            raise InputError(where, None, '', 'zuul-web sent nothing for '
                             f'{self.read_timeout:g} s')
        except ssl.SSLError as e:
            raise InputError(where, None, '', 'TLS failed '
                             f'({type(e).__name__})')
        except (OSError, http.client.HTTPException) as e:
            # The exception's text may repeat the URL: only its kind.
            raise InputError(where, None, '', 'cannot read zuul-web\'s '
                             f'answer ({type(e).__name__})')

    def _follow(self, url, where, max_bytes):
        for _ in range(MAX_REDIRECTS + 1):
            scheme, host, port, target = url
            auth = self.site.auth if (host, port) == (
                self.site.host, self.site.port) else None
            status, location, body = self._once(
                scheme, host, port, target, auth, where, max_bytes)
            if status == 200:
                return body
            if status not in REDIRECTS or not location:
                raise HTTPStatusError(where, status)
            url = self._redirect(url, location, where)
        raise InputError(where, None, '', f'more than {MAX_REDIRECTS} '
                         'redirects')

    def _redirect(self, url, location, where):
        scheme, host, port, target = url
        netloc = f'[{host}]:{port}' if ':' in host else f'{host}:{port}'
        new = urllib.parse.urlsplit(urllib.parse.urljoin(
            f'{scheme}://{netloc}{target}', location))
        new_host, new_port = _host_port(new)
        if new.scheme not in ('http', 'https') or not new_host \
                or new_port == -1:
            raise InputError(where, None, '', 'zuul-web redirected to '
                             'something that is not an http(s) URL')
        return (new.scheme, new_host,
                new_port or (443 if new.scheme == 'https' else 80),
                (new.path or '/') + ('?' + new.query if new.query else ''))

    def _once(self, scheme, host, port, target, auth, where, max_bytes):
        conn = _Connection(scheme, host, port, self)
        try:
            conn.putrequest('GET', target)
            conn.putheader('Accept', 'application/json')
            if auth:
                conn.putheader('Authorization', auth)
            conn.endheaders()
            response = conn.getresponse()
            if response.status != 200:
                return response.status, response.getheader('Location'), b''
            encoding = response.getheader('Content-Encoding', 'identity')
            if encoding.strip().lower() != 'identity':
                raise InputError(where, None, '', 'zuul-web sent a '
                                 'compressed answer it was not asked for')
            return 200, None, _read(response, where, max_bytes)
        finally:
            conn.finish()


def _read(response, where, max_bytes):
    too_large = InputError(where, None, '', 'answer larger than '
                           f'{max_bytes} bytes')
    if (response.length or 0) > max_bytes:
        raise too_large
    body = bytearray()
    while True:
        chunk = response.read(min(1 << 16, max_bytes + 1 - len(body)))
        if not chunk:
            return bytes(body)
        body += chunk
        if len(body) > max_bytes:
            raise too_large


class _Connection(http.client.HTTPConnection):
    """http.client's request and answer parsing over a socket that
    never waits past the client's deadline."""

    def __init__(self, scheme, host, port, client):
        super().__init__(host, port)
        self.scheme = scheme
        self.client = client
        self.real_sock = None
        self.default_port = 443 if scheme == 'https' else 80

    def connect(self):
        client = self.client
        deadline = client.deadline
        addresses = _resolve(self.host, self.port, deadline,
                             client.connect_timeout)
        error = OSError('no address')
        for family, kind, proto, _, address in addresses:
            sock = socket.socket(family, kind, proto)
            try:
                sock.settimeout(deadline.timeout(client.connect_timeout))
                sock.connect(address)
                break
            except OSError as e:
                sock.close()
                deadline.timeout(client.connect_timeout)
                error = e
            except _Late:
                sock.close()
                raise
        else:
            raise error
        if self.scheme == 'https':
            try:
                sock.settimeout(deadline.timeout(client.connect_timeout))
                sock = ssl.create_default_context().wrap_socket(
                    sock, server_hostname=self.host)
            except BaseException:
                sock.close()
                deadline.timeout(client.connect_timeout)
                raise
        self.real_sock = sock
        self.sock = _DeadlineSocket(sock, deadline, client.read_timeout)

    def finish(self):
        # http.client "closes" its socket as soon as an answer says
        # "Connection: close", and keeps reading the body through the
        # file it made; the real socket goes when the request is done.
        self.close()
        if self.real_sock is not None:
            self.real_sock.close()
            self.real_sock = None


def _resolve(host, port, deadline, connect_timeout):
    """getaddrinfo() has no timeout of its own: wait for it in a thread
    no longer than the deadline allows."""
    answer = []

    def ask():
        try:
            answer.append(socket.getaddrinfo(host, port,
                                             type=socket.SOCK_STREAM))
        except OSError as e:
            answer.append(e)

    worker = threading.Thread(target=ask, daemon=True)
    worker.start()
    worker.join(deadline.timeout(connect_timeout))
    if not answer:
        raise _Late() if deadline.end <= time.monotonic() else \
            TimeoutError('name lookup')
    if isinstance(answer[0], OSError):
        raise answer[0]
    return answer[0]


class _DeadlineSocket:
    """The part of a socket http.client uses, each call bounded."""

    def __init__(self, sock, deadline, read_timeout):
        self.sock = sock
        self.deadline = deadline
        self.read_timeout = read_timeout

    def sendall(self, data):
        with self._bounded():
            self.sock.sendall(data)

    def recv_into(self, buffer):
        with self._bounded():
            return self.sock.recv_into(buffer)

    @contextlib.contextmanager
    def _bounded(self):
        self.sock.settimeout(self.deadline.timeout(self.read_timeout))
        try:
            yield
        except TimeoutError:
            # The wait was cut short by the deadline, not by silence.
            self.deadline.timeout(self.read_timeout)
            raise

    def makefile(self, mode='rb', *args, **kwargs):
        return io.BufferedReader(_Reader(self))

    def close(self):
        pass  # _Connection.close() closes the real socket


class _Reader(io.RawIOBase):
    def __init__(self, sock):
        self.sock = sock

    def readable(self):
        return True

    def readinto(self, buffer):
        return self.sock.recv_into(buffer)
