"""From a Kolla checkout and two revisions to a Selection."""

import concurrent.futures

from nodepool_aarch64.errors import InputError
from nodepool_aarch64.kolla import gittree
from nodepool_aarch64.kolla import render
from nodepool_aarch64.kolla import select


def affected(checkout, base_rev, head_rev='HEAD', base='debian',
             base_arch='aarch64', profiles=(), timeout=render.RENDER_TIMEOUT,
             renderer=None, images=()):
    """The Selection of images to build going from ``base_rev`` to
    ``head_rev``.  ``renderer(commit)`` may supply Renderings (a cache,
    as the history benchmark keeps); by default both are rendered, side
    by side.  ``images`` (kolla-build's image regexes) narrows the
    result to what building those images takes."""
    base_commit = gittree.resolve(checkout, base_rev, '--base-rev')
    head_commit = gittree.resolve(checkout, head_rev, '--head-rev')
    args = render.kolla_args(base, base_arch, profiles)
    if renderer is None:
        def renderer(commit):
            return render.render(checkout, commit, args, timeout=timeout)
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        old, new = pool.map(renderer, (base_commit, head_commit))
    changed = gittree.changed_paths(checkout, base_commit, head_commit)
    folders = set()
    for commit, rendering in ((base_commit, old), (head_commit, new)):
        folders |= gittree.image_folders(checkout, commit,
                                         rendering.images_dir)
    selection = select.select(old, new, changed, folders)
    if not images:
        return selection
    try:
        return select.wanted(selection, new.images, images)
    except ValueError as e:
        raise InputError(checkout, None, '--image', str(e))
