"""``nodepool-aarch64 kolla-images``: the Kolla images a change affects."""

import argparse
import json
import re

from nodepool_aarch64 import options
from nodepool_aarch64.kolla import affected
from nodepool_aarch64.kolla import render
from nodepool_aarch64.options import add_command, positive_seconds

DESCRIPTION = """\
Say which Kolla images a change makes different, so an Arm64 build job
builds only those and reuses (pulls) the rest.

Both revisions are rendered with their own Kolla code, the same
kolla-build --template-only run (--base, --base-arch, --profile as for
kolla-build).  An image's context is its rendered Dockerfile, every file
its COPY and ADD take from its folder, the source settings of the
archives kolla-build generates for it, and its parent's context (the
image named in FROM).  An image is built when its context digest
differs, with the reason:

  Dockerfile changed   the rendered Dockerfile differs (or the image is
                       new to the set)
  file F changed       a file the image takes in differs
  parent P is rebuilt  its parent is built
  build machinery changed
                       the change reaches images in a way the renderings
                       do not show: Kolla's own build code, template
                       overrides or build settings outside the image
                       folders, a file no image takes in.  Every image is
                       then built, and "fallback" names the path.

--image narrows the answer to what building some images takes: the
images whose names match (kolla-build's own image arguments, regular
expressions) and their ancestors, as a build job that builds only a few
images asks it.

Output (--format json):
  {"build": [...], "reuse": [...], "why": {IMAGE: REASON},
   "fallback": null or why everything is built,
   "pull": [the reused ancestors of built images, to pull first]}

Exit codes: 0 ok, 2 unusable input (not a git checkout, not a commit,
not a Kolla tree, kolla-build failing on a revision, a render taking
longer than --timeout).
"""


def register(subparsers):
    parser = add_command(
        subparsers, 'kolla-images',
        help='which Kolla images a change affects (build vs reuse)',
        description=DESCRIPTION)
    parser.add_argument('--kolla', metavar='DIR', required=True,
                        help='a git checkout of Kolla')
    parser.add_argument('--base-rev', metavar='REV', required=True,
                        help='the revision whose images can be reused '
                        '(e.g. the change\'s parent)')
    parser.add_argument('--head-rev', metavar='REV', default='HEAD',
                        help='the revision to build (default %(default)s)')
    parser.add_argument('--base', default='debian', metavar='DISTRO',
                        help='kolla-build --base (default %(default)s)')
    parser.add_argument('--base-arch', default='aarch64', metavar='ARCH',
                        help='kolla-build --base-arch (default '
                        '%(default)s)')
    parser.add_argument('--profile', action='append', default=[],
                        metavar='NAME', help='kolla-build --profile; may '
                        'be given more than once (default: every image)')
    parser.add_argument('--image', action='append', default=[],
                        type=_regex, metavar='REGEX', dest='images',
                        help='only what building the images this regular '
                        'expression matches takes (as kolla-build\'s image '
                        'arguments); may be given more than once (default: '
                        'every image)')
    parser.add_argument('--timeout', type=positive_seconds,
                        default=render.RENDER_TIMEOUT, metavar='SECONDS',
                        help='longest one revision may take to render '
                        '(default %(default)s)')
    options.output_format(parser, help='how to print the selection')
    parser.set_defaults(func=main)


def _regex(text):
    try:
        re.compile(text)
    except re.error as e:
        raise argparse.ArgumentTypeError(
            f'{text!r} is not a regular expression: {e}')
    return text


def main(args):
    selection = affected.affected(
        args.kolla, args.base_rev, args.head_rev, base=args.base,
        base_arch=args.base_arch, profiles=args.profile,
        timeout=args.timeout, images=args.images)
    if args.format == 'json':
        print(json.dumps(selection.as_dict(), indent=2, sort_keys=True))
        return 0
    total = len(selection.build) + len(selection.reuse)
    print(f'build {len(selection.build)} of {total} images, reuse '
          f'{len(selection.reuse)}')
    if selection.fallback:
        print(selection.fallback)
    for name in selection.build:
        print(f'  build {name}: {selection.why[name]}')
    pull = set(selection.pull)
    for name in selection.reuse:
        print(f'  reuse {name}' + (' (pull: a built image stands on it)'
                                   if name in pull else ''))
    return 0
