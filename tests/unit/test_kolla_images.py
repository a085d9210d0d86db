"""kolla-images on small Kolla trees: what a change builds, and why."""

import json
import os
import subprocess
import sys
import tarfile

import fixtures
import testtools

from nodepool_aarch64.kolla import affected
from nodepool_aarch64.kolla import context
from nodepool_aarch64.kolla import render
from nodepool_aarch64.kolla import select
from tests import base
from tests.unit import kollatree

ARGS = render.kolla_args('debian', 'aarch64', ())


class KollaTreeCase(base.TestCase):
    """One small Kolla per test class; each rendering is made once."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._fixture = fixtures.TempDir()
        cls._fixture.setUp()
        cls.tree = os.path.join(cls._fixture.path, 'kolla')
        cls.base_commit = kollatree.make(cls.tree)
        cls.renderings = {}

    @classmethod
    def tearDownClass(cls):
        cls._fixture.cleanUp()
        super().tearDownClass()

    def renderer(self, commit):
        if commit not in self.renderings:
            self.renderings[commit] = render.render(self.tree, commit, ARGS)
        return self.renderings[commit]

    def select(self, head, base_rev=None):
        return affected.affected(self.tree, base_rev or self.base_commit,
                                 head, renderer=self.renderer)

    def change(self, message, **kwargs):
        return kollatree.change(self.tree, self.base_commit, message,
                                **kwargs)


class TestRendering(KollaTreeCase):

    def test_renders_the_buildable_set_with_parents(self):
        rendering = self.renderer(self.base_commit)
        self.assertEqual('docker', rendering.images_dir)
        # bifrost-base is unbuildable on aarch64 in Kolla's own list.
        self.assertEqual(kollatree.BUILDABLE, sorted(rendering.images))
        self.assertEqual('glance-base',
                         rendering.images['glance-api'].parent)
        self.assertIsNone(rendering.images['base'].parent)
        # Kolla's macro was expanded by Kolla's Jinja environment.
        self.assertIn('RUN apt-get install -y ca-certificates curl',
                      rendering.images['base'].dockerfile)
        # The clock's value is blanked.
        self.assertIn('build-date=""', rendering.images['base'].dockerfile)
        sources = json.loads(rendering.images['glance-base'].sources)
        self.assertEqual('url', sources['source']['type'])

    def test_x86_64_renders_what_aarch64_leaves_out(self):
        rendering = render.render(self.tree, self.base_commit,
                                  render.kolla_args('debian', 'x86_64', ()))
        self.assertIn('bifrost-base', rendering.images)

    def test_nothing_changed_builds_nothing(self):
        result = self.select(self.base_commit)
        self.assertEqual((), result.build)
        self.assertEqual(tuple(kollatree.BUILDABLE), result.reuse)
        self.assertIsNone(result.fallback)


class TestSelection(KollaTreeCase):

    def test_leaf_dockerfile_change_builds_only_the_leaf(self):
        head = self.change('leaf', edits=[
            ('docker/glance/glance-api/Dockerfile.j2', '+RUN true\n')])
        result = self.select(head)
        self.assertEqual(('glance-api',), result.build)
        self.assertEqual({'glance-api': 'Dockerfile changed'}, result.why)
        self.assertIsNone(result.fallback)
        # What the job pulls before building glance-api: its ancestors.
        self.assertEqual(('base', 'glance-base', 'openstack-base'),
                         result.pull)

    def test_copied_file_change_builds_the_image_and_its_children(self):
        head = self.change('start', edits=[
            ('docker/glance/glance-base/extend_start.sh', '+echo\n')])
        result = self.select(head)
        self.assertEqual(('glance-api', 'glance-base'), result.build)
        self.assertEqual(
            'file docker/glance/glance-base/extend_start.sh changed',
            result.why['glance-base'])
        self.assertEqual('parent glance-base is rebuilt',
                         result.why['glance-api'])
        self.assertEqual(('base', 'openstack-base'), result.pull)

    def test_file_in_a_copied_folder_counts(self):
        head = self.change('conf', edits=[
            ('docker/nova/nova-base/conf/nova.conf', '+debug = true\n')])
        result = self.select(head)
        self.assertEqual(('nova-api', 'nova-base'), result.build)

    def test_executable_bit_is_part_of_the_context(self):
        head = self.change('mode', modes=[
            ('docker/glance/glance-base/extend_start.sh', 0o644)])
        self.assertEqual(('glance-api', 'glance-base'),
                         self.select(head).build)

    def test_macro_change_rebuilds_what_renders_differently(self):
        head = self.change('macro', edits=[
            ('docker/macros.j2', '{% macro install(packages) %}'
             'RUN apt-get install -y --no-install-recommends '
             '{{ packages | join(" ") }}{% endmacro %}\n')])
        result = self.select(head)
        self.assertEqual(tuple(kollatree.BUILDABLE), result.build)
        self.assertEqual('Dockerfile changed', result.why['base'])
        self.assertEqual('parent base is rebuilt',
                         result.why['openstack-base'])
        self.assertIsNone(result.fallback)

    def test_unbuildable_image_change_builds_nothing(self):
        head = self.change('bifrost', edits=[
            ('docker/bifrost/bifrost-base/start.sh', '+exit 0\n')])
        self.assertEqual((), self.select(head).build)

    def test_new_image_is_built(self):
        head = self.change('new', edits=[
            ('docker/glance/glance-cache/Dockerfile.j2',
             'FROM {{ namespace }}/{{ image_prefix }}glance-base:{{ tag }}'
             '\n')])
        result = self.select(head)
        self.assertEqual(('glance-cache',), result.build)
        self.assertEqual('Dockerfile changed', result.why['glance-cache'])

    def test_docs_change_builds_nothing(self):
        head = self.change('docs', edits=[
            ('doc/source/index.rst', '+More.\n'), ('README.rst', '+x\n'),
            ('kolla/tests/__init__.py', '# tests only\n')])
        self.assertEqual((), self.select(head).build)

    def test_render_time_python_is_followed_by_rendering(self):
        # Kolla's render-time helpers show in the Dockerfiles: a change
        # that renders the same builds nothing.
        head = self.change('methods', edits=[
            ('kolla/template/methods.py', '+\n# render-time only\n')])
        self.assertEqual((), self.select(head).build)


class TestFallback(KollaTreeCase):

    def assertEverything(self, result, path):
        self.assertEqual(tuple(kollatree.BUILDABLE), result.build)
        self.assertEqual((), result.reuse)
        self.assertIn(path, result.fallback)
        self.assertEqual(set(kollatree.BUILDABLE), set(result.why))

    def test_kolla_build_code_builds_everything(self):
        head = self.change('tasks', edits=[
            ('kolla/image/tasks.py', '+\n# build-time behaviour\n')])
        result = self.select(head)
        self.assertEverything(result, 'kolla/image/tasks.py')
        self.assertEqual(select.MACHINERY_CHANGED, result.why['nova-api'])

    def test_file_no_image_uses_builds_everything(self):
        head = self.change('unused', edits=[
            ('docker/glance/glance-api/README', 'not copied\n')])
        self.assertEverything(self.select(head),
                              'docker/glance/glance-api/README is used by '
                              'no image')

    def test_file_outside_image_folders_builds_everything(self):
        head = self.change('override', edits=[
            ('tests/templates/template_overrides.j2', '{% block x %}\n')])
        self.assertEverything(self.select(head),
                              'tests/templates/template_overrides.j2')

    def test_precise_reasons_survive_the_fallback(self):
        head = self.change('both', edits=[
            ('docker/glance/glance-api/Dockerfile.j2', '+RUN true\n'),
            ('kolla/image/tasks.py', '+\n# build-time behaviour\n')])
        result = self.select(head)
        self.assertEqual('Dockerfile changed', result.why['glance-api'])
        self.assertEqual(select.MACHINERY_CHANGED, result.why['base'])

    def test_copy_from_another_image_builds_everything(self):
        head = self.change('from', edits=[
            ('docker/nova/nova-api/Dockerfile.j2',
             '+COPY --from=kolla/base:0 /etc/x /etc/x\n')])
        self.assertEverything(self.select(head), 'nova-api')


class TestWanted(KollaTreeCase):
    """--image: what a build job that builds a few images needs."""

    def select_for(self, head, *patterns):
        return affected.affected(self.tree, self.base_commit, head,
                                 renderer=self.renderer, images=patterns)

    def test_leaf_change_to_a_wanted_image(self):
        head = self.change('leaf', edits=[
            ('docker/glance/glance-api/Dockerfile.j2', '+RUN true\n')])
        result = self.select_for(head, '^glance-api$')
        self.assertEqual(('glance-api',), result.build)
        self.assertEqual(('base', 'glance-base', 'openstack-base'),
                         result.reuse)
        self.assertEqual(('base', 'glance-base', 'openstack-base'),
                         result.pull)

    def test_change_to_an_image_nobody_wants_builds_nothing(self):
        head = self.change('leaf', edits=[
            ('docker/glance/glance-api/Dockerfile.j2', '+RUN true\n')])
        result = self.select_for(head, '^nova-api$')
        self.assertEqual((), result.build)
        self.assertEqual({}, result.why)
        self.assertEqual(('base', 'nova-api', 'nova-base', 'openstack-base'),
                         result.reuse)
        self.assertEqual((), result.pull)

    def test_a_rebuilt_ancestor_is_built_with_its_wanted_child(self):
        head = self.change('start', edits=[
            ('docker/glance/glance-base/extend_start.sh', '+echo\n')])
        result = self.select_for(head, 'glance-api', '^base$')
        self.assertEqual(('glance-api', 'glance-base'), result.build)
        self.assertEqual(('base', 'openstack-base'), result.reuse)
        self.assertEqual(('base', 'openstack-base'), result.pull)

    def test_fallback_builds_the_whole_wanted_chain(self):
        head = self.change('tasks', edits=[
            ('kolla/image/tasks.py', '+\n# build-time behaviour\n')])
        result = self.select_for(head, '^nova-api$')
        self.assertEqual(('base', 'nova-api', 'nova-base', 'openstack-base'),
                         result.build)
        self.assertIn('kolla/image/tasks.py', result.fallback)
        self.assertEqual((), result.pull)


class TestCommand(KollaTreeCase):

    def test_json_output(self):
        head = self.change('leaf', edits=[
            ('docker/nova/nova-api/Dockerfile.j2', '+RUN echo\n')])
        code, out, err = self.run_cli(
            'kolla-images', '--kolla', self.tree, '--base-rev',
            self.base_commit, '--head-rev', head, '--format', 'json')
        self.assertEqual(0, code, err)
        result = json.loads(out)
        self.assertEqual(['nova-api'], result['build'])
        self.assertEqual({'nova-api': 'Dockerfile changed'}, result['why'])
        self.assertEqual(sorted(set(kollatree.BUILDABLE) - {'nova-api'}),
                         result['reuse'])
        self.assertIsNone(result['fallback'])
        self.assertEqual(['base', 'nova-base', 'openstack-base'],
                         result['pull'])

    def test_text_output(self):
        code, out, err = self.run_cli(
            'kolla-images', '--kolla', self.tree, '--base-rev',
            self.base_commit, '--head-rev', self.base_commit)
        self.assertEqual(0, code, err)
        self.assertIn('build 0 of 6 images, reuse 6', out)

    def assertUnusable(self, *argv, says):
        code, out, err = self.run_cli('kolla-images', *argv)
        self.assertEqual(2, code)
        self.assertEqual('', out)
        self.assertEqual(1, len(err.splitlines()), err)
        self.assertIn(says, err)
        self.assertNotIn('Traceback', err)

    def test_bad_revision(self):
        self.assertUnusable('--kolla', self.tree, '--base-rev', 'nosuchrev',
                            says="--base-rev: 'nosuchrev' is not a commit")

    def test_not_a_checkout(self):
        empty = self.tempdir()
        self.assertUnusable('--kolla', empty, '--base-rev', 'HEAD',
                            says='not a git checkout')

    def test_not_a_kolla_tree(self):
        other = os.path.join(self.tempdir(), 'other')
        os.makedirs(other)
        kollatree.git(other, 'init', '-q')
        kollatree.write(other, 'README', 'hi\n')
        kollatree.commit(other, 'not kolla')
        self.assertUnusable('--kolla', other, '--base-rev', 'HEAD',
                            says='not a Kolla tree at HEAD')

    def test_unknown_profile(self):
        self.assertUnusable('--kolla', self.tree, '--base-rev',
                            self.base_commit, '--head-rev', self.base_commit,
                            '--profile', 'nosuchprofile',
                            says='nosuchprofile')

    def test_image_narrows_the_answer(self):
        head = self.change('leaf', edits=[
            ('docker/nova/nova-api/Dockerfile.j2', '+RUN echo\n')])
        code, out, err = self.run_cli(
            'kolla-images', '--kolla', self.tree, '--base-rev',
            self.base_commit, '--head-rev', head, '--format', 'json',
            '--image', '^nova-api$')
        self.assertEqual(0, code, err)
        result = json.loads(out)
        self.assertEqual(['nova-api'], result['build'])
        self.assertEqual(['base', 'nova-base', 'openstack-base'],
                         result['reuse'])

    def test_image_matching_nothing(self):
        self.assertUnusable('--kolla', self.tree, '--base-rev',
                            self.base_commit, '--image', '^nosuch$',
                            says="--image: '^nosuch$' names no image")

    def test_image_that_is_no_regex(self):
        self.assertUnusable('--kolla', self.tree, '--base-rev',
                            self.base_commit, '--image', 'nova(',
                            says="'nova(' is not a regular expression")

    def test_runs_where_tarfile_has_no_extraction_filters(self):
        # Debian bookworm's Python 3.11.2, the node's, predates them.
        self.useFixture(fixtures.MockPatch(
            'nodepool_aarch64.kolla.gittree.EXTRACT_FILTER', {}))
        real = tarfile.TarFile.extractall

        def old_extractall(tar, path='.', members=None, *,
                           numeric_owner=False):
            return real(tar, path, members, numeric_owner=numeric_owner)

        self.useFixture(fixtures.MockPatch(
            'tarfile.TarFile.extractall', old_extractall))
        rendering = render.render(self.tree, self.base_commit, ARGS)
        self.assertEqual(kollatree.BUILDABLE, sorted(rendering.images))

    def test_runs_without_the_rest_of_the_project(self):
        # What the build job runs on the node: Kolla's virtualenv has
        # none of the other commands' requirements.
        absent = ['yaml', 'nodepool', 'openstack', 'matplotlib',
                  'voluptuous', 'requests']
        program = (
            'import runpy, sys\n'
            'for name in %r:\n'
            '    sys.modules[name] = None\n'
            'sys.argv = ["kolla"] + sys.argv[1:]\n'
            'runpy.run_module("nodepool_aarch64.kolla", '
            'run_name="__main__")\n' % absent)
        out = subprocess.run(
            [sys.executable, '-c', program, '--kolla', self.tree,
             '--base-rev', self.base_commit, '--head-rev',
             self.base_commit, '--format', 'json', '--image', 'glance-api'],
            capture_output=True, text=True, timeout=300)
        self.assertEqual(0, out.returncode, out.stderr)
        self.assertEqual([], json.loads(out.stdout)['build'])
        bad = subprocess.run(
            [sys.executable, '-c', program, '--kolla', self.tree,
             '--base-rev', 'nosuchrev'],
            capture_output=True, text=True, timeout=300)
        self.assertEqual(2, bad.returncode)
        self.assertIn("'nosuchrev' is not a commit", bad.stderr)
        self.assertNotIn('Traceback', bad.stderr)

    def test_render_is_bounded_in_time(self):
        # A template that never ends renders until the bound stops it.
        head = self.change('loop', edits=[
            ('docker/nova/nova-api/Dockerfile.j2',
             '+{% for i in range(100000) %}{% for j in range(100000) %}'
             '{% endfor %}{% endfor %}\n')])
        self.assertUnusable('--kolla', self.tree, '--base-rev', head,
                            '--timeout', '5', says='took longer than 5 s')


class TestContext(testtools.TestCase):

    def test_copy_and_add_sources(self):
        dockerfile = ('FROM x\n'
                      '# COPY not-this /\n'
                      'COPY a b \\\n'
                      '     /dest/\n'
                      'ADD --chown=1:1 archive /src\n'
                      'COPY ["c d", "/e"]\n'
                      'ADD https://example.invalid/f /f\n'
                      'RUN cp g h\n')
        self.assertEqual(['a', 'b', 'archive', 'c d',
                          'https://example.invalid/f'],
                         context.copy_sources(dockerfile))

    def test_copy_from_is_not_followed(self):
        self.assertRaises(context.Unattributable, context.copy_sources,
                          'COPY --from=builder /a /b\n')

    def test_used_files_folders_and_globs(self):
        files = {'conf/a.conf': '1', 'conf/sub/b.conf': '2', 'x.sh': '3',
                 'y.sh': '4', 'README': '5'}
        self.assertEqual({'conf/a.conf', 'conf/sub/b.conf'},
                         context.used_files('COPY conf/ /etc/\n', files))
        self.assertEqual({'x.sh', 'y.sh'},
                         context.used_files('COPY *.sh /bin/\n', files))
        self.assertEqual(set(files),
                         context.used_files('COPY . /src\n', files))
        self.assertEqual({'x.sh'},
                         context.used_files('COPY ./x.sh /bin/\n', files))
