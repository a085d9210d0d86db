"""A mirror that accepts the connection and never answers.

A mirror host whose web server hangs still completes the TCP handshake,
so the probe's connect succeeds and only the role's probe timeout ends
the wait.  The silent server below records, for each connection, when it
was accepted and when the client gave up; the probe must give up after
``configure_region_mirror_probe_timeout`` (and not after Ansible's own
30 s default), and the role must fall back to the next mirror.
"""

import socket
import threading
import time

import testtools

from tests.functional import test_region_mirror_role as role_tests

PROBE_TIMEOUT = 3
# Ansible's uri module starts its clock after connecting, and the node
# answers from a chroot on a busy machine: allow this much past it.
SLACK = 5


class SilentServer:
    """Accepts TCP connections on 127.0.0.1, reads, never writes."""

    def __init__(self):
        self.held = []      # (seconds the client stayed, bytes it sent)
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.bind(('127.0.0.1', 0))
        self._sock.listen(16)
        self.url = 'http://127.0.0.1:%d' % self._sock.getsockname()[1]
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self):
        while True:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            threading.Thread(target=self._hold, args=(conn,),
                             daemon=True).start()

    def _hold(self, conn):
        accepted = time.monotonic()
        received = 0
        with conn:
            while True:
                try:
                    data = conn.recv(4096)
                except OSError:
                    break
                if not data:
                    break
                received += len(data)
        self.held.append((time.monotonic() - accepted, received))

    def stop(self):
        self._sock.close()


class TestSilentMirror(role_tests.RoleTestCase):

    def test_probe_gives_up_after_its_timeout(self):
        silent = SilentServer()
        self.addCleanup(silent.stop)
        mirrors = [silent.url, self.far.url]
        run = self.apply(
            configure_region_mirror_probe_timeout=PROBE_TIMEOUT,
            configure_region_mirror_providers={'linaro-cn1': {
                'cloud': 'linaro', 'region': 'RegionOne',
                'mirrors': mirrors}})
        self.assertApplied(run)
        self.assertIn('fallback: %s did not answer' % silent.url, run.output)
        self.assertIn(self.far.url, self.read('/etc/pip.conf'))
        self.assertFetches()
        self.assertTrue(self.far.fetched('/debian/pool/'))

        # The probe reached the silent mirror, sent its request, and hung
        # up once its own timeout had passed: no sooner (it waited for an
        # answer), and nowhere near Ansible's 30 s default.
        deadline = time.monotonic() + 10
        while not silent.held and time.monotonic() < deadline:
            time.sleep(0.1)
        self.assertNotEqual([], silent.held, 'the probe never connected')
        self.addDetail('held', testtools.content.text_content(
            repr(silent.held)))
        for seconds, received in silent.held:
            self.assertGreater(received, 0, 'no HTTP request was sent')
            self.assertGreaterEqual(seconds, PROBE_TIMEOUT - 0.5)
            self.assertLess(seconds, PROBE_TIMEOUT + SLACK)
