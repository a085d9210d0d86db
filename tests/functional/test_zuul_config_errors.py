"""A real Zuul loads this repository as a config project without errors.

Zuul's parser run stanza by stanza (the unit tests) does not resolve
cross-references: a job's parent, a template's pipeline, a required
project.  Here a real merger, scheduler and zuul-web load the
repository's zuul.d the way a site would, next to a minimal site config
project (the ``base`` job and the ``check``, ``gate`` and
``experimental`` pipelines every Zuul site defines) and an empty
repository for each project the jobs require, and zuul-web's API must
report no configuration error.
"""

import os
import shutil
import subprocess

import fixtures
import testtools
import yaml

from tests.functional import artefacts
from tests.functional import processes
from tests.functional import zookeeper as zookeeper_mod
from tests.functional import zuul_services

REPO = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
TENANT = 'arm64'
THIS_PROJECT = 'nodepool-aarch64'
SITE_PROJECT = 'site-config'
# What a site provides and this repository expects; deliberately small.
SITE_CONFIG = """\
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
- job:
    name: base
    parent: null
"""


def _git(*args, cwd):
    subprocess.run(
        ['git', '-c', 'user.name=Functional Test',
         '-c', 'user.email=functional@example.invalid'] + list(args),
        cwd=cwd, check=True, capture_output=True)


def _make_repo(path, files=None, trees=()):
    """A git repository at ``path`` with ``files`` {relpath: text} and
    copies of the directory ``trees`` (paths relative to this repo)."""
    os.makedirs(path)
    _git('init', '-q', '-b', 'master', '.', cwd=path)
    for rel, text in (files or {}).items():
        target = os.path.join(path, rel)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with open(target, 'w') as f:
            f.write(text)
    for tree in trees:
        source = os.path.join(REPO, tree)
        if os.path.isdir(source):
            shutil.copytree(source, os.path.join(path, tree))
    if not files and not trees:
        with open(os.path.join(path, 'README'), 'w') as f:
            f.write('empty\n')
    _git('add', '-A', cwd=path)
    _git('commit', '-q', '-m', 'Initial state', cwd=path)


def _required_projects():
    names = set()
    zuul_d = os.path.join(REPO, 'zuul.d')
    for name in sorted(os.listdir(zuul_d)):
        if not name.endswith('.yaml'):
            continue
        with open(os.path.join(zuul_d, name)) as f:
            for stanza in yaml.safe_load(f) or []:
                job = stanza.get('job') if isinstance(stanza, dict) else None
                for project in (job or {}).get('required-projects', []):
                    if isinstance(project, dict):
                        project = project['name']
                    names.add(project)
    # A job may require this repository itself (the image-build job
    # installs the boot check from it); it is loaded already.
    names.discard(THIS_PROJECT)
    return sorted(names)


class TestZuulLoadsThisRepository(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.base = self.useFixture(fixtures.TempDir()).path
        self.zookeeper = None
        self.zuul = None
        artefacts.keep_on_failure(self, self._artefacts)

    def _artefacts(self):
        paths = []
        if self.zookeeper is not None:
            paths.append(self.zookeeper.log_path)
        if self.zuul is not None:
            paths += self.zuul.log_paths + [self.zuul.config_path]
        return paths

    def test_no_configuration_errors(self):
        git_root = os.path.join(self.base, 'git')
        _make_repo(os.path.join(git_root, SITE_PROJECT),
                   files={'zuul.d/site.yaml': SITE_CONFIG})
        _make_repo(os.path.join(git_root, THIS_PROJECT),
                   trees=('zuul.d', 'playbooks', 'roles'))
        required = _required_projects()
        for project in required:
            _make_repo(os.path.join(git_root, project))
        tenant_config = os.path.join(self.base, 'main.yaml')
        with open(tenant_config, 'w') as f:
            yaml.safe_dump([{'tenant': {
                'name': TENANT,
                'source': {'git': {
                    'config-projects': [SITE_PROJECT, THIS_PROJECT],
                    'untrusted-projects': required,
                }},
            }}], f)

        self.zookeeper = self.useFixture(
            zookeeper_mod.TLSZooKeeper(self.base))
        self.zuul = self.useFixture(zuul_services.Zuul(
            os.path.join(self.base, 'zuul'), self.zookeeper,
            tenant_config, git_root))
        self.zuul.wait_for_tenant(TENANT)

        errors = self.zuul.get('/tenant/%s/config-errors' % TENANT)
        self.assertEqual([], [
            '%s: %s' % (e.get('source_context'), e.get('error'))
            for e in errors])
        # The repository's own objects were loaded, not just nothing.
        jobs = {j['name'] for j in self.zuul.get('/tenant/%s/jobs' % TENANT)}
        with open(os.path.join(REPO, 'zuul.d', 'jobs.yaml')) as f:
            ours = {s['job']['name'] for s in yaml.safe_load(f)
                    if 'job' in s}
        self.assertTrue(ours)
        self.assertLessEqual(ours, jobs)
        pipelines = {p['name'] for p in self.zuul.get(
            '/tenant/%s/pipelines' % TENANT)}
        self.assertIn('check-arm64', pipelines)
        for name, proc in self.zuul.procs.items():
            for host, port in processes.listening_addresses(proc.pid):
                self.assertTrue(
                    processes.is_loopback(host),
                    'zuul-%s listens on %s:%d' % (name, host, port))
