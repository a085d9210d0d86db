"""Small Kolla trees in git, for the kolla-images tests.

The images are hand-made and few; the code that renders them is Kolla's
own (the ``kolla`` package from PyPI, a test requirement), copied into
the tree as a Kolla checkout holds it, so each revision is rendered by
the tree's code exactly as a real checkout is.
"""

import os
import shutil
import subprocess

import kolla

# A base with a macro, an OpenStack base, two services with a base and
# an API image each, and one image Kolla cannot build on aarch64.
IMAGES = {
    'docker/macros.j2': (
        '{% macro install(packages) %}'
        'RUN apt-get install -y {{ packages | join(" ") }}'
        '{% endmacro %}\n'),
    'docker/base/Dockerfile.j2': (
        'FROM {{ base_image }}:{{ base_distro_tag }}\n'
        'LABEL build-date="{{ build_date }}"\n'
        '{% import "macros.j2" as macros %}\n'
        '{{ macros.install(["ca-certificates", "curl"]) }}\n'
        'COPY set_configs.py start.sh /usr/local/bin/\n'
        'COPY --chmod=0440 sudoers /etc/sudoers\n'),
    'docker/base/set_configs.py': 'print("configs")\n',
    'docker/base/start.sh': '#!/bin/sh\nexec "$@"\n',
    'docker/base/sudoers': 'root ALL=(ALL) ALL\n',
    'docker/openstack-base/Dockerfile.j2': (
        'FROM {{ namespace }}/{{ image_prefix }}base:{{ tag }}\n'
        'RUN echo {{ openstack_release }} \\\n'
        '    > /etc/openstack-release\n'),
    'docker/glance/glance-base/Dockerfile.j2': (
        'FROM {{ namespace }}/{{ image_prefix }}openstack-base:{{ tag }}\n'
        'ADD glance-base-archive /glance-base-source\n'
        'COPY extend_start.sh /usr/local/bin/kolla_extend_start\n'),
    'docker/glance/glance-base/extend_start.sh': '#!/bin/sh\ntrue\n',
    'docker/glance/glance-api/Dockerfile.j2': (
        'FROM {{ namespace }}/{{ image_prefix }}glance-base:{{ tag }}\n'
        'COPY ["glance_sudoers", "/etc/sudoers.d/kolla_glance_sudoers"]\n'),
    'docker/glance/glance-api/glance_sudoers': 'glance ALL=(root) ALL\n',
    'docker/nova/nova-base/Dockerfile.j2': (
        'FROM {{ namespace }}/{{ image_prefix }}openstack-base:{{ tag }}\n'
        'COPY conf/ /etc/nova/\n'),
    'docker/nova/nova-base/conf/nova.conf': '[DEFAULT]\n',
    'docker/nova/nova-api/Dockerfile.j2': (
        'FROM {{ namespace }}/{{ image_prefix }}nova-base:{{ tag }}\n'
        'RUN true\n'),
    # Kolla lists bifrost-base as unbuildable on aarch64.
    'docker/bifrost/bifrost-base/Dockerfile.j2': (
        'FROM {{ namespace }}/{{ image_prefix }}openstack-base:{{ tag }}\n'
        'COPY start.sh /\n'),
    'docker/bifrost/bifrost-base/start.sh': '#!/bin/sh\n',
    'README.rst': 'A small Kolla.\n',
    'doc/source/index.rst': 'Docs.\n',
}

EXECUTABLE = ('docker/base/start.sh', 'docker/glance/glance-base/'
              'extend_start.sh')

BUILDABLE = ['base', 'glance-api', 'glance-base', 'nova-api', 'nova-base',
             'openstack-base']


def git(tree, *args):
    return subprocess.run(
        ['git', '-C', tree, *args], check=True, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=dict(os.environ, GIT_AUTHOR_NAME='t', GIT_AUTHOR_EMAIL='t@t',
                 GIT_COMMITTER_NAME='t', GIT_COMMITTER_EMAIL='t@t')
    ).stdout.decode().strip()


def write(tree, path, text, executable=False):
    full = os.path.join(tree, path)
    os.makedirs(os.path.dirname(full), exist_ok=True)
    with open(full, 'w') as f:
        f.write(text)
    os.chmod(full, 0o755 if executable else 0o644)


def make(tree):
    """A Kolla checkout in ``tree`` with one commit; its id."""
    os.makedirs(tree)
    git(tree, 'init', '-q', '-b', 'master')
    package = os.path.dirname(kolla.__file__)
    shutil.copytree(package, os.path.join(tree, 'kolla'), ignore=(
        shutil.ignore_patterns('__pycache__', 'docker', 'tests')))
    for path, text in IMAGES.items():
        write(tree, path, text, path in EXECUTABLE)
    return commit(tree, 'Small Kolla')


def commit(tree, message):
    git(tree, 'add', '-A')
    git(tree, 'commit', '-q', '--allow-empty', '-m', message)
    return git(tree, 'rev-parse', 'HEAD')


def change(tree, base, message, edits=(), removals=(), modes=()):
    """A commit on top of ``base`` (left detached): edits are (path, text)
    pairs, appended to the file when text starts with '+'."""
    git(tree, 'checkout', '-q', '--detach', base)
    for path, text in edits:
        full = os.path.join(tree, path)
        if text.startswith('+'):
            with open(full, 'a') as f:
                f.write(text[1:])
        else:
            write(tree, path, text)
    for path in removals:
        os.unlink(os.path.join(tree, path))
    for path, mode in modes:
        os.chmod(os.path.join(tree, path), mode)
    return commit(tree, message)
