"""The config drive Nova attaches: ISO 9660 labelled ``config-2``.

Only what a guest needs from the drive is written:
``openstack/latest/meta_data.json`` with the instance's hostname (what
cloud-init and glean set the hostname from) and, when given, the SSH
public keys a user logs in with (Nova's ``public_keys``, keyed by the
key pair's name), next to empty network and vendor data as Nova writes
them.
"""

import json
import os

from nodepool_aarch64 import children

LABEL = 'config-2'


def metadata(hostname, instance_uuid, public_keys=None):
    return {
        'uuid': instance_uuid,
        'name': hostname,
        'hostname': hostname,
        'availability_zone': 'nova',
        'launch_index': 0,
        'meta': {},
        'public_keys': dict(public_keys or {}),
        'keys': [{'name': name, 'type': 'ssh', 'data': key}
                 for name, key in sorted((public_keys or {}).items())],
        'files': [],
        'devices': [],
    }


def build(out, hostname, instance_uuid, public_keys=None):
    """Write the config drive ISO to ``out``, a path or a file object;
    ``public_keys`` maps key pair names to OpenSSH public key lines."""
    with children.temporary_directory(prefix='image-check-') as tree:
        latest = os.path.join(tree, 'openstack', 'latest')
        os.makedirs(latest)
        documents = {
            'meta_data.json': metadata(hostname, instance_uuid,
                                       public_keys),
            'network_data.json': {'links': [], 'networks': [],
                                  'services': []},
            'vendor_data.json': {},
        }
        for name, document in documents.items():
            with open(os.path.join(latest, name), 'w') as f:
                json.dump(document, f)
        # Rock Ridge and Joliet keep the long lower-case names, as
        # Nova's genisoimage call does.  A file object is written through
        # standard output: it may have no name (run.py's have none).
        to_file = not isinstance(out, (str, bytes, os.PathLike))
        proc = children.run(
            ['xorriso', '-as', 'mkisofs', '-quiet', '-J', '-r',
             '-V', LABEL, '-o', '-' if to_file else out, tree],
            **({'stdout': out} if to_file else {}))
    if proc.returncode != 0:
        raise RuntimeError('xorriso could not write the config drive: '
                           + proc.stderr.decode(errors='replace').strip()
                           [-500:])
    return out
