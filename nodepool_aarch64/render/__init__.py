"""Renderers: the model as Nodepool, zuul-launcher and Zuul config.

Every renderer returns plain data built from the model only; ``render_all``
turns it into the set of files (relative path -> YAML text), so nothing is
written until everything has rendered.
"""

import os

from nodepool_aarch64.formats.yamltext import dump
from nodepool_aarch64.render import docs
from nodepool_aarch64.render import mirrors
from nodepool_aarch64.render import nodepool
from nodepool_aarch64.render import zuul

NODESETS = 'zuul.d/nodesets.yaml'
ZUUL_LAUNCHER = 'zuul.d/zuul-launcher.yaml'
# Read by the role's defaults (roles/configure-region-mirror/README.rst).
REGION_MIRRORS = 'roles/configure-region-mirror/files/region-mirrors.yaml'
# Included by doc/source/zuul.rst.
ARM64_NODES_DOC = 'doc/source/generated/arm64-nodes.inc'
# Files this project keeps in its own repo, regenerated from the shipped
# inventory and checked for staleness by ``render --check``.
COMMITTED = (NODESETS, REGION_MIRRORS, ARM64_NODES_DOC)


def source_of(inv):
    """What the header of every generated file says it came from."""
    return f'inventory {os.path.basename(inv.path)}'


def launcher_file(inv, launcher, at=None):
    """The text of one launcher host's Nodepool config at an instant:
    what ``render`` writes and ``capacity apply`` puts in place."""
    return dump(nodepool.launcher_config(inv, launcher, at=at),
                source_of(inv))


def render_all(inv, at=None):
    """All files for an inventory, at an instant (None: no windows)."""
    source = source_of(inv)
    files = {}
    for launcher in inv.launchers:
        files[f'nodepool/{launcher}.yaml'] = launcher_file(inv, launcher,
                                                           at)
    for builder in inv.builders:
        files[f'nodepool/{builder}.yaml'] = dump(
            nodepool.builder_config(inv, builder), source)
    files[NODESETS] = dump(zuul.nodesets(inv), source)
    files[ZUUL_LAUNCHER] = dump(zuul.launcher_objects(inv, at=at)
                                + zuul.image_build_objects(inv), source)
    files[REGION_MIRRORS] = dump(mirrors.region_mirrors(inv), source)
    files[ARM64_NODES_DOC] = docs.arm64_nodes(inv, source)
    return files
