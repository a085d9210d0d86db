"""check on consumer repositories: Zuul's YAML tags, and labels the rest
of the tenant serves (a labels file, or zuul-web's labels API)."""

import base64
import json
import os
import time

import fixtures
import testtools
import yaml
from zuul.lib import yamlutil as zuul_yamlutil

from nodepool_aarch64.check import report
from nodepool_aarch64.check import runner
from nodepool_aarch64.check import tenant as tenant_mod
from nodepool_aarch64.errors import InputError
from nodepool_aarch64.formats import yamlutil
from nodepool_aarch64.formats import zuulweb
from nodepool_aarch64.formats.write import write_files
from nodepool_aarch64.inventory import load_inventory
from nodepool_aarch64.render import render_all
from tests import base as tbase
from tests import localhttp
from tests.unit import test_check_rules as base
from tests.unit.test_realworld import REALWORLD

KOLLA = os.path.join(REALWORLD, 'consumers', 'kolla-83ef520d', '.zuul.d')
X86_LABELS = 'centos-8\nubuntu-bionic\ndebian-buster\n'
# Shaped like a real RSA-OAEP chunk: valid base64 of opaque bytes.
CIPHERTEXT = base64.b64encode(bytes(range(7, 250, 3))).decode()

SECRET_AND_NODESET = f"""\
- secret:
    name: registry
    data:
      password: !encrypted/pkcs1-oaep
        - {CIPHERTEXT}
      user: !encrypted/pkcs1-oaep {CIPHERTEXT}
- job:
    name: build
    vars: !override
      arch: aarch64
    tags: !inherit [arm64]
    branches: !override master
- nodeset:
    name: three
    nodes:
      - name: primary
        label: ubuntu-jammy-arm64
      - name: secondary1
        label: ubuntu-jammy-arm64
      - name: secondary2
        label: ubuntu-jammy-arm64
"""


def run_main(*args):
    return tbase.run_cli('check', *args)


class TestZuulTags(testtools.TestCase):

    def test_the_tags_are_zuuls(self):
        # Zuul's config loader adds these to YAML's safe tags; a Zuul
        # release that adds or drops one fails here.
        zuul_tags = {tag for tag in
                     zuul_yamlutil.EncryptedLoader.yaml_constructors
                     if tag and tag.startswith('!')}
        self.assertEqual(zuul_tags, set(yamlutil.ZUUL_TAGS))

    def test_same_documents_load_and_fail_as_in_zuul(self):
        good = [SECRET_AND_NODESET, 'a: !override [1]\n',
                'a: !inherit {b: 1}\n', 'a: !override x\n']
        # Zuul reads a scalar's type as if it were untagged and unquoted.
        bad = ['a: !override 1\n', 'a: !inherit true\n',
               'a: !override "1"\n',
               'a: !encrypted/pkcs1-oaep {b: c}\n', 'a: !unsafe x\n']
        for text in good:
            zuul_yamlutil.encrypted_load(text)
            yamlutil.load_documents('x.yaml', text)
        for text in bad:
            self.assertRaises(Exception, zuul_yamlutil.encrypted_load, text)
            self.assertRaises(InputError, yamlutil.load_documents,
                              'x.yaml', text)

    def test_values_keep_their_shape_and_position(self):
        (data,), _ = yamlutil.load_documents('x.yaml', SECRET_AND_NODESET)
        secret = data[0]['secret']['data']
        self.assertEqual((4, 1), (secret['password'].line,
                                  secret['password'].chunks))
        self.assertNotIn(CIPHERTEXT, repr(data) + str(data))
        job = data[1]['job']
        self.assertEqual(({'arch': 'aarch64'}, True, 9),
                         (job['vars'], job['vars'].override,
                          job['vars'].line))
        self.assertEqual((['arm64'], False), (job['tags'],
                                              job['tags'].override))
        self.assertEqual('master', job['branches'])

    def test_bad_ciphertext_is_named_by_line_not_printed(self):
        text = 'a: !encrypted/pkcs1-oaep\n  - QUJD\n  - QUJDRA\n'
        error = self.assertRaises(InputError, yamlutil.load_documents,
                                  'x.yaml', text)
        self.assertEqual('x.yaml:3: invalid YAML: !encrypted/pkcs1-oaep '
                         'value is not base64', str(error))


