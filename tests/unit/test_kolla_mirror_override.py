"""The Kolla build job's region-mirror template override, rendered by
Kolla's own templating on a real Kolla revision (the history bundle next
to the repo), and the apt-source steps of the rendered Dockerfiles run in
order, the way Docker runs them, on a scratch /etc/apt.

A build job may stand on parents another build made (the periodic
publish, another region, another mirror).  What matters is what each
image's package installs fetch from, and what the image ships."""

import os
import re
import shutil
import subprocess

import jinja2

from nodepool_aarch64.kolla import render
from tests import base

# The bundle's last commit ("CI: publish aarch64 noble images").
KOLLA = '2f48991486693e5af5b0f71c696962d157e8a658'
OVERRIDE = os.path.join(base.REPO, 'playbooks', 'kolla', 'templates',
                        'region-mirror-overrides.j2')
IMAGES = ('base', 'openstack-base', 'glance-base', 'glance-api',
          'memcached')
SOURCES = 'etc/apt/sources.list.d/debian.sources'


def instructions(dockerfile):
    """(INSTRUCTION, arguments) of a Dockerfile, continuations joined."""
    text = re.sub(r'\\\n', ' ', dockerfile)
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith('#'):
            word, _, rest = line.partition(' ')
            yield word.upper(), rest


def uris(text):
    return sorted(re.findall(r'(?m)^URIs:\s*(\S+)', text))


class TestRegionMirrorOverride(base.TestCase):

    def setUp(self):
        super().setUp()
        self.kolla = base.kolla_history(self)
        self.upstream = subprocess.run(
            ['git', '-C', self.kolla, 'show',
             f'{KOLLA}:docker/base/debian.sources'],
            check=True, capture_output=True, text=True).stdout

    def rendered(self, mirror):
        """Kolla's Dockerfiles of IMAGES with the job's override, as the
        build job writes it for ``mirror``.  The override uses no Ansible
        filter, so Jinja alone renders it as the template task does."""
        with open(OVERRIDE) as f:
            override = jinja2.Template(f.read()).render(
                kolla_mirror_url=mirror)
        path = os.path.join(self.tempdir(), 'region-mirror.j2')
        with open(path, 'w') as f:
            f.write(override)
        args = render.kolla_args('debian', 'aarch64', ()) + [
            '--template-override', path, '^(%s)$' % '|'.join(IMAGES)]
        images = render.render(self.kolla, KOLLA, args).images
        return {name: images[name].dockerfile for name in IMAGES}

    def build(self, root, dockerfile):
        """Run the image's apt-source steps on ``root``, as the layers of
        a build on it would: the sources each of its package installs
        sees, then the sources it ships."""
        sources = os.path.join(root, SOURCES)
        seen = []
        for word, args in instructions(dockerfile):
            if word == 'COPY' and args.split()[0] == 'debian.sources':
                with open(sources, 'w') as f:
                    f.write(self.upstream)
            elif word == 'RUN' and 'debian.sources' in args:
                subprocess.run(['sh', '-ec', args.replace(
                    '/etc/apt/', root + '/etc/apt/')], check=True)
            elif (word == 'RUN' and 'apt-get' in args and 'install' in args
                  and os.path.exists(sources)):
                with open(sources) as f:
                    seen.append(uris(f.read()))
        with open(sources) as f:
            return seen, f.read()

    def test_each_image_fetches_from_its_own_builds_mirror(self):
        first = self.rendered('http://mirror-a:8080')
        second = self.rendered('http://mirror-b:9090')
        on_a = ['http://mirror-a:8080/debian',
                'http://mirror-a:8080/debian-security']
        on_b = ['http://mirror-b:9090/debian',
                'http://mirror-b:9090/debian-security']

        # The periodic job builds and publishes on mirror A.
        published_base = os.path.join(self.tempdir(), 'base')
        os.makedirs(os.path.join(published_base, 'etc/apt/sources.list.d'))
        seen, shipped = self.build(published_base, first['base'])
        self.assertTrue(seen)
        self.assertEqual([on_a] * len(seen), seen)
        self.assertEqual(self.upstream, shipped)
        published_glance = os.path.join(self.tempdir(), 'glance')
        shutil.copytree(published_base, published_glance,
                        dirs_exist_ok=True)
        for name in ('openstack-base', 'glance-base'):
            seen, _ = self.build(published_glance, first[name])
            self.assertEqual([on_a] * len(seen), seen, name)

        # A later build on mirror B reuses those parents: a leaf on base
        # and a leaf on glance-base, which has no footer and so ships
        # the sources it was built with.
        for parent, name in ((published_base, 'memcached'),
                             (published_glance, 'glance-api')):
            seen, shipped = self.build(parent, second[name])
            self.assertTrue(seen, name)
            self.assertEqual([on_b] * len(seen), seen, name)
            self.assertEqual(self.upstream, shipped, name)
