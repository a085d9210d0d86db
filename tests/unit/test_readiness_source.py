"""Reading builds from zuul-web: paging, and each way a server fails.

A real zuul-web answers in tests/functional/test_readiness_zuul_web.py;
here a server on 127.0.0.1 plays one that hangs, errs or talks nonsense.
"""

import datetime
import os
import time

import fixtures

from nodepool_aarch64.errors import InputError
from nodepool_aarch64.formats import zuulbuilds
from nodepool_aarch64.readiness import source
from tests import base
from tests import localhttp
from tests import readinessdata as rd

PATH = '/api/tenant/openstack/builds'
UTC = datetime.timezone.utc


def newest_first(builds):
    return sorted(builds, key=lambda b: b['start_time'], reverse=True)


class ServerCase(base.TestCase):

    def setUp(self):
        super().setUp()
        self.answer = None
        self.server = localhttp.Server(self.script)
        self.addCleanup(self.server.close)
        self.api = self.server.url + '/api'

    def script(self, request):
        if request.path != PATH:
            return localhttp.answer(status=404)
        return self.answer(request)


class TestPaging(ServerCase):

    def setUp(self):
        super().setUp()
        self.builds = newest_first(rd.history(
            'tox-py3-arm64', 'tox-py3', ['SUCCESS'] * 30))

    def serve(self, request):
        q = request.query
        skip, limit = int(q['skip'][0]), int(q['limit'][0])
        chosen = [b for b in self.builds
                  if 'job_name' not in q or b['job_name'] == q['job_name'][0]]
        return localhttp.answer(body=chosen[skip:skip + limit])

    def test_pages_until_the_window_is_covered(self):
        self.answer = self.serve
        # 30 patchsets 5 h apart: the last 2 days hold the newest ~10.
        since = datetime.datetime(2026, 11, 6, 0, 0, tzinfo=UTC)
        got = source.fetch(self.api, 'openstack', since, page=7)
        skips = [int(r.query['skip'][0]) for r in self.server.requests]
        self.assertEqual([0, 7, 14, 21, 28], skips[:5])
        # It stopped once a whole page was older than the window.
        self.assertLess(len(skips), len(self.builds) // 7 + 1)
        self.assertEqual(len({b.uuid for b in got}), len(got))
        self.assertTrue(any(b.start < since for b in got))

    def test_filters_by_project_and_job(self):
        self.answer = self.serve
        since = datetime.datetime(2026, 1, 1, tzinfo=UTC)
        got = source.fetch(self.api, 'openstack', since,
                           projects=['openstack/kolla'],
                           jobs=['tox-py3-arm64', 'tox-py3'], page=100)
        queries = [(r.query['project'][0], r.query['job_name'][0])
                   for r in self.server.requests]
        self.assertEqual([('openstack/kolla', 'tox-py3-arm64'),
                          ('openstack/kolla', 'tox-py3')], queries)
        self.assertEqual(len(self.builds), len(got))

    def test_a_server_that_never_stops_paging(self):
        self.answer = lambda r: localhttp.answer(body=self.builds[:5])
        e = self.assertRaises(
            InputError, source.fetch, self.api, 'openstack',
            datetime.datetime(2000, 1, 1, tzinfo=UTC), page=5, max_pages=3)
        self.assertIn('still paging after 3 pages', str(e))


class TestFailures(ServerCase):
    """Through the command: one line, exit 2, nothing written."""

    def setUp(self):
        super().setUp()
        self.plots = os.path.join(self.tempdir(), 'plots')

    def fails(self, answer, *options):
        self.answer = lambda r: answer
        code, out, err = self.run_cli(
            'readiness', '--zuul-url', self.api, '--tenant', 'openstack',
            '--http-timeout', '2', '--plot', self.plots, *options)
        self.assertEqual(2, code, err)
        self.assertEqual('', out)
        self.assertEqual(1, len(err.splitlines()), err)
        self.assertNotIn('Traceback', err)
        self.assertFalse(os.path.exists(self.plots))
        return err

    def test_silence_ends_at_the_deadline(self):
        err = self.fails([10.0])
        self.assertIn('did not answer in full within 2 s', err)
        self.assertIn(self.api + '/tenant/openstack/builds?', err)

    def test_refused(self):
        self.server.close()
        err = self.fails(b'')
        self.assertIn('(ConnectionRefusedError)', err)

    def test_server_error(self):
        err = self.fails(localhttp.answer(status=500))
        self.assertIn('zuul-web answered HTTP 500', err)

    def test_not_found(self):
        err = self.fails(localhttp.answer(status=404))
        self.assertIn('HTTP 404', err)

    def test_garbage(self):
        err = self.fails(localhttp.answer(body=b'<html>proxy error</html>'))
        self.assertIn('invalid JSON', err)

    def test_wrong_shape(self):
        err = self.fails(localhttp.answer(body={'builds': []}))
        self.assertIn('expected a JSON list of builds', err)

    def test_not_utf8(self):
        err = self.fails(localhttp.answer(body=b'[{"job_name": "\xff"}]'))
        self.assertIn('not UTF-8', err)

    def test_answer_too_large(self):
        self.useFixture(fixtures.MockPatchObject(
            zuulbuilds, 'MAX_BYTES', 10))
        err = self.fails(localhttp.answer(body=[rd.build('x')]))
        self.assertIn('answer larger than 10 bytes', err)

    def test_missing_tenant(self):
        code, _, err = self.run_cli('readiness', '--zuul-url', self.api)
        self.assertEqual(2, code)
        self.assertIn('--tenant', err)

    def test_credentials_are_never_shown(self):
        # As the issue reproduced it: a user, a password and a token.
        for url in ('http://admin:S3CRET@127.0.0.1:1/api',
                    self.api.replace('//', '//admin:S3CRET@') +
                    '?token=S3CRET',
                    'admin:S3CRET@127.0.0.1:1'):
            code, out, err = self.run_cli(
                'readiness', '--zuul-url', url, '--tenant', 't',
                '--http-timeout', '2')
            self.assertEqual(2, code, err)
            self.assertEqual(1, len(err.splitlines()), err)
            self.assertNotIn('S3CRET', err + out)
            self.assertNotIn('admin', err + out)

    def test_http_timeout_must_be_a_finite_positive_number(self):
        for value in ('nan', 'inf', '0', '-1'):
            code, _, err = self.run_cli(
                'readiness', '--zuul-url', self.api, '--tenant', 't',
                '--http-timeout', value)
            self.assertEqual(2, code, err)
            self.assertEqual(1, len(err.splitlines()), err)
            self.assertIn('--http-timeout', err)
            self.assertEqual([], self.server.requests)


class TestMisbehavingServer(ServerCase):
    """The whole fetch has one deadline, however the bytes arrive."""

    def run_against(self, answer):
        self.answer = lambda r: answer
        started = time.monotonic()
        code, out, err = self.run_cli(
            'readiness', '--zuul-url', self.api, '--tenant', 'openstack',
            '--http-timeout', '1')
        self.assertLess(time.monotonic() - started, 4.0)
        self.assertEqual(2, code, err)
        self.assertEqual(1, len(err.splitlines()), err)
        return err

    def test_trickling(self):
        # Every read gets a byte in time; the page as a whole does not.
        self.assertIn('did not answer in full within 1 s', self.run_against(
            localhttp.drip(b'HTTP/1.1 200 OK\r\nContent-Length: 99999'
                           b'\r\n\r\n[')))

    def test_endless_continue(self):
        self.assertIn('did not answer in full within 1 s',
                      self.run_against(localhttp.endless_continue()))

    def test_pages_share_one_deadline(self):
        # Each page in time, but not all of them.
        full = [rd.build(f'job{i}') for i in range(2)]
        self.answer = lambda r: [0.4, localhttp.answer(body=full)]
        started = time.monotonic()
        code, _, err = self.run_cli(
            'readiness', '--zuul-url', self.api, '--tenant', 'openstack',
            '--http-timeout', '1', '--page-size', '2',
            '--since', '2000-01-01T00:00:00Z')
        self.assertLess(time.monotonic() - started, 4.0)
        self.assertEqual(2, code, err)
        self.assertIn('did not answer in full within 1 s', err)
