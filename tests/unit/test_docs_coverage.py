"""Every job and role is documented where zuul-sphinx looks.

``tox -e docs`` renders the jobs' descriptions and the roles' README.rst
files with zuul-sphinx, warnings as errors; these tests catch what a
build cannot: a job without a description, a role variable without a
``zuul:rolevar`` entry.
"""

import os
import re

import testtools
import yaml

from tests import zuulparse

ROLES = os.path.join(zuulparse.REPO_ROOT, 'roles')


class TestDocsCoverage(testtools.TestCase):

    def test_every_job_has_a_description(self):
        for path in zuulparse.zuul_d_files():
            with open(path) as f:
                for stanza in yaml.safe_load(f):
                    job = stanza.get('job')
                    if job is not None:
                        self.assertTrue(job.get('description', '').strip(),
                                        f'{path}: {job["name"]}')

    def test_every_role_variable_is_documented(self):
        roles = sorted(os.listdir(ROLES))
        self.assertIn('configure-region-mirror', roles)
        for role in roles:
            with open(os.path.join(ROLES, role, 'README.rst')) as f:
                readme = f.read()
            self.assertIn('**Role Variables**', readme, role)
            documented = set(re.findall(r'^\.\. zuul:rolevar:: (\S+)',
                                        readme, re.M))
            with open(os.path.join(ROLES, role, 'defaults',
                                   'main.yaml')) as f:
                defaults = yaml.safe_load(f) or {}
            for var in defaults:
                self.assertTrue(var.startswith(role.replace('-', '_') + '_'),
                                f'{role}: {var} is not prefixed with the '
                                'role name')
                self.assertIn(var, documented, f'{role}: {var}')
