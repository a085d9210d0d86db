"""An HTTP server on 127.0.0.1 that plays a script, for zuul-web tests.

A script is a function of the request that returns the bytes to send:
``bytes`` for an answer at once, or an iterable of ``bytes`` and numbers
(seconds to wait) for one that trickles, loops or never ends.  Nothing
here is a real HTTP server on purpose: the misbehaviour is the point.
Every connection ends when the server is closed, so a test that gives
up leaves no thread sending.
"""

import json
import socket
import threading
import urllib.parse


class Request:
    def __init__(self, head):
        lines = head.decode('latin-1').split('\r\n')
        self.method, target, _ = lines[0].split(' ', 2)
        parts = urllib.parse.urlsplit(target)
        self.path = parts.path
        self.query = urllib.parse.parse_qs(parts.query,
                                           keep_blank_values=True)
        self.headers = {}
        for line in lines[1:]:
            if ':' in line:
                key, value = line.split(':', 1)
                self.headers[key.strip().lower()] = value.strip()


def answer(status=200, body=b'', headers=(), reason='X'):
    """One whole HTTP/1.1 answer; ``body`` may be a JSON value."""
    if not isinstance(body, bytes):
        body = json.dumps(body).encode()
    head = [f'HTTP/1.1 {status} {reason}', f'Content-Length: {len(body)}',
            'Connection: close', *(f'{k}: {v}' for k, v in headers)]
    return ('\r\n'.join(head) + '\r\n\r\n').encode() + body


class Server:
    """Serve ``script(request)`` on 127.0.0.1 until closed."""

    def __init__(self, script):
        self.script = script
        self.requests = []
        self.closed = threading.Event()
        self.sock = socket.socket()
        self.sock.bind(('127.0.0.1', 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.url = f'http://127.0.0.1:{self.port}'
        self.threads = [threading.Thread(target=self._accept, daemon=True)]
        self.threads[0].start()

    def _accept(self):
        while not self.closed.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            worker = threading.Thread(target=self._serve, args=(conn,),
                                      daemon=True)
            self.threads.append(worker)
            worker.start()

    def _serve(self, conn):
        with conn:
            conn.settimeout(5)
            head = b''
            try:
                while b'\r\n\r\n' not in head and len(head) < 65536:
                    data = conn.recv(65536)
                    if not data:
                        return
                    head += data
            except OSError:
                return
            request = Request(head.split(b'\r\n\r\n', 1)[0])
            self.requests.append(request)
            steps = self.script(request)
            if isinstance(steps, bytes):
                steps = [steps]
            try:
                for step in steps:
                    if self.closed.is_set():
                        return
                    if isinstance(step, bytes):
                        conn.sendall(step)
                    else:
                        self.closed.wait(step)
            except OSError:
                return

    def close(self):
        self.closed.set()
        self.sock.close()
        for thread in self.threads:
            thread.join(5)


def drip(head, byte=b' ', every=0.05):
    """``head``, then one byte every ``every`` seconds, forever."""
    yield head
    while True:
        yield every
        yield byte


def endless_continue(every=0.01):
    """'100 Continue' answers, forever."""
    while True:
        yield b'HTTP/1.1 100 Continue\r\n\r\n'
        yield every
