"""Reading builds from zuul-web: paging, and each way a server fails.

A real zuul-web answers in tests/functional/test_readiness_zuul_web.py;
here requests-mock plays one that hangs, errs or talks nonsense.
"""

import datetime
import os
import re

import fixtures
import requests
from requests_mock.contrib import fixture as rm_fixture

from nodepool_aarch64 import zuulbuilds
from nodepool_aarch64.errors import InputError
from nodepool_aarch64.readiness import source
from tests import base
from tests import readinessdata as rd

API = 'https://zuul.example/api'
URL = API + '/tenant/openstack/builds'
UTC = datetime.timezone.utc


def newest_first(builds):
    return sorted(builds, key=lambda b: b['start_time'], reverse=True)


class TestPaging(base.TestCase):

    def setUp(self):
        super().setUp()
        self.mock = self.useFixture(rm_fixture.Fixture(case_sensitive=True))
        self.builds = newest_first(rd.history(
            'tox-py3-arm64', 'tox-py3', ['SUCCESS'] * 30))

    def serve(self, request, context):
        q = request.qs
        skip, limit = int(q['skip'][0]), int(q['limit'][0])
        chosen = [b for b in self.builds
                  if 'job_name' not in q or b['job_name'] == q['job_name'][0]]
        return chosen[skip:skip + limit]

    def test_pages_until_the_window_is_covered(self):
        self.mock.get(URL, json=self.serve)
        # 30 patchsets 5 h apart: the last 2 days hold the newest ~10.
        since = datetime.datetime(2026, 11, 6, 0, 0, tzinfo=UTC)
        got = source.fetch(API, 'openstack', since, page=7)
        skips = [int(r.qs['skip'][0]) for r in self.mock.request_history]
        self.assertEqual([0, 7, 14, 21, 28], skips[:5])
        # It stopped once a whole page was older than the window.
        self.assertLess(len(skips), len(self.builds) // 7 + 1)
        self.assertEqual(len({b.uuid for b in got}), len(got))
        self.assertTrue(any(b.start < since for b in got))

    def test_filters_by_project_and_job(self):
        self.mock.get(URL, json=self.serve)
        since = datetime.datetime(2026, 1, 1, tzinfo=UTC)
        got = source.fetch(API, 'openstack', since,
                           projects=['openstack/kolla'],
                           jobs=['tox-py3-arm64', 'tox-py3'], page=100)
        queries = [(r.qs['project'][0], r.qs['job_name'][0])
                   for r in self.mock.request_history]
        self.assertEqual([('openstack/kolla', 'tox-py3-arm64'),
                          ('openstack/kolla', 'tox-py3')], queries)
        self.assertEqual(len(self.builds), len(got))

    def test_a_server_that_never_stops_paging(self):
        self.mock.get(URL, json=lambda r, c: self.builds[:5])
        e = self.assertRaises(
            InputError, source.fetch, API, 'openstack',
            datetime.datetime(2000, 1, 1, tzinfo=UTC), page=5, max_pages=3)
        self.assertIn('still paging after 3 pages', str(e))


class TestFailures(base.TestCase):
    """Through the command: one line, exit 2, nothing written."""

    def setUp(self):
        super().setUp()
        self.mock = self.useFixture(rm_fixture.Fixture(case_sensitive=True))
        self.plots = os.path.join(self.tempdir(), 'plots')

    def fails(self, **response):
        self.mock.get(re.compile(re.escape(URL)), **response)
        code, out, err = self.run_cli(
            'readiness', '--zuul-url', API, '--tenant', 'openstack',
            '--http-timeout', '2', '--plot', self.plots)
        self.assertEqual(2, code, err)
        self.assertEqual('', out)
        self.assertEqual(1, len(err.splitlines()), err)
        self.assertNotIn('Traceback', err)
        self.assertFalse(os.path.exists(self.plots))
        return err

    def test_timeout(self):
        err = self.fails(exc=requests.exceptions.ReadTimeout)
        self.assertIn('no answer within 2 s', err)
        self.assertIn(URL, err)

    def test_refused(self):
        err = self.fails(exc=requests.exceptions.ConnectionError)
        self.assertIn('cannot connect (ConnectionError)', err)

    def test_server_error(self):
        err = self.fails(status_code=500, reason='Internal Server Error')
        self.assertIn('HTTP 500 Internal Server Error', err)

    def test_not_found(self):
        err = self.fails(status_code=404, reason='Not Found')
        self.assertIn('HTTP 404', err)

    def test_garbage(self):
        err = self.fails(text='<html>proxy error</html>')
        self.assertIn('invalid JSON', err)

    def test_wrong_shape(self):
        err = self.fails(json={'builds': []})
        self.assertIn('expected a JSON list of builds', err)

    def test_not_utf8(self):
        err = self.fails(content=b'[{"job_name": "\xff"}]')
        self.assertIn('not UTF-8', err)

    def test_answer_too_large(self):
        self.useFixture(fixtures.MockPatchObject(
            zuulbuilds, 'MAX_BYTES', 10))
        err = self.fails(json=[rd.build('x')])
        self.assertIn('answer too large', err)

    def test_missing_tenant(self):
        code, _, err = self.run_cli('readiness', '--zuul-url', API)
        self.assertEqual(2, code)
        self.assertIn('--tenant', err)


class SlowServer:
    """A server on 127.0.0.1 that answers too slowly, for a bounded time.

    ``trickle`` sends a 200 with a long body one byte at a time; without
    it the server accepts the request and says nothing.
    """

    def __init__(self, trickle, seconds=3.0):
        import socket
        import threading
        self.sock = socket.socket()
        self.sock.bind(('127.0.0.1', 0))
        self.sock.listen(4)
        self.sock.settimeout(seconds)
        self.port = self.sock.getsockname()[1]
        self.trickle = trickle
        self.seconds = seconds
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        import time
        try:
            conn, _ = self.sock.accept()
        except OSError:
            return
        with conn:
            conn.recv(65536)
            deadline = time.monotonic() + self.seconds
            if self.trickle:
                conn.sendall(b'HTTP/1.1 200 OK\r\nContent-Type: '
                             b'application/json\r\nContent-Length: '
                             b'100000\r\n\r\n[')
            while time.monotonic() < deadline:
                try:
                    if self.trickle:
                        conn.sendall(b' ')
                except OSError:
                    return
                time.sleep(0.1)

    def close(self):
        self.sock.close()
        self.thread.join(self.seconds + 1)


class TestHangingServer(base.TestCase):

    def run_against(self, trickle):
        server = SlowServer(trickle)
        self.addCleanup(server.close)
        code, out, err = self.run_cli(
            'readiness', '--zuul-url', f'http://127.0.0.1:{server.port}/api',
            '--tenant', 'openstack', '--http-timeout', '1')
        self.assertEqual(2, code, err)
        self.assertEqual(1, len(err.splitlines()), err)
        return err

    def test_silent(self):
        self.assertIn('no answer within 1 s', self.run_against(False))

    def test_trickling(self):
        # Every read gets a byte in time; the page as a whole does not.
        self.assertIn('answer not complete within 1 s',
                      self.run_against(True))
