"""Git repositories a test's Zuul reads through its ``git`` connection.

Zuul's git driver reads ``file://`` URLs; a repository here is a plain
working tree, so a test "pushes" by committing in it, and the driver's
poller sees the branch move and emits a ``ref-updated`` event, as it
would for a push to a real server.
"""

import os
import shutil
import subprocess

import yaml

from tests import base

REPO = base.REPO


def git(*args, cwd, env=None):
    return subprocess.run(
        ['git', '-c', 'user.name=Functional Test',
         '-c', 'user.email=functional@example.invalid'] + list(args),
        cwd=cwd, check=True, capture_output=True, text=True,
        env=dict(os.environ, **(env or {}))).stdout


def _write_files(path, files):
    for rel, text in (files or {}).items():
        target = os.path.join(path, rel)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with open(target, 'w') as f:
            f.write(text)


def make_repo(path, files=None, trees=()):
    """A git repository at ``path`` with ``files`` {relpath: text} and
    copies of the directory ``trees`` (paths relative to this repo).
    ``files`` are written after the trees, so they can replace a file
    of a copied tree."""
    os.makedirs(path)
    git('init', '-q', '-b', 'master', '.', cwd=path)
    for tree in trees:
        source = os.path.join(REPO, tree)
        if os.path.isdir(source):
            shutil.copytree(source, os.path.join(path, tree))
    _write_files(path, files)
    if not files and not trees:
        _write_files(path, {'README': 'empty\n'})
    git('add', '-A', cwd=path)
    git('commit', '-q', '-m', 'Initial state', cwd=path)


def push(path, files, message='Update'):
    """Commit ``files`` {relpath: text} on master; returns the new sha."""
    _write_files(path, files)
    git('add', '-A', cwd=path)
    git('commit', '-q', '-m', message, cwd=path)
    return git('rev-parse', 'HEAD', cwd=path).strip()


class _AnyTagLoader(yaml.SafeLoader):
    """Reads a project's zuul.d whatever its tags (a consumer's secrets
    are ``!encrypted/pkcs1-oaep``): only the structure is wanted."""


_AnyTagLoader.add_multi_constructor(
    '!', lambda loader, suffix, node: None)


def zuul_stanzas(zuul_d):
    """(kind, body) of every stanza in ``zuul_d`` and its folders."""
    for top, dirs, files in os.walk(zuul_d):
        dirs.sort()
        for name in sorted(files):
            if not name.endswith(('.yaml', '.yml')):
                continue
            with open(os.path.join(top, name)) as f:
                stanzas = yaml.load(f, Loader=_AnyTagLoader) or []
            for stanza in stanzas:
                if isinstance(stanza, dict) and len(stanza) == 1:
                    [(kind, body)] = stanza.items()
                    yield kind, body or {}


def required_projects(loaded=(), zuul_d=os.path.join(REPO, 'zuul.d')):
    """Every project a job in ``zuul_d`` (this repository's, by default)
    requires, but the ``loaded`` ones (a job may require its own
    repository: the image-build job installs the boot check from it)."""
    names = set()
    for kind, body in zuul_stanzas(zuul_d):
        for project in body.get('required-projects', []) \
                if kind == 'job' else []:
            if isinstance(project, dict):
                project = project['name']
            names.add(project)
    return sorted(names - set(loaded))


# The pipelines a site provides that this repository's project templates
# name (check-arm64 is this repository's own); deliberately small.
SITE_PIPELINES = """\
- pipeline:
    name: check
    manager: independent
    trigger:
      gerrit:
        - event: patchset-created
- pipeline:
    name: gate
    manager: dependent
    trigger:
      gerrit:
        - event: comment-added
          approval:
            - Workflow: 1
- pipeline:
    name: experimental
    manager: independent
    precedence: low
    trigger:
      gerrit:
        - event: comment-added
          comment: (?i)^\\s*check experimental\\s*$
"""
