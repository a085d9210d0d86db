"""A throw-away certificate authority for the test ZooKeeper.

Nodepool refuses to talk to ZooKeeper without TLS, so every functional
run makes its own CA with openssl, a server certificate valid for
127.0.0.1 (the only address the tests use) and a client certificate for
the launcher and the test's own requestor.  Nothing here is reused
between runs.
"""

import os
import shutil
import subprocess


class CertificateError(Exception):
    pass


def _openssl(*args, cwd):
    if shutil.which('openssl') is None:
        raise CertificateError(
            'openssl is not installed; run tools/test-setup.sh')
    result = subprocess.run(
        ('openssl',) + args, cwd=cwd, capture_output=True, text=True)
    if result.returncode != 0:
        raise CertificateError(
            'openssl %s failed: %s' % (args[0], result.stderr.strip()))


def _signed_pair(directory, name, subject, extensions):
    ext_path = os.path.join(directory, name + '.ext')
    with open(ext_path, 'w') as f:
        f.write(extensions)
    _openssl('req', '-newkey', 'rsa:2048', '-nodes',
             '-keyout', name + '.key', '-out', name + '.csr',
             '-subj', subject, cwd=directory)
    _openssl('x509', '-req', '-in', name + '.csr',
             '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial',
             '-days', '2', '-out', name + '.pem', '-extfile', ext_path,
             cwd=directory)
    return (os.path.join(directory, name + '.pem'),
            os.path.join(directory, name + '.key'))


class ThrowAwayCA(object):
    """CA, server and client certificates written under ``directory``.

    ``server_keystore`` is the server certificate followed by its key:
    ZooKeeper's PEM key store reads both from one file.
    """

    def __init__(self, directory):
        self.directory = directory
        os.makedirs(directory, exist_ok=True)
        _openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes',
                 '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2',
                 '-subj', '/CN=nodepool-aarch64 functional test CA',
                 cwd=directory)
        self.ca = os.path.join(directory, 'ca.pem')
        self.server_cert, self.server_key = _signed_pair(
            directory, 'server', '/CN=127.0.0.1',
            'subjectAltName=IP:127.0.0.1\n'
            'extendedKeyUsage=serverAuth\n')
        self.client_cert, self.client_key = _signed_pair(
            directory, 'client', '/CN=nodepool-launcher',
            'extendedKeyUsage=clientAuth\n')
        self.server_keystore = os.path.join(directory, 'server-keystore.pem')
        with open(self.server_keystore, 'w') as out:
            for part in (self.server_cert, self.server_key):
                with open(part) as f:
                    out.write(f.read())
