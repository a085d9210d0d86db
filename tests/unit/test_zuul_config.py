"""zuul.d loads with Zuul's own parser, and every reference resolves."""

import glob
import os
import shutil
import tempfile

import fixtures
import testtools
import yaml

from tests import base
from tests import zuulparse

# Jobs this repo builds on but a tenant provides: the tenant's base job
# (OpenDev keeps it in opendev/base-jobs) sets up the node's SSH keys,
# git repos and log upload.
TENANT_PROVIDED_JOBS = {'base'}
# Pipelines a tenant defines; check-arm64 is ours.
TENANT_PROVIDED_PIPELINES = {'check', 'gate', 'experimental'}

STAGE_TEMPLATES = ('kolla-aarch64-experimental',
                   'kolla-aarch64-check-arm64',
                   'kolla-aarch64-gate')


class ZuulConfig:
    """All stanzas of zuul.d, parsed once per test class."""

    def __init__(self, files):
        self.files = files
        self.jobs = {}
        self.nodesets = {}
        self.templates = {}
        self.pipelines = {}
        for f in files:
            for job in f.parsed.jobs:
                self.jobs.setdefault(job.name, []).append(job)
            for nodeset in f.parsed.nodesets:
                self.nodesets[nodeset.name] = nodeset
            for template in f.parsed.project_templates:
                self.templates[template.name] = template
            for pipeline in f.parsed.pipelines:
                self.pipelines[pipeline.name] = pipeline

    def template_jobs(self, template):
        """{pipeline: {job name: [variants]}} of a project-template."""
        return {name: dict(ppc.job_list.jobs)
                for name, ppc in self.templates[template].pipelines.items()}


def load_zuul_d():
    return ZuulConfig(zuulparse.parse_files(zuulparse.zuul_d_files()))


def published_labels():
    """Labels the shipped inventory publishes, read back from Nodepool.

    The labels are taken from the rendered Nodepool launcher config
    (pool labels), not from the inventory's own format, so this stays
    true to what a launcher would actually serve.
    """
    outdir = tempfile.mkdtemp()
    try:
        rc, _, err = base.run_cli('render', '--output-dir', outdir)
        assert rc == 0, f'render exited {rc}: {err}'
        labels = set()
        for path in glob.glob(os.path.join(outdir, 'nodepool', '*.yaml')):
            with open(path) as f:
                config = yaml.safe_load(f) or {}
            for provider in config.get('providers') or []:
                for pool in provider.get('pools') or []:
                    labels.update(label['name']
                                  for label in pool.get('labels') or [])
        return labels
    finally:
        shutil.rmtree(outdir)


class TestParse(testtools.TestCase):
    """Zuul's own parser accepts every zuul.d file."""

    def test_every_file_parses_without_errors(self):
        files = zuulparse.parse_files(zuulparse.zuul_d_files())
        self.assertGreater(len(files), 0)
        errors = [zuulparse.describe(e) for f in files for e in f.errors]
        self.assertEqual([], errors)

    def test_every_stanza_was_parsed(self):
        # A stanza the parser skipped would hide behind zero errors.
        config = load_zuul_d()
        for f in config.files:
            with open(os.path.join(zuulparse.REPO_ROOT, f.path)) as fh:
                raw = yaml.safe_load(fh)
            parsed = sum(len(v) for k, v in vars(f.parsed).items()
                         if isinstance(v, list) and not k.endswith('errors'))
            self.assertEqual(len(raw), parsed, f.path)

    def test_parser_reports_broken_stanzas(self):
        # The same parser, fed a broken pipeline and job, must complain;
        # otherwise "zero errors" above proves nothing.
        tmp = self.useFixture(fixtures.TempDir()).path
        path = os.path.join(tmp, 'broken.yaml')
        with open(path, 'w') as f:
            f.write('- pipeline:\n'
                    '    name: check-arm64\n'
                    '    manager: independent\n'
                    '    trigger:\n'
                    '      github:\n'
                    '        - event: pull_request\n'
                    '- job:\n'
                    '    name: broken\n'
                    '    timeout: three hours\n')
        [parsed] = zuulparse.parse_files([path])
        text = '\n'.join(zuulparse.describe(e) for e in parsed.errors)
        self.assertEqual(2, len(parsed.errors), text)
        self.assertIn("['github']", text)
        self.assertIn("['timeout']", text)