class TestOneFindingPerNodesetAndLabel(base.CheckCase):

    def test_three_nodes_one_finding(self):
        path = self.write('zuul.d/three.yaml', SECRET_AND_NODESET)
        result = self.check(extra=[path])
        found = self.only(result, 'NPA010')
        self.assertEqual(1, len(found))
        self.assertEqual((path, 17), (found[0].path, found[0].line))
        self.assertIn('nodeset three asks for label ubuntu-jammy-arm64',
                      found[0].message)


class TestTenantLabels(base.CheckCase):

    def setUp(self):
        super().setUp()
        self.zuul.append({'nodeset': {'name': 'x86', 'nodes': [
            {'name': 'primary', 'label': 'ubuntu-jammy'}]}})

    def test_x86_label_is_not_an_arm64_launchers_business(self):
        result = self.check()
        self.assertEqual([], result.findings)
        self.assertEqual(['ubuntu-jammy'], result.unchecked_labels)
        self.assertIn('not checked, as no given launcher serves their '
                      'architecture: ubuntu-jammy', report.summary(result))

    def test_a_label_the_launcher_declares_is_in_reach(self):
        self.launcher['labels'].append({'name': 'ubuntu-jammy'})
        result = self.check()
        self.assertIn('ubuntu-jammy', self.only(result, 'NPA010')[0].message)
        self.assertEqual([], result.unchecked_labels)

    def test_tenant_list_decides(self):
        listed = tenant_mod.TenantLabels('labels file t',
                                         frozenset(['ubuntu-jammy']))
        result = runner.run([self.write('nl.yaml', self.launcher),
                             self.write('z.yaml', self.zuul)],
                            tenant=listed)
        self.assertEqual([], result.findings)
        empty = tenant_mod.TenantLabels('labels file t', frozenset(['x']))
        result = runner.run([self.write('z.yaml', self.zuul)], tenant=empty)
        messages = [f.message for f in result.errors]
        self.assertEqual(3, len(messages))
        self.assertIn('asks for label ubuntu-jammy, which no launcher pool '
                      'in this config set serves and labels file t does '
                      'not list', messages[-1])
        self.assertTrue(result.labels_checked)

    def test_no_launcher_says_labels_were_not_checked(self):
        result = self.check(launcher=False, builder=False)
        self.assertEqual([], result.findings)
        self.assertFalse(result.labels_checked)
        self.assertIn('labels NOT checked: no launcher config given',
                      report.summary(result))
        data = json.loads(report.as_json(result))
        self.assertFalse(data['summary']['labels_checked'])


