"""Which images two revisions of Kolla make different, and why.

An image is built when its context digest differs between the two
revisions (or it is new to the set); every other image is reused.  The
digests cover what the renderings show.  What they cannot show is a
change that reaches images some other way: Kolla's own build code, a
template override, a file no image takes in.  Any such change builds
everything, and the result says which path caused it.
"""

import dataclasses
import posixpath
import re

from nodepool_aarch64.kolla import context

DOCKERFILE_CHANGED = 'Dockerfile changed'
MACHINERY_CHANGED = 'build machinery changed'

# Paths whose effect on an image the renderings show in full.
RENDERED = (
    # Render-time helpers: their output is in the rendered Dockerfiles.
    'kolla/template/',
    # Service users: given to the templates, rendered into Dockerfiles.
    'kolla/common/users.py',
    # Per-image source settings: part of each image's context.
    'kolla/common/sources.py',
    # Which images a base and architecture can build: the image set.
    'kolla/image/unbuildable.py',
)

# Paths that never reach an image: documentation and Kolla's own tests.
NOT_BUILT = ('doc/', 'releasenotes/', 'specs/', 'kolla/tests/',
             'kolla/hacking/')


@dataclasses.dataclass(frozen=True)
class Selection:
    build: tuple
    reuse: tuple
    why: dict
    # Why everything is built, or None when the selection is exact.
    fallback: str
    # The reused images a build of ``build`` stands on: every reused
    # ancestor of a built image, which a job pulls before it builds.
    pull: tuple = ()

    def as_dict(self):
        return {'build': list(self.build), 'reuse': list(self.reuse),
                'why': dict(self.why), 'fallback': self.fallback,
                'pull': list(self.pull)}


def _pull(images, build):
    built = set(build)
    needed = set()
    for name in build:
        parent = images[name].parent
        while parent in images and parent not in needed:
            if parent not in built:
                needed.add(parent)
            parent = images[parent].parent
    return tuple(sorted(needed))


def file_changed(path):
    return f'file {path} changed'


def parent_rebuilt(parent):
    return f'parent {parent} is rebuilt'


def select(base, head, changed, image_folders):
    """The Selection between two Renderings.

    ``changed`` lists the paths git reports changed between them;
    ``image_folders`` every folder holding a Dockerfile.j2 at either
    revision (images of other bases and architectures included).
    """
    try:
        old = context.contexts(base.images)
        new = context.contexts(head.images)
    except context.Unattributable as e:
        return _everything(head, {}, f'{e}: cannot follow its context')
    why = {}
    for name in _parents_first(head.images):
        reason = _reason(name, base, head, old, new, why, changed)
        if reason:
            why[name] = reason
    fallback = _unattributed(changed, base, head, old, new, image_folders)
    if fallback:
        return _everything(head, why, fallback)
    build = tuple(sorted(why))
    reuse = tuple(sorted(set(head.images) - set(why)))
    return Selection(build, reuse, why, None, _pull(head.images, build))


def wanted(selection, images, patterns):
    """The part of ``selection`` that building the images ``patterns``
    name takes: those images and their ancestors.

    ``patterns`` are kolla-build's own image arguments, regular
    expressions searched for in each image's name; ``images`` are the
    head revision's (a Rendering's ``images``).  A pattern that names
    no image is refused, as it would leave the build job nothing to do
    without saying so.
    """
    named = set()
    for pattern in patterns:
        found = {name for name in images if re.search(pattern, name)}
        if not found:
            raise ValueError(f'{pattern!r} names no image of the set')
        named |= found
    keep = set()
    for name in named:
        while name in images and name not in keep:
            keep.add(name)
            name = images[name].parent
    build = tuple(name for name in selection.build if name in keep)
    return Selection(
        build, tuple(name for name in selection.reuse if name in keep),
        {name: why for name, why in selection.why.items() if name in keep},
        selection.fallback,
        () if selection.fallback else _pull(images, build))


def _everything(head, why, fallback):
    why = {name: why.get(name, MACHINERY_CHANGED) for name in head.images}
    return Selection(tuple(sorted(head.images)), (), why,
                     f'building every image: {fallback}')


def _parents_first(images):
    order, seen = [], set()

    def visit(name):
        if name in seen:
            return
        seen.add(name)
        parent = images[name].parent
        if parent in images:
            visit(parent)
        order.append(name)

    for name in sorted(images):
        visit(name)
    return order


def _reason(name, base, head, old, new, why, changed):
    image = head.images[name]
    if name not in base.images:
        return DOCKERFILE_CHANGED
    if new[name].digest == old[name].digest:
        return None
    before = base.images[name]
    if image.dockerfile != before.dockerfile:
        return DOCKERFILE_CHANGED
    for rel in sorted(new[name].files | old[name].files):
        if rel not in new[name].files or rel not in old[name].files or \
                image.files.get(rel) != before.files.get(rel):
            return file_changed(posixpath.join(head.images_dir, image.path,
                                               rel))
    if image.sources != before.sources:
        if 'kolla/common/sources.py' in changed:
            return file_changed('kolla/common/sources.py')
        return MACHINERY_CHANGED
    if image.parent in why:
        return parent_rebuilt(image.parent)
    # Same own context, other parent digest: the parent was renamed or
    # left the set.  Building is the safe answer.
    return parent_rebuilt(image.parent or 'none')


def _unattributed(changed, base, head, old, new, image_folders):
    """Why a changed path may reach images the digests do not show, or
    None when every changed path is accounted for."""
    for path in changed:
        if path.startswith(NOT_BUILT) or \
                '/' not in path and path.endswith('.rst'):
            continue
        if path.startswith(RENDERED):
            continue
        side = _under_images(path, base, head)
        if side is None:
            if path.startswith('kolla/'):
                return f'{path} is Kolla\'s own Python (build machinery)'
            return f'{path} is outside the image folders ' \
                'and may reach the build (template overrides, build ' \
                'settings)'
        rel = side
        if rel.endswith('.j2'):
            # A template: the renderings hold whatever it produced.
            continue
        owner = _owner(rel, image_folders)
        if owner is None:
            return f'{path} is used by no image'
        used = False
        known = False
        for rendering, contexts in ((base, old), (head, new)):
            for name, image in rendering.images.items():
                if image.path == owner:
                    known = True
                    inner = posixpath.relpath(rel, owner)
                    used = used or inner in contexts[name].files
        if known and not used:
            return f'{path} is used by no image'
    return None


def _under_images(path, base, head):
    for rendering in (base, head):
        prefix = rendering.images_dir.rstrip('/') + '/'
        if path.startswith(prefix):
            return path[len(prefix):]
    return None


def _owner(rel, image_folders):
    """The image folder (relative to the images folder) holding ``rel``:
    the deepest one, since image folders do not nest in Kolla."""
    best = None
    for folder in image_folders:
        if rel.startswith(folder + '/') and (best is None
                                             or len(folder) > len(best)):
            best = folder
    return best
