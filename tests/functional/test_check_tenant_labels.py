"""check --zuul-url against a real zuul-web serving a tenant's labels.

A real merger, scheduler and zuul-web load a config project whose
zuul-launcher ``label`` stanzas stand for the tenant's x86 labels; zuul-web
lists them at ``/api/tenant/<t>/labels``.  ``check`` then judges a
consumer's nodesets against the rendered Arm64 launchers and that list,
as a user runs it, in a subprocess.
"""

import os
import subprocess
import sys

import yaml

from nodepool_aarch64.formats.write import write_files
from nodepool_aarch64.inventory import load_inventory
from nodepool_aarch64.render import render_all
from tests.functional.harness import zuul_services
from tests.functional.harness.gitrepos import make_repo as _make_repo

TENANT = 'consumers'
SITE_PROJECT = 'site-config'
X86_LABELS = ('centos-8', 'ubuntu-bionic', 'debian-buster')
SITE_CONFIG = [{'image': {'name': 'x86-cloud-image', 'type': 'cloud'}},
               {'flavor': {'name': 'normal'}}] + [
    {'label': {'name': name, 'image': 'x86-cloud-image',
               'flavor': 'normal'}} for name in X86_LABELS]
# A consumer's nodesets: an x86 label the tenant serves, an Arm64 label
# the rendered launchers serve, and one label nobody serves (on three
# nodes, reported once).
CONSUMER = [
    {'nodeset': {'name': 'x86', 'nodes': [
        {'name': 'primary', 'label': 'centos-8'}]}},
    {'nodeset': {'name': 'arm64', 'nodes': [
        {'name': 'primary', 'label': 'ubuntu-noble-arm64'}]}},
    {'nodeset': {'name': 'multinode', 'nodes': [
        {'name': f'node{i}', 'label': 'fedora-40'} for i in range(3)]}},
]


class TestCheckAgainstZuulWeb(zuul_services.ZuulTestCase):
    def _start_zuul(self):
        git_root = os.path.join(self.base, 'git')
        _make_repo(os.path.join(git_root, SITE_PROJECT), files={
            'zuul.d/labels.yaml': yaml.safe_dump(SITE_CONFIG)})
        self.start_zuul([{'tenant': {
                'name': TENANT,
                'source': {'git': {'config-projects': [SITE_PROJECT]}},
            }}], git_root, TENANT)

    def _check(self, *args):
        return subprocess.run(
            [sys.executable, '-m', 'nodepool_aarch64.cli', 'check'] +
            list(args), capture_output=True, text=True, timeout=120)

    def test_tenant_labels_from_zuul_web(self):
        self._start_zuul()
        listed = {x['name'] for x in
                  self.zuul.get('/tenant/%s/labels' % TENANT)}
        self.assertLessEqual(set(X86_LABELS), listed)

        rendered = os.path.join(self.base, 'rendered')
        write_files(rendered, render_all(load_inventory()))
        consumer = os.path.join(self.base, 'consumer.yaml')
        with open(consumer, 'w') as f:
            yaml.safe_dump(CONSUMER, f)
        site = self.zuul.api[:-len('/api')]
        proc = self._check('--zuul-url', site, '--tenant', TENANT,
                           os.path.join(rendered, 'nodepool'), consumer)
        self.assertEqual(1, proc.returncode, proc.stdout + proc.stderr)
        lines = proc.stdout.splitlines()
        self.assertEqual(1, len(lines), proc.stdout)
        self.assertIn('NPA010 error: nodeset multinode asks for label '
                      f'fedora-40, which no launcher pool in this config '
                      f'set serves and tenant {TENANT} at {site} does not '
                      f'list', lines[0])

        # The tenant's list alone, without any launcher file, and the
        # API address as zuul-web's own links give it.
        proc = self._check('--zuul-url', self.zuul.api, '--tenant', TENANT,
                           consumer)
        self.assertEqual(1, proc.returncode, proc.stderr)
        self.assertEqual(['arm64', 'multinode'], sorted(
            line.split('nodeset ')[1].split()[0]
            for line in proc.stdout.splitlines()))
        self.assertNotIn('NOT checked', proc.stderr)

        proc = self._check('--zuul-url', site, '--tenant', 'nosuch',
                           consumer)
        self.assertEqual((2, ''), (proc.returncode, proc.stdout))
        self.assertIn("zuul-web knows no tenant 'nosuch' (HTTP 404)",
                      proc.stderr)
        self.assertEqual(1, len(proc.stderr.splitlines()), proc.stderr)