class TestReferences(testtools.TestCase):
    """What Zuul checks only when a whole tenant loads."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.config = load_zuul_d()

    def test_every_parent_exists(self):
        for name, variants in self.config.jobs.items():
            for job in variants:
                if job.parent is None:
                    continue
                self.assertTrue(job.parent in self.config.jobs
                                or job.parent in TENANT_PROVIDED_JOBS,
                                f'{name}: parent {job.parent} not defined')

    def test_every_dependency_exists(self):
        for name, variants in self.config.jobs.items():
            for job in variants:
                for dep in job.dependencies:
                    self.assertIn(dep.name, self.config.jobs,
                                  f'{name}: dependency {dep.name}')

    def test_every_nodeset_exists(self):
        used = set()
        for name, variants in self.config.jobs.items():
            for job in variants:
                if isinstance(job.nodeset, str):
                    used.add(job.nodeset)
                    self.assertIn(job.nodeset, self.config.nodesets,
                                  f'{name}: nodeset {job.nodeset}')
        self.assertIn('ubuntu-bionic-arm64', used)

    def test_every_playbook_exists(self):
        paths = set()
        for variants in self.config.jobs.values():
            for job in variants:
                for playbooks in (job.pre_run, job.run, job.post_run,
                                  job.cleanup_run):
                    paths.update(p.path for p in playbooks)
        self.assertGreater(len(paths), 3)
        for path in sorted(paths):
            self.assertTrue(
                os.path.isfile(os.path.join(zuulparse.REPO_ROOT, path)),
                f'playbook {path} does not exist')

    def test_every_template_job_exists(self):
        for template in self.config.templates:
            for pipeline, jobs in self.config.template_jobs(
                    template).items():
                self.assertTrue(
                    pipeline in self.config.pipelines
                    or pipeline in TENANT_PROVIDED_PIPELINES, pipeline)
                for job in jobs:
                    self.assertIn(job, self.config.jobs,
                                  f'{template}/{pipeline}: {job}')

    def test_template_jobs_bring_their_dependencies(self):
        # Zuul refuses a buildset in which a job's hard dependency is
        # not run in the same pipeline.
        for template in self.config.templates:
            for pipeline, jobs in self.config.template_jobs(
                    template).items():
                for job in jobs:
                    for variant in self.config.jobs[job]:
                        for dep in variant.dependencies:
                            self.assertIn(dep.name, jobs,
                                          f'{template}/{pipeline}: {job}')

    def test_every_label_is_published_by_the_shipped_inventory(self):
        labels = published_labels()
        if labels is None:
            self.skipTest('the renderer (nodepool-aarch64 render) is not '
                          'in this tree')
        for name, nodeset in self.config.nodesets.items():
            for node in nodeset.nodes.values():
                self.assertIn(node.label, labels,
                              f'nodeset {name}: label {node.label}')


class TestStages(testtools.TestCase):
    """Moving Kolla between stages is one name in its project stanza."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.config = load_zuul_d()

    def stage(self, template):
        return self.config.template_jobs(template)

    def test_each_stage_runs_the_same_jobs(self):
        job_sets = [set(jobs) for template in STAGE_TEMPLATES
                    for jobs in self.stage(template).values()]
        self.assertEqual(4, len(job_sets))
        for jobs in job_sets:
            self.assertEqual(job_sets[0], jobs)
        self.assertLessEqual({'kolla-build-debian-source-aarch64',
                              'kolla-build-ubuntu-source-aarch64',
                              'kolla-ansible-debian-source-aarch64'},
                             job_sets[0])

    def test_stage_pipelines_and_voting(self):
        expected = {
            'kolla-aarch64-experimental': ({'experimental'}, True),
            'kolla-aarch64-check-arm64': ({'check-arm64'}, False),
            'kolla-aarch64-gate': ({'check', 'gate'}, True),
        }
        for template, (pipelines, voting) in expected.items():
            stage = self.stage(template)
            self.assertEqual(pipelines, set(stage))
            for jobs in stage.values():
                for variants in jobs.values():
                    self.assertEqual([voting], [v.voting for v in variants])


