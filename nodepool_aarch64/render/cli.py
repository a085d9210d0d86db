"""``nodepool-aarch64 render``."""

import json
import os
import sys

from nodepool_aarch64 import options
from nodepool_aarch64 import sizing
from nodepool_aarch64.formats import texttable
from nodepool_aarch64.formats.write import unchanged, write_files
from nodepool_aarch64.inventory import load_inventory
from nodepool_aarch64.options import add_command, writing
from nodepool_aarch64.render import COMMITTED, render_all

DESCRIPTION = """\
Render an inventory to:

  DIR/nodepool/<launcher>.yaml   Nodepool 11 launcher config, one per launcher
  DIR/nodepool/<builder>.yaml    Nodepool 11 builder config, one per builder
  DIR/zuul.d/nodesets.yaml       one Zuul nodeset per label
  DIR/zuul.d/zuul-launcher.yaml  zuul-launcher image, flavor, label,
                                 section and provider objects (Zuul 14)
  DIR/roles/configure-region-mirror/files/region-mirrors.yaml
                                 each provider's mirrors, best first
  DIR/doc/source/generated/arm64-nodes.inc
                                 the docs' nodeset and mirror tables

Nothing is written unless everything renders; each file is replaced
atomically and files whose content is unchanged are left untouched.
Prints max-servers per label and provider, and what bounds each provider
(--format json: {"directory", "files", "changed", "max_servers":
{LABEL: {PROVIDER: N}}, "bound_by": {PROVIDER: WHAT}}).

With --check nothing is written: exit 1 names each file that differs from
what would be rendered (with --repo: the files this project commits:
zuul.d/nodesets.yaml, the mirror list and the docs' tables).
"""


def register(subparsers):
    parser = add_command(
        subparsers, 'render',
        help='render Nodepool, zuul-launcher and Zuul config',
        description=DESCRIPTION)
    options.inventory(parser)
    target = parser.add_mutually_exclusive_group()
    target.add_argument(
        '--output-dir', metavar='DIR', default=None,
        help='where to write (default: ./rendered)')
    target.add_argument(
        '--repo', metavar='DIR',
        help="only the files this project commits (nodesets, the mirror "
             "role's list, the docs' tables), under the project's root DIR")
    options.instant(
        parser, help='apply the capacity windows active at this UTC time '
                     '(ISO 8601, e.g. 2026-12-01T14:00Z); default: none')
    parser.add_argument(
        '--check', action='store_true',
        help='write nothing; exit 1 if any file is stale or missing')
    options.output_format(parser)
    parser.set_defaults(func=run)


def run(args):
    inv = load_inventory(args.inventory)
    files = render_all(inv, at=args.at)
    if args.repo:
        root = args.repo
        files = {rel: files[rel] for rel in COMMITTED}
    else:
        root = 'rendered' if args.output_dir is None else args.output_dir
    if args.check:
        stale = [os.path.join(root, rel) for rel, text in files.items()
                 if not unchanged(os.path.join(root, rel), text)]
        for path in stale:
            print(f'{path}: stale: differs from what the inventory renders '
                  f'(run: nodepool-aarch64 render '
                  f'{"--repo" if args.repo else "--output-dir"} {root})',
                  file=sys.stderr)
        return 1 if stale else 0
    with writing(root):
        changed = write_files(root, files)
    if args.format == 'json':
        print(json.dumps(dict(
            directory=root, files=sorted(files),
            changed=sorted(os.path.relpath(p, root) for p in changed),
            **sizes(inv, args.at)), indent=2))
        return 0
    print(f'{len(files)} files in {root}, {len(changed)} changed')
    print(table(inv, args.at))
    return 0


def sizes(inv, at=None):
    """max-servers per label and provider (a provider that does not
    offer the label is left out), and what bounds each provider."""
    sizings = {p.name: sizing.sizing_at(inv, p, at) for p in inv.providers}
    return {
        'max_servers': {
            label.name: {n: sizings[n].max_servers for n in sizings
                         if n in label.providers}
            for label in inv.labels},
        'bound_by': {n: s.binding for n, s in sizings.items()},
    }


def table(inv, at=None):
    """max-servers per label (rows) and provider (columns)."""
    names = [p.name for p in inv.providers]
    data = sizes(inv, at)
    rows = [['label'] + names]
    for label in inv.labels:
        offered = data['max_servers'][label.name]
        rows.append([label.name] + [
            str(offered[n]) if n in offered else '-' for n in names])
    rows.append(['bound by'] + [data['bound_by'][n] for n in names])
    return '\n'.join(texttable.lines(rows))
