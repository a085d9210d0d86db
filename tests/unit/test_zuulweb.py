"""The one zuul-web client: URL forms, no credentials shown, bounded
bytes and one deadline, against servers on 127.0.0.1 that misbehave on
purpose.  A real zuul-web answers in the functional suite."""

import time

import hypothesis
from hypothesis import strategies as st

from nodepool_aarch64.errors import InputError
from nodepool_aarch64.formats import zuulweb
from tests import base
from tests import localhttp

SECRETS = ('S3CRET', 'tok3n', 'admin')
LABELS = [{'name': 'ubuntu-jammy-arm64'}]


class ServerCase(base.TestCase):

    def serve(self, script):
        server = localhttp.Server(script)
        self.addCleanup(server.close)
        return server

    def assertClean(self, error):
        text = str(error)
        self.assertEqual(1, len(text.splitlines()), text)
        for secret in SECRETS:
            self.assertNotIn(secret, text)


class TestURLForms(ServerCase):

    def test_site_root_api_root_and_no_scheme_reach_the_same_api(self):
        server = self.serve(lambda r: localhttp.answer(body=LABELS))
        host = f'127.0.0.1:{server.port}'
        for url in (f'http://{host}', f'http://{host}/',
                    f'http://{host}/api', f'http://{host}/api/'):
            data, _ = zuulweb.Client(url).get_json('/tenant/t/labels')
            self.assertEqual(LABELS, data)
        self.assertEqual({'/api/tenant/t/labels'},
                         {r.path for r in server.requests})

    def test_no_scheme_means_https(self):
        site = zuulweb.Site('admin:S3CRET@zuul.example/zuul')
        self.assertEqual(('https', 'zuul.example', 443, '/zuul/api'),
                         (site.scheme, site.host, site.port, site.api))
        self.assertEqual('https://zuul.example/zuul', site.shown)

    def test_shown_drops_user_password_query_and_fragment(self):
        self.assertEqual(
            'http://[::1]:9000/api',
            zuulweb.shown('http://admin:S3CRET@[::1]:9000/api?token=tok3n'
                          '#x'))

    def test_credentials_are_sent_but_never_shown(self):
        server = self.serve(lambda r: localhttp.answer(status=500))
        url = f'http://admin:S3CRET@127.0.0.1:{server.port}/api?token=tok3n'
        error = self.assertRaises(InputError, zuulweb.Client(url).get_json,
                                  '/tenant/t/labels')
        self.assertClean(error)
        self.assertIn('HTTP 500', str(error))
        request = server.requests[0]
        self.assertEqual(['tok3n'], request.query['token'])
        self.assertTrue(request.headers['authorization'].startswith('Basic '))

    def test_not_a_url(self):
        for url in ('ftp://admin:S3CRET@zuul.example', 'http://', '',
                    'http://admin:S3CRET@zuul.example:99999999'):
            error = self.assertRaises(InputError, zuulweb.Site, url)
            self.assertClean(error)
            self.assertIn('expected the URL of zuul-web', str(error))

    def test_refused_connection(self):
        server = self.serve(lambda r: b'')
        server.close()
        error = self.assertRaises(
            InputError, zuulweb.Client(
                f'http://admin:S3CRET@127.0.0.1:{server.port}').get,
            '/tenant/t/labels')
        self.assertClean(error)
        self.assertIn('ConnectionRefusedError', str(error))


