"""An image's build context: what its rendered Dockerfile takes in.

The context of an image is its rendered Dockerfile, every file its COPY
and ADD instructions take from its folder, the source settings of the
``*-archive`` files kolla-build generates for it, and its parent's
context.  Its digest changes exactly when one of those does.
"""

import dataclasses
import fnmatch
import hashlib
import json
import shlex


class Unattributable(Exception):
    """A Dockerfile takes in something this module cannot follow."""


@dataclasses.dataclass(frozen=True)
class Context:
    # Files of the image folder the image takes in (relative paths).
    files: frozenset
    # Those files' own digest, the Dockerfile's and the sources'.
    own: str
    # ``own`` chained with the parent's digest.
    digest: str


def instructions(dockerfile):
    """(instruction, argument text) of each logical line."""
    logical = ''
    for line in dockerfile.splitlines():
        stripped = line.strip()
        if not logical and (not stripped or stripped.startswith('#')):
            continue
        if stripped.endswith('\\'):
            logical += stripped[:-1] + ' '
            continue
        logical += stripped
        word, _, rest = logical.partition(' ')
        yield word.upper(), rest.strip()
        logical = ''
    if logical:
        word, _, rest = logical.partition(' ')
        yield word.upper(), rest.strip()


def copy_sources(dockerfile):
    """The source paths of every COPY and ADD, in order.

    Raises Unattributable for a COPY/ADD --from (it takes from another
    image, which the parent chain does not cover) and for a line it
    cannot split.
    """
    found = []
    for word, rest in instructions(dockerfile):
        if word not in ('COPY', 'ADD'):
            continue
        try:
            if rest.startswith('['):
                words = json.loads(rest)
            else:
                words = shlex.split(rest)
        except ValueError as e:
            raise Unattributable(f'cannot read "{word} {rest}": {e}')
        flags = [w for w in words if w.startswith('--')]
        if any(f.startswith('--from') for f in flags):
            raise Unattributable(f'"{word} {rest}" takes from another image')
        paths = [w for w in words if not w.startswith('--')]
        if len(paths) >= 2 and paths[0].startswith('['):
            raise Unattributable(f'cannot read "{word} {rest}"')
        found.extend(paths[:-1])
    return found


def used_files(dockerfile, files):
    """The files of the image folder (relative paths in ``files``) that
    the Dockerfile's COPY and ADD take: a source names a file, a folder
    (everything below it) or a glob (which may match a folder too)."""
    used = set()
    for source in copy_sources(dockerfile):
        if '://' in source:
            continue  # a URL: the Dockerfile itself holds all of it
        pattern = source
        while pattern.startswith('./'):
            pattern = pattern[2:]
        pattern = pattern.strip('/')
        whole = pattern in ('', '.')
        for rel in files:
            parts = rel.split('/')
            prefixes = ['/'.join(parts[:k]) for k in range(1, len(parts) + 1)]
            if whole or any(fnmatch.fnmatchcase(p, pattern)
                            for p in prefixes):
                used.add(rel)
    return frozenset(used)


def contexts(images):
    """Context of every image of a Rendering's ``images``, parents first.

    Raises Unattributable, naming the image, when one cannot be followed.
    """
    result = {}

    def visit(name, seen):
        if name in result:
            return result[name]
        if name in seen:
            raise Unattributable(f'image {name} is its own ancestor')
        image = images[name]
        try:
            files = used_files(image.dockerfile, image.files)
        except Unattributable as e:
            raise Unattributable(f'image {name}: {e}')
        own = hashlib.sha256()
        own.update(image.dockerfile.encode())
        for rel in sorted(files):
            own.update(f'\0{rel}\0{image.files[rel]}'.encode())
        own.update(b'\0' + image.sources.encode())
        own = own.hexdigest()
        parent = ''
        if image.parent in images:
            parent = visit(image.parent, seen | {name}).digest
        digest = hashlib.sha256(f'{own}\0{parent}'.encode()).hexdigest()
        result[name] = Context(files, own, digest)
        return result[name]

    for name in sorted(images):
        visit(name, frozenset())
    return result