class TestLabelsFile(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.dir = self.useFixture(fixtures.TempDir()).path

    def write(self, text):
        path = os.path.join(self.dir, 'labels.txt')
        with open(path, 'w') as f:
            f.write(text)
        return path

    def test_names_and_comments(self):
        labels = tenant_mod.from_file(self.write(
            '# x86 launchers\ncentos-8\n\n  ubuntu-bionic  # nl01\n'))
        self.assertEqual({'centos-8', 'ubuntu-bionic'}, labels.labels)

    def test_bad_lines(self):
        path = self.write('centos-8\nubuntu bionic\n')
        code, out, err = run_main('--labels-file', path, self.write_zuul())
        self.assertEqual((2, ''), (code, out))
        self.assertEqual(f'nodepool-aarch64: {path}:2: expected one label '
                         f'name a line', err.strip())
        error = self.assertRaises(InputError, tenant_mod.from_file,
                                  self.write('# nothing\n'))
        self.assertIn('no label names', str(error))

    def write_zuul(self):
        path = os.path.join(self.dir, 'zuul.yaml')
        with open(path, 'w') as f:
            yaml.safe_dump(base.ZUUL, f)
        return path

    def test_options_that_go_together(self):
        zuul = self.write_zuul()
        code, _, err = run_main('--zuul-url', 'https://zuul.example.org',
                                zuul)
        self.assertEqual(2, code)
        self.assertIn('--zuul-url and --tenant go together', err)
        code, _, err = run_main('--zuul-url', 'https://zuul.example.org',
                                '--tenant', 't', '--labels-file', zuul,
                                zuul)
        self.assertEqual(2, code)
        self.assertIn('not both', err)


class TestZuulWebLabels(testtools.TestCase):
    """zuul-web failures, from a server on 127.0.0.1 that plays them;
    the live API is tested in the functional suite against a real
    zuul-web."""

    def setUp(self):
        super().setUp()
        self.answers = {}
        self.server = localhttp.Server(self.script)
        self.addCleanup(self.server.close)
        self.url = self.server.url

    def script(self, request):
        return self.answers.get(request.path, localhttp.answer(status=404))

    def serve(self, answer, path='/api/tenant/openstack/labels'):
        self.answers[path] = answer

    def test_labels_of_launchers_and_label_stanzas(self):
        self.serve(localhttp.answer(body=[
            {'name': 'centos-8'}, {'name': 'ubuntu-bionic'},
            {'name': 'zl-noble', 'description': None, 'image': 'noble',
             'flavor': 'large', 'min_ready': 0}]))
        for base_url in (self.url, self.url + '/', self.url + '/api'):
            labels = tenant_mod.from_zuul(base_url, 'openstack')
            self.assertEqual({'centos-8', 'ubuntu-bionic', 'zl-noble'},
                             labels.labels)

    def assertFails(self, expect, url=None, tenant='openstack'):
        error = self.assertRaises(InputError, tenant_mod.from_zuul,
                                  url or self.url, tenant)
        self.assertIn(expect, str(error))
        self.assertEqual(1, len(str(error).splitlines()))
        self.assertNotIn('s3cret', str(error))
        return error

    def test_silence(self):
        self.useFixture(fixtures.MockPatchObject(
            zuulweb, 'READ_TIMEOUT', 0.3))
        self.serve([5.0])
        self.assertFails('zuul-web sent nothing for 0.3 s')

    def test_a_drip_ends_at_the_total_deadline(self):
        # Every read gets a byte in time; the answer as a whole does not.
        self.useFixture(fixtures.MockPatchObject(
            zuulweb, 'TOTAL_TIMEOUT', 1.0))
        self.serve(localhttp.drip(
            b'HTTP/1.1 200 OK\r\nContent-Length: 9999\r\n\r\n['))
        started = time.monotonic()
        self.assertFails('did not answer in full within 1 s')
        self.assertLess(time.monotonic() - started, 4.0)

    def test_endless_continue_ends_at_the_total_deadline(self):
        self.useFixture(fixtures.MockPatchObject(
            zuulweb, 'TOTAL_TIMEOUT', 1.0))
        self.serve(localhttp.endless_continue())
        self.assertFails('did not answer in full within 1 s')

    def test_unreachable_with_credentials_in_the_url(self):
        self.server.close()
        error = self.assertFails(
            'ConnectionRefusedError',
            url=self.url.replace('//', '//ci:s3cret@') + '/?token=s3cret')
        self.assertTrue(str(error).startswith(
            self.url + '/api/tenant/openstack/labels: '), error)

    def test_credentials_without_a_scheme_are_not_shown(self):
        # No scheme means https; this server speaks HTTP, so it fails,
        # and the message must not carry the password.
        self.assertFails('',
                         url=self.url.replace('http://', 'ci:s3cret@'))

    def test_server_error_and_unknown_tenant(self):
        self.serve(localhttp.answer(status=500, body=b'Traceback ...'))
        self.assertFails('zuul-web answered HTTP 500')
        self.serve(localhttp.answer(status=404, body={
            'description': 'Tenant not found'}))
        self.assertFails("zuul-web knows no tenant 'openstack' (HTTP 404)")

    def test_login_required(self):
        self.serve(localhttp.answer(status=401))
        self.assertFails('HTTP 401: the tenant needs a login')

    def test_garbage(self):
        self.serve(localhttp.answer(body=b'<html>login</html>'))
        self.assertFails('something that is not JSON')
        self.serve(localhttp.answer(body={'labels': ['centos-8']}))
        self.assertFails('not a label list')
        self.serve(localhttp.answer(body=[{'name': 1}]))
        self.assertFails('not a label list')
        self.serve(localhttp.answer(body=b'[' + b' ' * (
            tenant_mod.MAX_ANSWER_BYTES + 10) + b']'))
        self.assertFails('answer larger than')

    def test_bad_url(self):
        self.assertFails('expected the URL of zuul-web',
                         url='ftp://ci:s3cret@zuul.example.org')

    def test_tenant_name_is_quoted(self):
        self.serve(localhttp.answer(body=[{'name': 'x'}]),
                   path='/api/tenant/a%2Fb/labels')
        self.assertEqual({'x'}, tenant_mod.from_zuul(self.url, 'a/b').labels)


class TestKolla(testtools.TestCase):
    """Kolla's .zuul.d (2020) with the rendered shipped inventory."""

    def setUp(self):
        super().setUp()
        if not os.path.isdir(KOLLA):
            self.skipTest(f'{KOLLA} not present (real-world cases live '
                          f'next to the repo, not in it)')
        self.dir = self.useFixture(fixtures.TempDir()).path
        write_files(self.dir, render_all(load_inventory()))
        self.launchers = os.path.join(self.dir, 'nodepool')
        self.labels = os.path.join(self.dir, 'x86-labels.txt')
        with open(self.labels, 'w') as f:
            f.write(X86_LABELS)

    def assertOnlyUnservedArm64(self, result):
        found = sorted((f.code, os.path.basename(f.path), f.line,
                        f.message.split(',')[0]) for f in result.errors)
        self.assertEqual([
            ('NPA010', 'base.yaml', 50, 'nodeset kolla-centos8-aarch64 asks '
             'for label centos-8-arm64'),
            ('NPA010', 'base.yaml', 56, 'nodeset kolla-debian-buster-aarch64 '
             'asks for label debian-buster-arm64')], found)

    def test_loads_with_the_shipped_launchers(self):
        result = runner.run([self.launchers, KOLLA])
        self.assertOnlyUnservedArm64(result)
        self.assertEqual(['centos-8', 'debian-buster', 'ubuntu-bionic'],
                         result.unchecked_labels)

    def test_with_the_tenant_label_list(self):
        code, out, err = run_main('--labels-file', self.labels,
                                  self.launchers, KOLLA)
        self.assertEqual(1, code, err)
        lines = out.splitlines()
        self.assertEqual(2, len(lines), out)
        self.assertTrue(all(' NPA010 error: ' in line for line in lines))
        self.assertIn('base.yaml:50:', lines[0])
        self.assertIn('base.yaml:56:', lines[1])
        self.assertIn('2 error(s)', err)
        self.assertNotIn('not checked', err)

    def test_without_a_launcher_the_summary_says_so(self):
        code, out, err = run_main('-v', KOLLA)
        self.assertEqual((0, ''), (code, out))
        self.assertIn('labels NOT checked: no launcher config given', err)

    def test_secrets_are_never_printed(self):
        with open(os.path.join(KOLLA, 'base.yaml')) as f:
            text = f.read()
        chunks = [line.strip(' -') for line in text.splitlines()
                  if line.strip().startswith('- ') and len(line) > 60]
        self.assertTrue(chunks)
        for args in (('-v',), ('--format', 'json')):
            code, out, err = run_main(*args, self.launchers, KOLLA)
            for chunk in chunks:
                self.assertNotIn(chunk[:40], out + err)
