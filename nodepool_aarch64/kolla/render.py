"""One revision's images, rendered by that revision's own Kolla.

The tree of the revision is exported to a scratch folder and
``render_driver.py`` runs Kolla's ``kolla-build --template-only`` from
it, in a child process: Kolla's modules of one revision must never meet
another revision's in one interpreter, and a template that loops or a
Kolla that hangs is stopped by the timeout.
"""

import dataclasses
import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile

from nodepool_aarch64.errors import InputError
from nodepool_aarch64.kolla import gittree

DRIVER = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                      'render_driver.py')
RENDER_TIMEOUT = 300

# Kolla takes the image tag and its version label from git or package
# metadata.  A fixed value keeps the revision's own id out of every
# Dockerfile: otherwise each commit would "change" every image.
FIXED_VERSION = '0.0.0'

# The one value Kolla renders from the clock: it changes whatever the
# change, so it is blanked before hashing.
BUILD_DATE = re.compile(r'(build-date=")\d{8}(")')


@dataclasses.dataclass(frozen=True)
class Image:
    name: str
    parent: str
    # The image folder, relative to the images folder (e.g. nova/nova-api).
    path: str
    dockerfile: str
    # Every file in the image folder after rendering: relative path ->
    # digest of its mode and content.
    files: dict
    # Kolla's source settings for the image's generated *-archive files,
    # as canonical JSON.
    sources: str


@dataclasses.dataclass(frozen=True)
class Rendering:
    commit: str
    # Where the image folders live in the tree (docker or kolla/docker).
    images_dir: str
    images: dict


def kolla_args(base, base_arch, profiles):
    args = ['--base', base, '--base-arch', base_arch]
    for profile in profiles:
        args += ['--profile', profile]
    return args


def render(checkout, commit, args, timeout=RENDER_TIMEOUT, label=None):
    """The Rendering of ``commit`` with kolla-build arguments ``args``."""
    label = label or commit[:12]
    with tempfile.TemporaryDirectory(prefix='kolla-images-') as scratch:
        tree = os.path.join(scratch, 'tree')
        gittree.export(checkout, commit, tree)
        config = os.path.join(scratch, 'kolla-build.conf')
        # An empty config file of our own: kolla-build would otherwise read
        # /etc/kolla/kolla-build.conf and ~/.kolla, whatever this host has.
        open(config, 'w').close()
        output = os.path.join(scratch, 'images.json')
        env = dict(os.environ, PBR_VERSION=FIXED_VERSION,
                   HOME=scratch, PYTHONDONTWRITEBYTECODE='1')
        env.pop('PYTHONPATH', None)
        command = [sys.executable, DRIVER, output, tree,
                   '--config-file', config,
                   '--work-dir', os.path.join(scratch, 'work'), *args]
        try:
            done = subprocess.run(
                command, cwd=scratch, env=env, stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                timeout=timeout, check=False)
        except subprocess.TimeoutExpired:
            raise InputError(checkout, None, '',
                             f'rendering {label} took longer than '
                             f'{timeout} s')
        if done.returncode != 0 or not os.path.exists(output):
            raise InputError(checkout, None, '',
                             f'kolla-build --template-only failed at '
                             f'{label}: {_last_line(done)}')
        with open(output) as f:
            found = json.load(f)
        work = found['working_dir']
        images = {name: _image(name, entry, work)
                  for name, entry in found['images'].items()}
    if not images:
        raise InputError(checkout, None, '',
                         f'kolla-build renders no image at {label} '
                         f'with {" ".join(args)}')
    return Rendering(commit, found['images_dir'], images)


def _last_line(done):
    lines = [line for line in done.stderr.decode(errors='replace')
             .splitlines() if line.strip()]
    return lines[-1].strip() if lines else f'exit code {done.returncode}'


def _image(name, entry, work):
    folder = os.path.join(work, entry['path'])
    with open(os.path.join(folder, 'Dockerfile'), encoding='utf-8') as f:
        dockerfile = BUILD_DATE.sub(r'\1\2', f.read())
    files = {}
    for directory, _, names in os.walk(folder):
        for filename in names:
            path = os.path.join(directory, filename)
            rel = os.path.relpath(path, folder)
            # The template is there as its rendering, the Dockerfile.
            if rel not in ('Dockerfile', 'Dockerfile.j2'):
                files[rel] = file_digest(path)
    return Image(name=name, parent=entry['parent'], path=entry['path'],
                 dockerfile=dockerfile, files=files,
                 sources=json.dumps(entry['sources'], sort_keys=True))


def file_digest(path):
    """What Docker copies of a file: its content and whether it may run
    (a link is its target)."""
    if os.path.islink(path):
        return 'link:' + os.readlink(path)
    digest = hashlib.sha256()
    digest.update(b'x' if os.access(path, os.X_OK) else b'-')
    with open(path, 'rb') as f:
        for chunk in iter(lambda: f.read(1 << 20), b''):
            digest.update(chunk)
    return digest.hexdigest()