class TestBounds(ServerCase):

    def assertEndsBy(self, seconds, url, **kwargs):
        client = zuulweb.Client(url, **kwargs)
        started = time.monotonic()
        error = self.assertRaises(InputError, client.get, '/x')
        self.assertLess(time.monotonic() - started, seconds + 3.0)
        self.assertClean(error)
        return error

    def test_a_drip_ends_at_the_deadline(self):
        head = (b'HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n')
        server = self.serve(lambda r: localhttp.drip(head))
        error = self.assertEndsBy(1.0, server.url, total=1.0)
        self.assertIn('did not answer in full within 1 s', str(error))

    def test_endless_continue_ends_at_the_deadline(self):
        server = self.serve(lambda r: localhttp.endless_continue())
        error = self.assertEndsBy(1.0, server.url, total=1.0)
        self.assertIn('within 1 s', str(error))

    def test_a_dripped_status_line_ends_at_the_deadline(self):
        server = self.serve(lambda r: localhttp.drip(b'HTTP/1.1 2', b'0'))
        self.assertEndsBy(1.0, server.url, total=1.0)

    def test_silence_ends_at_the_read_timeout(self):
        server = self.serve(lambda r: [30.0])
        error = self.assertEndsBy(0.5, server.url, total=5.0,
                                  read_timeout=0.5)
        self.assertIn('sent nothing for 0.5 s', str(error))

    def test_one_deadline_for_every_request(self):
        server = self.serve(lambda r: localhttp.answer(body=[]))
        client = zuulweb.Client(server.url, total=1.0)
        self.assertEqual(b'[]', client.get('/a')[0])
        time.sleep(1.0)
        # A server that answers at once, asked after the run's deadline.
        error = self.assertRaises(InputError, client.get, '/b')
        self.assertIn('did not answer in full within 1 s', str(error))

    def test_huge_bodies(self):
        size = 1000
        told = self.serve(lambda r: localhttp.answer(body=b'x' * size))
        error = self.assertRaises(InputError, zuulweb.Client(told.url).get,
                                  '/x', max_bytes=size - 1)
        self.assertIn(f'answer larger than {size - 1} bytes', str(error))
        # Without a length: stopped once over the bound, not at the end.
        untold = self.serve(lambda r: localhttp.drip(
            b'HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n',
            b'x' * 65536, every=0))
        error = self.assertEndsBy(5.0, untold.url)
        self.assertIn('answer larger than', str(error))
        self.assertEqual(b'x' * size, zuulweb.Client(told.url).get(
            '/x', max_bytes=size)[0])

    def test_redirect_loop(self):
        server = self.serve(lambda r: localhttp.answer(
            status=302, headers=[('Location', r.path + 'x')]))
        error = self.assertRaises(
            InputError, zuulweb.Client(server.url + '/?token=tok3n').get,
            '/x')
        self.assertIn(f'more than {zuulweb.MAX_REDIRECTS} redirects',
                      str(error))
        self.assertClean(error)
        self.assertEqual(zuulweb.MAX_REDIRECTS + 1, len(server.requests))

    def test_a_redirect_is_followed(self):
        def script(request):
            if request.path.startswith('/zuul/'):
                return localhttp.answer(body=LABELS)
            return localhttp.answer(status=301, headers=[
                ('Location', '/zuul' + request.path)])
        server = self.serve(script)
        data, _ = zuulweb.Client(server.url).get_json('/tenant/t/labels')
        self.assertEqual(LABELS, data)

    def test_compressed_answers_are_refused(self):
        server = self.serve(lambda r: localhttp.answer(
            body=b'\x1f\x8b', headers=[('Content-Encoding', 'gzip')]))
        error = self.assertRaises(InputError, zuulweb.Client(server.url).get,
                                  '/x')
        self.assertIn('compressed', str(error))
        self.assertEqual('identity',
                         server.requests[0].headers['accept-encoding'])


# Each misbehaviour a server on the path to zuul-web may show, with the
# bytes it sends; the contract is the same for all: one line that names
# no secret, within the deadline.
MISBEHAVIOURS = {
    'drip': lambda r, n: localhttp.drip(
        b'HTTP/1.1 200 OK\r\nContent-Length: 99999\r\n\r\n', every=0.01),
    'continue': lambda r, n: localhttp.endless_continue(),
    'redirect-loop': lambda r, n: localhttp.answer(
        status=307, headers=[('Location', f'/loop{n}?token=tok3n')]),
    'huge': lambda r, n: localhttp.drip(
        b'HTTP/1.1 200 OK\r\n\r\n[', b'1,' * 50000, every=0),
    'garbage-status': lambda r, n: b'HTTP/1.1 2x0 S3CRET\r\n\r\n',
    'cut-short': lambda r, n: b'HTTP/1.1 200 OK\r\nContent-Length: 9\r\n'
                              b'\r\n[',
    'silence': lambda r, n: [10.0],
    'chunked-drip': lambda r, n: localhttp.drip(
        b'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n'
        b'FFFFFF\r\n', every=0.01),
    'error': lambda r, n: localhttp.answer(status=500 + n % 5,
                                           body=b'S3CRET'),
}


class TestContract(ServerCase):

    @hypothesis.settings(max_examples=25, deadline=None,
                         suppress_health_check=list(hypothesis.HealthCheck))
    @hypothesis.given(kind=st.sampled_from(sorted(MISBEHAVIOURS)),
                      n=st.integers(0, 1000),
                      total=st.sampled_from([0.3, 0.6]),
                      form=st.sampled_from([
                          'http://admin:S3CRET@{}/api?token=tok3n',
                          'admin:S3CRET@{}', 'http://{}/?token=tok3n']))
    def test_one_line_no_secret_within_the_deadline(self, kind, n, total,
                                                    form):
        server = localhttp.Server(lambda r: MISBEHAVIOURS[kind](r, n))
        try:
            url = form.format(f'127.0.0.1:{server.port}')
            if not url.startswith('http'):
                # No scheme means https; this server speaks plain HTTP.
                url = url.replace('admin:S3CRET@', 'http://admin:S3CRET@')
            client = zuulweb.Client(url, total=total, read_timeout=total)
            started = time.monotonic()
            error = self.assertRaises(InputError, client.get_json,
                                      '/tenant/t/builds',
                                      max_bytes=65536)
            self.assertLess(time.monotonic() - started, total + 3.0)
            self.assertClean(error)
        finally:
            server.close()
