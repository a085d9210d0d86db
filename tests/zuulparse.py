"""Load zuul.d files with Zuul's own configuration parser.

This is the pattern of Zuul's own test_model.py: a ParseContext and a
TenantParser, without a scheduler or ZooKeeper.  It checks each stanza
against Zuul's schemas (pipelines against the drivers of a real
ConnectionRegistry), not references between stanzas; tests do that on
the parsed objects.  configloader is internal to Zuul, which is why
test-requirements.txt pins the Zuul release.
"""

import configparser
import os
import shutil
import types

from zuul import configloader
from zuul import model
from zuul.lib import connections
from zuul.lib.ansible import AnsibleManager

from tests import base

REPO_ROOT = base.REPO
ZUUL_D = os.path.join(REPO_ROOT, 'zuul.d')
PROJECT = 'nodepool-aarch64'

# The connection a typical OpenDev-style tenant has; check-arm64 is
# triggered and reported through it.  Nothing connects to the server.
ZUUL_CONF = """
[connection gerrit]
driver=gerrit
server=review.example.org
user=zuul
sshkey=/dev/null
"""


class MissingBwrap(Exception):
    pass


def require_bwrap():
    """Zuul's ConnectionRegistry runs bwrap; say what to install without."""
    if shutil.which('bwrap') is None:
        raise MissingBwrap('bwrap not found: install the Debian package '
                           'bubblewrap (tools/test-setup.sh does)')


def connection_registry():
    require_bwrap()
    config = configparser.ConfigParser()
    config.read_string(ZUUL_CONF)
    registry = connections.ConnectionRegistry()
    registry.configure(config, sources=True, triggers=True,
                       reporters=True, providers=True)
    return registry


class ParsedFile:
    def __init__(self, path, parsed):
        self.path = path
        self.parsed = parsed

    @property
    def errors(self):
        found = []
        for name, value in vars(self.parsed).items():
            if name.endswith('_errors'):
                found.extend(value)
        return found


def parse_files(paths, registry=None):
    """Parse each file on its own; return a list of ParsedFile."""
    registry = registry or connection_registry()
    pcontext = configloader.ParseContext(
        registry, model.SystemAttributes(),
        # Only zuul-launcher providers read the system id.
        types.SimpleNamespace(system_id='nodepool-aarch64-tests'),
        AnsibleManager())
    parser = configloader.TenantParser(
        registry, None, None, None, None, model.SystemAttributes(),
        None, None)
    results = []
    for path in paths:
        rel = os.path.relpath(path, REPO_ROOT)
        source_context = model.SourceContext(
            f'example.org/{PROJECT}', PROJECT, 'gerrit', 'master', rel)
        with open(path) as f:
            parsed = parser.loadProjectYAML(f.read(), source_context,
                                            pcontext)
        results.append(ParsedFile(rel, parsed))
    return results


def zuul_d_files(directory=ZUUL_D):
    return sorted(os.path.join(directory, name)
                  for name in os.listdir(directory)
                  if name.endswith('.yaml'))


def describe(error):
    mark = error.key.mark
    where = f'{error.key.context}' + (f' line {mark.line + 1}'
                                      if mark else '')
    return f'{where}: {error.short_error}'
