"""A real Zuul takes the rendered image-build jobs as a site would.

The site's config project holds what ``nodepool-aarch64 render`` writes
for zuul-launcher images (the ``image`` objects, one build job per Arm64
image and the ``linaro-arm64-image-build`` template) and an
``image-build`` pipeline; this repository supplies the abstract build
job, its playbooks and the ``uefi-boot-check`` role.  zuul-web must
report no configuration error and must freeze every build job in the
``image-build`` pipeline: freezing is where Zuul checks that an image's
build job is attached by the project that defines the image.
"""

import os

import yaml

from nodepool_aarch64.inventory import load
from nodepool_aarch64.render import zuul as render_zuul
from tests.functional.harness import gitrepos
from tests.functional import test_zuul_config_errors as loads
from tests.functional.harness import zuul_services

IMAGE_BUILD_PIPELINE = """\
- pipeline:
    name: image-build
    manager: independent
    trigger:
      zuul:
        - event: image-build
    success:
      zuul:
        image-built: true
        image-validated: true
"""


def _site_files():
    inv = load.load_inventory()
    images = [o for o in render_zuul.launcher_objects(inv) if 'image' in o]
    rendered = images + render_zuul.image_build_objects(inv)
    project = [{'project': {
        'templates': [render_zuul.IMAGE_BUILD_TEMPLATE]}}]
    return inv, {
        'zuul.d/site.yaml': loads.SITE_CONFIG + IMAGE_BUILD_PIPELINE,
        'zuul.d/zuul-launcher.yaml': yaml.safe_dump(rendered),
        'zuul.d/project.yaml': yaml.safe_dump(project),
    }


class TestRenderedImageBuildJobs(zuul_services.ZuulTestCase):
    def test_image_build_jobs_load_and_freeze(self):
        inv, site_files = _site_files()
        git_root = os.path.join(self.base, 'git')
        gitrepos.make_repo(os.path.join(git_root, loads.SITE_PROJECT),
                           files=site_files)
        gitrepos.make_repo(os.path.join(git_root, loads.THIS_PROJECT),
                           trees=('zuul.d', 'playbooks', 'roles'))
        required = gitrepos.required_projects(loaded=[loads.THIS_PROJECT])
        for project in required:
            gitrepos.make_repo(os.path.join(git_root, project))
        self.start_zuul([{'tenant': {
                'name': loads.TENANT,
                'source': {'git': {
                    'config-projects': [loads.SITE_PROJECT,
                                        loads.THIS_PROJECT],
                    'untrusted-projects': required,
                }},
            }}], git_root, loads.TENANT)

        tenant = f'/tenant/{loads.TENANT}'
        errors = self.zuul.get(f'{tenant}/config-errors')
        self.assertEqual([], ['%s: %s' % (e.get('source_context'),
                                          e.get('error')) for e in errors])
        frozen = self.zuul.get(
            f'{tenant}/pipeline/image-build/project/{loads.SITE_PROJECT}'
            '/branch/master/freeze-jobs')
        arm64 = [i for i in inv.diskimages.values() if i.is_arm64]
        self.assertEqual(
            sorted(render_zuul.image_build_job_name(i) for i in arm64),
            sorted(job['name'] for job in frozen))
        image = arm64[0]
        job = self.zuul.get(
            f'{tenant}/pipeline/image-build/project/{loads.SITE_PROJECT}'
            f'/branch/master/freeze-job/'
            f'{render_zuul.image_build_job_name(image)}')
        self.assertEqual(list(image.elements),
                         job['vars']['nodepool_aarch64_image_elements'])
        self.assertEqual(['playbooks/image-build/run.yaml'],
                         [p['path'] for p in job['playbooks']])
