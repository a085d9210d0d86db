"""The rendered image-build jobs and template for zuul-launcher."""

import os
import re

import yaml

from nodepool_aarch64 import model
from nodepool_aarch64.inventory import load_inventory
from nodepool_aarch64.render import zuul as render_zuul
from tests import base
from tests import zuulparse


def _stanzas(objects, kind):
    return [o[kind] for o in objects if kind in o]


class TestImageBuildObjects(base.TestCase):

    def setUp(self):
        super().setUp()
        self.inv = load_inventory()
        self.objects = render_zuul.image_build_objects(self.inv)
        self.jobs = {j['name']: j for j in _stanzas(self.objects, 'job')}

    def test_one_build_job_per_arm64_image(self):
        arm64 = [i for i in self.inv.diskimages.values() if i.is_arm64]
        self.assertTrue(arm64)
        self.assertEqual(sorted(i.name for i in arm64),
                         sorted(j['image-build-name']
                                for j in self.jobs.values()))
        for image in arm64:
            job = self.jobs[render_zuul.image_build_job_name(image)]
            self.assertEqual(render_zuul.IMAGE_BUILD_JOB, job['parent'])
            variables = job['vars']
            self.assertIn(model.EFI_ELEMENT,
                          variables['nodepool_aarch64_image_elements'])
            self.assertEqual(image.release,
                             variables['nodepool_aarch64_image_env']
                             ['DIB_RELEASE'])
            self.assertEqual('arm64',
                             variables['nodepool_aarch64_image_env']['ARCH'])

    def test_every_build_job_names_a_zuul_image(self):
        images = {i['name']: i for i in _stanzas(
            render_zuul.launcher_objects(self.inv), 'image')}
        for job in self.jobs.values():
            self.assertEqual('zuul', images[job['image-build-name']]['type'])

    def test_template_runs_them_in_the_image_build_pipeline(self):
        [template] = _stanzas(self.objects, 'project-template')
        self.assertEqual(render_zuul.IMAGE_BUILD_TEMPLATE, template['name'])
        self.assertEqual(sorted(self.jobs),
                         sorted(template['image-build']['jobs']))

    def test_the_parent_job_exists_and_documents_the_variables(self):
        with open(os.path.join(zuulparse.ZUUL_D, 'image-build.yaml')) as f:
            parents = {s['job']['name']: s['job'] for s in yaml.safe_load(f)}
        parent = parents[render_zuul.IMAGE_BUILD_JOB]
        self.assertTrue(parent['abstract'])
        documented = set(re.findall(r'zuul:jobvar:: (\S+)',
                                    parent['description']))
        for job in self.jobs.values():
            self.assertLessEqual(set(job['vars']), documented)
