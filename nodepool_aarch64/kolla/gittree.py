"""A Kolla checkout read through git: revisions, their trees, the diff.

Every call is bounded in time: a hung git (a lock, a huge repository)
must not hang a CI job.
"""

import os
import subprocess
import tarfile

from nodepool_aarch64.errors import InputError

GIT_TIMEOUT = 120

# What makes a tree a Kolla tree: the code that renders its images.
KOLLA_MARKERS = ('kolla/image/build.py', 'kolla/image/kolla_worker.py')


def _git(checkout, *args, stdout=subprocess.PIPE):
    try:
        done = subprocess.run(
            ['git', '-C', checkout, *args], stdout=stdout,
            stderr=subprocess.PIPE, timeout=GIT_TIMEOUT, check=False)
    except subprocess.TimeoutExpired:
        raise InputError(checkout, None, '',
                         f'git {args[0]} took longer than {GIT_TIMEOUT} s')
    except FileNotFoundError:
        raise InputError(checkout, None, '', 'git is not installed')
    return done


def resolve(checkout, rev, option):
    """The commit id ``rev`` names in ``checkout``."""
    if not os.path.isdir(checkout):
        raise InputError(checkout, None, '', 'no such directory')
    if rev.startswith('-'):
        raise InputError(checkout, None, option, f'{rev!r} is not a revision')
    done = _git(checkout, 'rev-parse', '--verify', '--quiet',
                f'{rev}^{{commit}}')
    if done.returncode != 0:
        top = _git(checkout, 'rev-parse', '--git-dir')
        if top.returncode != 0:
            raise InputError(checkout, None, '', 'not a git checkout')
        raise InputError(checkout, None, option,
                         f'{rev!r} is not a commit in this checkout')
    commit = done.stdout.decode().strip()
    missing = [m for m in KOLLA_MARKERS if not exists(checkout, commit, m)]
    if missing:
        raise InputError(checkout, None, option,
                         f'not a Kolla tree at {rev} (no {missing[0]})')
    return commit


def exists(checkout, commit, path):
    return _git(checkout, 'cat-file', '-e',
                f'{commit}:{path}').returncode == 0


def changed_paths(checkout, base, head):
    """Paths that differ between two commits (both sides of a rename)."""
    done = _git(checkout, 'diff', '--name-only', '--no-renames', '-z',
                base, head)
    if done.returncode != 0:
        raise InputError(checkout, None, '', done.stderr.decode().strip()
                         or 'git diff failed')
    return sorted(p for p in done.stdout.decode().split('\0') if p)


def export(checkout, commit, directory):
    """Write the tree of ``commit`` into ``directory`` (no .git: the
    rendered images must not depend on where the checkout lives)."""
    archive = os.path.join(directory + '.tar')
    with open(archive, 'wb') as f:
        done = _git(checkout, 'archive', '--format=tar', commit, stdout=f)
    if done.returncode != 0:
        raise InputError(checkout, None, '', done.stderr.decode().strip()
                         or 'git archive failed')
    os.makedirs(directory)
    with tarfile.open(archive) as tar:
        tar.extractall(directory, **EXTRACT_FILTER)
    os.unlink(archive)


# Python's extraction filters came in 3.11.4; Debian bookworm's 3.11.2,
# which the Kolla build job runs this with on the node, has none.  A git
# tree has no absolute or ".." paths, so the archive is safe without.
EXTRACT_FILTER = {'filter': 'tar'} if hasattr(tarfile, 'tar_filter') else {}


def image_folders(checkout, commit, images_dir):
    """Every folder under ``images_dir`` holding a Dockerfile.j2 at
    ``commit``, relative to ``images_dir``: images of every base and
    architecture, built here or not."""
    done = _git(checkout, 'ls-tree', '-r', '--name-only', '-z', commit,
                '--', images_dir)
    if done.returncode != 0:
        raise InputError(checkout, None, '', done.stderr.decode().strip()
                         or 'git ls-tree failed')
    prefix = images_dir.rstrip('/') + '/'
    return {path[len(prefix):].rsplit('/', 1)[0]
            for path in done.stdout.decode().split('\0')
            if path.startswith(prefix) and path.endswith('/Dockerfile.j2')}