class TestJobs(testtools.TestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.config = load_zuul_d()

    def ancestry(self, name):
        """Unbranched variants from the job up to the tenant's base."""
        chain = []
        while name in self.config.jobs:
            job = self.config.jobs[name][0]
            chain.append(job)
            name = job.parent
        return chain

    def inherited(self, name, attr):
        for job in self.ancestry(name):
            value = getattr(job, attr)
            if value not in (None, (), {}):
                return value
        return None

    def test_arm64_base_applies_the_mirror_role_before_anything(self):
        [base] = self.config.jobs['base-arm64']
        self.assertEqual('base', base.parent)
        self.assertEqual(['playbooks/arm64/pre.yaml'],
                         [p.path for p in base.pre_run])
        self.assertGreater(base.timeout, 1800)
        with open(os.path.join(zuulparse.REPO_ROOT,
                               'playbooks/arm64/pre.yaml')) as f:
            play = yaml.safe_load(f)
        roles = [r if isinstance(r, str) else r['role']
                 for p in play for r in p.get('roles', [])]
        self.assertEqual('configure-region-mirror', roles[0])

    def test_every_arm64_job_inherits_the_base(self):
        for name in self.config.jobs:
            if name == 'base-arm64':
                continue
            chain = [j.name for j in self.ancestry(name)]
            self.assertIn('base-arm64', chain, name)

    def test_kolla_builds(self):
        for name in ('kolla-build-debian-source-aarch64',
                     'kolla-build-ubuntu-source-aarch64'):
            variables = {}
            for job in reversed(self.ancestry(name)):
                variables.update(job.variables)
            self.assertEqual('aarch64', variables['kolla_base_arch'])
            self.assertEqual('-aarch64', variables['kolla_tag_suffix'])
            self.assertGreaterEqual(self.inherited(name, 'timeout'), 10800)
            self.assertTrue(self.inherited(name, 'nodeset').endswith(
                '-arm64-large'), name)

    def test_kolla_deploy_needs_the_built_images(self):
        for job in self.config.jobs['kolla-ansible-debian-source-aarch64']:
            self.assertIn('kolla-build-debian-source-aarch64',
                          {d.name for d in job.dependencies})

    def pre_runs(self, name):
        """Pre-run playbook paths of each variant of ``name``, inner
        job first."""
        return [[p.path for p in job.pre_run]
                for job in self.config.jobs[name]]

    def test_kolla_docker_comes_before_the_python_tools(self):
        both = ['playbooks/kolla/docker.yaml', 'playbooks/kolla/pre.yaml']
        for name in ('kolla-build-aarch64-base', 'kolla-ansible-aarch64-base'):
            self.assertEqual([both], self.pre_runs(name), name)

    def test_the_buildset_registry_needs_no_docker(self):
        # Debian's docker-registry package from the region's mirror: no
        # dockerd, and no image from Docker Hub.
        self.assertEqual([[]],
                         self.pre_runs('kolla-aarch64-buildset-registry'))
        with open(os.path.join(zuulparse.REPO_ROOT,
                               'playbooks/kolla/registry.yaml')) as f:
            text = f.read()
        self.assertIn('name: docker-registry', text)
        self.assertNotIn('docker run', text)

    def test_kolla_dockerfiles_need_no_docker(self):
        name = 'kolla-dockerfiles-aarch64'
        self.assertEqual([['playbooks/kolla/pre.yaml']],
                         self.pre_runs(name))
        [job] = self.config.jobs[name]
        self.assertEqual([], [d.name for d in job.dependencies])
        self.assertEqual('debian-bookworm-arm64', job.nodeset)
        self.assertEqual('aarch64', job.variables['kolla_base_arch'])
        self.assertLessEqual(job.timeout, 3600)
        with open(os.path.join(zuulparse.REPO_ROOT,
                               'playbooks/kolla/dockerfiles.yaml')) as f:
            text = f.read()
        self.assertIn("'--template-only'", text)
        self.assertNotIn('docker ', text)

    def test_rocky_variants_run_on_rocky_era_nodes(self):
        for name, nodeset in (
                ('kolla-build-debian-source-aarch64', 'debian-stretch-arm64'),
                ('kolla-build-ubuntu-source-aarch64', 'ubuntu-bionic-arm64'),
                ('kolla-ansible-debian-source-aarch64',
                 'debian-stretch-arm64')):
            variants = [j for j in self.config.jobs[name]
                        if j.nodeset == nodeset]
            self.assertEqual(1, len(variants), name)
            matcher = variants[0].explicit_branch_matcher
            self.assertEqual(['^stable/rocky$'],
                             [m._regex for m in matcher.matchers], name)


class TestCheckArm64Pipeline(testtools.TestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.pipeline = load_zuul_d().pipelines['check-arm64']

    def test_independent_low_precedence(self):
        from zuul import model
        self.assertEqual('independent', self.pipeline.manager_name)
        self.assertEqual(model.PRECEDENCE_LOW, self.pipeline.precedence)

    def test_reports_without_a_vote(self):
        actions = (self.pipeline.start_actions
                   + self.pipeline.success_actions
                   + self.pipeline.failure_actions)
        self.assertEqual(3, len(actions))
        for reporter in actions:
            self.assertEqual({}, reporter._labels)
            self.assertFalse(reporter._submit)

    def comment_matches(self, text):
        # The pipeline's own Gerrit event filters judge a real event.
        from zuul.driver.gerrit.gerritmodel import GerritTriggerEvent
        event = GerritTriggerEvent()
        event.connection_name = 'gerrit'
        event.type = 'comment-added'
        event.branch = 'master'
        event.ref = 'refs/changes/01/1001/3'
        event.comment = text
        return any(f.matches(event, None)
                   for f in self.pipeline.event_filters)

    def test_recheck_comments(self):
        for text in ('recheck', 'check arm64', 'Check ARM64',
                     'Patch Set 3:\n\ncheck arm64',
                     'Patch Set 3: Code-Review+1\n\nrecheck'):
            self.assertTrue(self.comment_matches(text), text)
        for text in ('check experimental', 'recheck please, it was a '
                     'network glitch', 'Patch Set 3:\n\nLooks good'):
            self.assertFalse(self.comment_matches(text), text)
