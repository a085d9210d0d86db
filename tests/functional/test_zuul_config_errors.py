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

import yaml

from tests import base
from tests.functional.harness import gitrepos
from tests.functional.harness import processes
from tests.functional.harness import zuul_services

REPO = base.REPO
TENANT = 'arm64'
THIS_PROJECT = 'nodepool-aarch64'
SITE_PROJECT = 'site-config'
# What a site provides and this repository expects; deliberately small.
SITE_CONFIG = gitrepos.SITE_PIPELINES + """\
- job:
    name: base
    parent: null
"""


class TestZuulLoadsThisRepository(zuul_services.ZuulTestCase):
    def test_no_configuration_errors(self):
        git_root = os.path.join(self.base, 'git')
        gitrepos.make_repo(os.path.join(git_root, SITE_PROJECT),
                           files={'zuul.d/site.yaml': SITE_CONFIG})
        gitrepos.make_repo(os.path.join(git_root, THIS_PROJECT),
                           trees=('zuul.d', 'playbooks', 'roles'))
        required = gitrepos.required_projects(loaded=[THIS_PROJECT])
        for project in required:
            gitrepos.make_repo(os.path.join(git_root, project))
        self.start_zuul([{'tenant': {
                'name': TENANT,
                'source': {'git': {
                    'config-projects': [SITE_PROJECT, THIS_PROJECT],
                    'untrusted-projects': required,
                }},
            }}], git_root, TENANT)

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
