"""readiness on saved builds JSON: each criterion both ways, the verdict,
the stage change, the output and bad input."""

import json
import os
import textwrap

import fixtures

from tests import base
from tests import readinessdata as rd

OK = ['SUCCESS'] * 20
REPO_ZUUL_D = os.path.join(base.REPO, 'zuul.d')


class ReadinessCase(base.TestCase):

    def setUp(self):
        super().setUp()
        self.dir = self.tempdir()

    def readiness(self, builds, *extra):
        path = rd.write(os.path.join(self.dir, 'builds.json'), builds)
        code, out, err = self.run_cli('readiness', '--builds', path,
                                      '--format', 'json', '--timeout',
                                      '3600', *extra)
        self.assertIn(code, (0, 1), err)
        return code, {j['job']: j for j in json.loads(out)['jobs']}

    def job(self, builds, name='tox-py3-arm64', *extra):
        return self.readiness(builds, *extra)[1][name]

    def criterion(self, job, name):
        return job['criteria'][name]


class TestCriteria(ReadinessCase):

    def test_a_steady_job_on_three_clouds_is_ready_for_gate(self):
        job = self.job(rd.history('tox-py3-arm64', 'tox-py3', OK))
        self.assertEqual('ready-for-gate', job['verdict'])
        self.assertEqual([], job['failed'])
        self.assertEqual('tox-py3', job['counterpart'])
        self.assertEqual('check-arm64', job['stage'])
        self.assertEqual(20, job['metrics']['runs'])
        self.assertEqual(1.0, job['metrics']['pass-rate'])

    def test_runs(self):
        few = self.job(rd.history('tox-py3-arm64', 'tox-py3', OK[:13]))
        self.assertEqual(['runs'], few['failed'])
        self.assertEqual('not-ready', few['verdict'])
        self.assertEqual((13, 14), (self.criterion(few, 'runs')['value'],
                                    self.criterion(few, 'runs')['threshold']))
        enough = self.job(rd.history('tox-py3-arm64', 'tox-py3', OK[:14]))
        self.assertTrue(self.criterion(enough, 'runs')['passed'])
        lowered = self.job(rd.history('tox-py3-arm64', 'tox-py3', OK[:13]),
                           'tox-py3-arm64', '--min-runs', '10')
        self.assertTrue(self.criterion(lowered, 'runs')['passed'])

    def test_arm64_specific_failures(self):
        results = ['FAILURE'] * 3 + OK[3:]
        job = self.job(rd.history('tox-py3-arm64', 'tox-py3', results))
        c = self.criterion(job, 'arm64-specific-failures')
        self.assertFalse(c['passed'])
        self.assertEqual(0.15, c['value'])
        self.assertEqual(0.05, c['threshold'])
        self.assertEqual(3, job['metrics']['arm64-specific-failures'])
        self.assertEqual('not-ready', job['verdict'])

    def test_failures_shared_with_the_counterpart_do_not_count(self):
        # The change broke both jobs: a real bug, caught on both.
        results = ['FAILURE'] * 3 + OK[3:]
        job = self.job(rd.history('tox-py3-arm64', 'tox-py3', results,
                                  x86_results=results))
        self.assertTrue(self.criterion(job, 'arm64-specific-failures')
                        ['passed'])
        self.assertEqual(3, job['metrics']['shared-failures'])
        self.assertEqual(0, job['metrics']['arm64-specific-failures'])
        self.assertEqual('ready-for-gate', job['verdict'])

    def test_infra_failures_are_kept_apart_and_summarised(self):
        results = ['NODE_FAILURE', 'RETRY_LIMIT', 'NODE_FAILURE'] + OK[3:]
        job = self.job(rd.history(
            'tox-py3-arm64', 'tox-py3', results,
            error_detail='Node(set) request 200-0000004711 failed'))
        c = self.criterion(job, 'infra-failures')
        self.assertFalse(c['passed'])
        self.assertEqual(0.15, c['value'])
        m = job['metrics']
        self.assertEqual({'NODE_FAILURE': 2, 'RETRY_LIMIT': 1},
                         m['infra-failures-by-result'])
        self.assertEqual([{'error_detail': 'Node(set) request #-# failed',
                           'count': 3}], m['infra-error-details'])
        # Infrastructure failures are not the job's failures.
        self.assertEqual(0, m['job-failures'])
        self.assertTrue(self.criterion(job, 'arm64-specific-failures')
                        ['passed'])
        loose = self.job(rd.history('tox-py3-arm64', 'tox-py3', results),
                         'tox-py3-arm64', '--max-infra-failure-rate', '0.2')
        self.assertTrue(self.criterion(loose, 'infra-failures')['passed'])

    def test_duration_headroom(self):
        builds = rd.history('tox-py3-arm64', 'tox-py3', OK,
                            arm_duration=3000)
        tight = self.job(builds)  # 3000 s of a 3600 s timeout
        c = self.criterion(tight, 'duration-headroom')
        self.assertFalse(c['passed'])
        self.assertEqual(0.833, c['value'])
        roomy = self.job(builds, 'tox-py3-arm64', '--timeout', '7200')
        self.assertTrue(self.criterion(roomy, 'duration-headroom')['passed'])

    def test_duration_headroom_takes_the_timeout_from_zuul_d(self):
        # kolla-build-ubuntu-source-aarch64 inherits timeout 10800 from
        # kolla-build-aarch64-base in this repository's zuul.d.
        builds = rd.history('kolla-build-ubuntu-source-aarch64',
                            'kolla-build-ubuntu-source', OK,
                            arm_nodeset='ubuntu-noble-arm64-large',
                            arm_duration=9000)
        job = self.job(builds, 'kolla-build-ubuntu-source-aarch64',
                       '--zuul-d', REPO_ZUUL_D)
        self.assertEqual(10800, job['metrics']['timeout-seconds'])
        c = self.criterion(job, 'duration-headroom')
        self.assertFalse(c['passed'])
        self.assertEqual(0.833, c['value'])

    def test_a_label_one_provider_serves_is_never_ready_for_gate(self):
        builds = rd.history('kolla-build-ubuntu-source-aarch64',
                            'kolla-build-ubuntu-source', OK,
                            arm_nodeset='ubuntu-noble-arm64-large')
        job = self.job(builds, 'kolla-build-ubuntu-source-aarch64',
                       '--zuul-d', REPO_ZUUL_D)
        self.assertEqual(['providers'], job['failed'])
        self.assertEqual('ready-for-check-arm64', job['verdict'])
        self.assertEqual(1, self.criterion(job, 'providers')['value'])
        self.assertEqual(
            {'ubuntu-noble-arm64-large': {'providers': ['linaro-us'],
                                          'clouds': ['linaro-us']}},
            job['metrics']['providers']['labels'])
        # Not even with every other threshold loosened.
        job = self.job(builds, 'kolla-build-ubuntu-source-aarch64',
                       '--zuul-d', REPO_ZUUL_D, '--min-runs', '0',
                       '--slo', 'gate:p95:10080')
        self.assertNotEqual('ready-for-gate', job['verdict'])

    def test_capacity(self):
        # Six x86 gate runs an hour, each holding a node for an hour,
        # cannot land on one provider with two servers.
        inventory = self.write(self.dir, 'small.yaml', SMALL_INVENTORY)
        builds = rd.history('tox-py3-arm64', 'tox-py3', OK * 10,
                            hours_apart=0.2, x86_duration=3600,
                            arm_duration=3600)
        small = self.job(builds, 'tox-py3-arm64', '--inventory', inventory,
                         '--min-clouds', '1', '--timeout', '7200')
        c = self.criterion(small, 'capacity')
        self.assertFalse(c['passed'])
        self.assertGreater(c['value'], 60)
        self.assertEqual(['capacity'], small['failed'])
        self.assertEqual('ready-for-check-arm64', small['verdict'])
        # The shipped inventory carries the same demand.
        shipped = self.job(builds, 'tox-py3-arm64', '--timeout', '7200')
        self.assertTrue(self.criterion(shipped, 'capacity')['passed'])
        self.assertLess(
            shipped['metrics']['simulated-gate-wait-minutes'], 60)

    def test_affected_share_is_the_promoted_demand(self):
        # The same demand that cannot gate on a small cloud can once the
        # job builds only what each change affects.
        inventory = self.write(self.dir, 'small.yaml', SMALL_INVENTORY)
        builds = rd.history('tox-py3-arm64', 'tox-py3', OK * 10,
                            hours_apart=0.2, x86_duration=3600,
                            arm_duration=3600)
        args = ('tox-py3-arm64', '--inventory', inventory, '--min-clouds',
                '1', '--timeout', '7200')
        full = self.job(builds, *args)
        affected = self.job(builds, *args, '--affected-share',
                            'tox-py3-arm64=0.1')
        self.assertFalse(self.criterion(full, 'capacity')['passed'])
        self.assertTrue(self.criterion(affected, 'capacity')['passed'])
        self.assertIn('holding 0.1 of that',
                      self.criterion(affected, 'capacity')['detail'])
        self.assertEqual('ready-for-gate', affected['verdict'])
        # Another job's share changes nothing.
        other = self.job(builds, *args, '--affected-share', 'x=0.1')
        self.assertEqual(self.criterion(full, 'capacity')['value'],
                         self.criterion(other, 'capacity')['value'])

    def test_affected_share_must_be_a_share(self):
        for bad in ('tox-py3-arm64=0', 'tox-py3-arm64=1.5', 'x', '=0.5',
                    'x=nan-ish'):
            code, out, err = self.run_cli(
                'readiness', '--builds', 'b.json', '--affected-share', bad)
            self.assertEqual(2, code, bad)
            self.assertEqual(1, len(err.splitlines()), err)
            self.assertIn('JOB=SHARE', err)

    def test_capacity_needs_a_counterpart(self):
        builds = [b for b in rd.history('tox-py3-arm64', 'tox-py3', OK)
                  if b['job_name'] != 'tox-py3']
        job = self.job(builds)
        self.assertIsNone(job['counterpart'])
        c = self.criterion(job, 'capacity')
        self.assertFalse(c['passed'])
        self.assertIn('--pair', c['detail'])
        self.assertEqual('ready-for-check-arm64', job['verdict'])

    def test_pair_overrides_the_counterpart(self):
        builds = rd.history('arm-unit', 'unit', ['FAILURE'] + OK[1:],
                            x86_results=['FAILURE'] + OK[1:])
        job = self.job(builds, 'arm-unit', '--job', 'arm-unit',
                       '--pair', 'arm-unit=unit')
        self.assertEqual('unit', job['counterpart'])
        self.assertEqual(1, job['metrics']['shared-failures'])


SMALL_INVENTORY = """\
    zookeeper:
      servers: [zk.example:2281]
    builder:
      images-dir: /opt/dib
      build-log-dir: /var/log/dib
    flavors:
      - name: arm64-large
        vcpus: 8
        ram: 8192
    diskimages:
      - name: ubuntu-noble-arm64
        distro: ubuntu
        release: noble
    providers:
      - name: small
        cloud: small
        region: RegionOne
        launcher: nl.example
        builder: nb.example
        quota:
          instances: 2
        flavors:
          arm64-large: m1.large
    labels:
      - name: ubuntu-noble-arm64
        diskimage: ubuntu-noble-arm64
        flavor: arm64-large
"""


PROJECT = """\
    - project:
        name: openstack/kolla
        templates:
          - kolla-aarch64-check-arm64
"""


class TestStages(ReadinessCase):

    def test_prints_the_one_line_template_change(self):
        project = self.write(self.dir, 'kolla/.zuul.yaml', PROJECT)
        job = self.job(rd.history('kolla-aarch64-buildset-registry',
                                  'kolla-buildset-registry', OK),
                       'kolla-aarch64-buildset-registry',
                       '--zuul-d', REPO_ZUUL_D, '--zuul-d', project)
        self.assertEqual('check-arm64', job['stage'])
        self.assertEqual('ready-for-gate', job['verdict'])
        self.assertEqual(f'{project}:4: templates: kolla-aarch64-check-arm64'
                         ' -> kolla-aarch64-gate', job['change'])

    def test_never_skips_a_stage(self):
        job = self.job(rd.history('kolla-aarch64-buildset-registry',
                                  'kolla-buildset-registry', OK,
                                  arm_pipeline='experimental'),
                       'kolla-aarch64-buildset-registry',
                       '--zuul-d', REPO_ZUUL_D)
        self.assertEqual('experimental', job['stage'])
        self.assertEqual('ready-for-gate', job['verdict'])
        self.assertEqual('check-arm64', job['next-stage'])
        self.assertEqual("in the project's templates: "
                         'kolla-aarch64-experimental -> '
                         'kolla-aarch64-check-arm64', job['change'])

    def test_a_gating_job_not_ready_for_gate_moves_back(self):
        project = self.write(self.dir, 'kolla/.zuul.yaml',
                             PROJECT.replace('check-arm64', 'gate'))
        job = self.job(rd.history('kolla-build-ubuntu-source-aarch64',
                                  'kolla-build-ubuntu-source', OK,
                                  arm_nodeset='ubuntu-noble-arm64-large',
                                  arm_pipeline='gate'),
                       'kolla-build-ubuntu-source-aarch64',
                       '--zuul-d', REPO_ZUUL_D, '--zuul-d', project)
        self.assertEqual(('gate', 'ready-for-check-arm64', 'check-arm64'),
                         (job['stage'], job['verdict'], job['next-stage']))
        self.assertEqual(f'{project}:4: templates: kolla-aarch64-gate -> '
                         'kolla-aarch64-check-arm64', job['change'])

    def test_a_job_not_ready_stays_where_it_is(self):
        job = self.job(rd.history('kolla-aarch64-buildset-registry',
                                  'kolla-buildset-registry', OK[:3]),
                       'kolla-aarch64-buildset-registry',
                       '--zuul-d', REPO_ZUUL_D)
        self.assertEqual(('check-arm64', 'not-ready', 'check-arm64'),
                         (job['stage'], job['verdict'], job['next-stage']))
        self.assertIsNone(job['change'])

    def test_stage_from_history_without_zuul_d(self):
        gate = self.job(rd.history('tox-py3-arm64', 'tox-py3', OK,
                                   arm_pipeline='gate'))
        self.assertEqual('gate', gate['stage'])
        unknown = self.job(rd.history('tox-py3-arm64', 'tox-py3', OK,
                                      arm_pipeline='periodic'))
        self.assertEqual('unknown', unknown['stage'])

    def test_odd_hand_written_config_is_not_a_crash(self):
        odd = self.write(self.dir, 'odd/zuul.yaml', """\
            - job:
                name: tox-py3-arm64
                parent: [base]
                timeout: soon
                nodeset: {nodes: [{name: a, label: [ubuntu-noble-arm64]}]}
            - project:
                templates: {a: b}
                check-arm64:
                  jobs: tox-py3-arm64
            - project:
                templates: [[nested], kolla-aarch64-gate]
            - project-template:
                name: kolla-aarch64-gate
                gate:
                  jobs: [{tox-py3-arm64: {voting: true}}]
            """)
        job = self.job(rd.history('tox-py3-arm64', 'tox-py3', OK),
                       'tox-py3-arm64', '--zuul-d', odd)
        self.assertEqual('gate', job['stage'])
        self.assertEqual(['ubuntu-noble-arm64'], job['metrics']['labels'])
        # "timeout: soon" is no timeout; --timeout stands in.
        self.assertEqual(3600, job['metrics']['timeout-seconds'])


class TestOutput(ReadinessCase):

    def test_exit_codes(self):
        code, _ = self.readiness(rd.history('tox-py3-arm64', 'tox-py3', OK))
        self.assertEqual(0, code)
        code, _ = self.readiness(rd.history('tox-py3-arm64', 'tox-py3',
                                            OK[:3]))
        self.assertEqual(1, code)
        # Gating while not ready for gate is a finding.
        code, jobs = self.readiness(rd.history(
            'tox-py3-arm64', 'tox-py3', OK, arm_nodeset='xenial-none',
            arm_pipeline='gate'))
        self.assertEqual('ready-for-check-arm64',
                         jobs['tox-py3-arm64']['verdict'])
        self.assertEqual(1, code)

    def test_json_is_strict_when_the_gate_is_never_served(self):
        inventory = self.write(self.dir, 'zero.yaml', SMALL_INVENTORY.replace(
            '        cloud: small\n',
            '        cloud: small\n        max-servers: 0\n'))
        path = rd.write(os.path.join(self.dir, 'b.json'),
                        rd.history('tox-py3-arm64', 'tox-py3', OK))
        code, out, _ = self.run_cli('readiness', '--builds', path,
                                    '--inventory', inventory, '--format',
                                    'json', '--timeout', '3600')

        def refuse(name):
            raise AssertionError(f'{name} is not JSON')
        job = json.loads(out, parse_constant=refuse)['jobs'][0]
        self.assertEqual('inf', job['metrics']['simulated-gate-wait-minutes'])
        self.assertEqual('inf', job['criteria']['capacity']['value'])
        self.assertIn('capacity', job['failed'])

    def test_json_keys_and_window(self):
        path = rd.write(os.path.join(self.dir, 'b.json'),
                        rd.history('tox-py3-arm64', 'tox-py3', OK))
        code, out, _ = self.run_cli('readiness', '--builds', path,
                                    '--format', 'json', '--since',
                                    '2026-11-03T00:00:00')
        data = json.loads(out)
        self.assertEqual({'jobs', 'window'}, set(data))
        job = data['jobs'][0]
        self.assertLessEqual({'job', 'counterpart', 'stage', 'verdict',
                              'failed', 'metrics'}, set(job))
        self.assertEqual('2026-11-03T00:00:00+00:00', data['window']['start'])
        # 20 patchsets 5 h apart from 2 Nov 08:00: 16 of them after 3 Nov.
        self.assertEqual(16, job['metrics']['runs'])

    def test_text_shows_each_failed_number_against_its_threshold(self):
        path = rd.write(os.path.join(self.dir, 'b.json'), rd.history(
            'tox-py3-arm64', 'tox-py3', ['FAILURE'] * 2 + OK[:8]))
        code, out, _ = self.run_cli('readiness', '--builds', path,
                                    '--timeout', '3600')
        self.assertEqual(1, code)
        self.assertIn('FAIL runs (check-arm64): 10 runs < 14', out)
        self.assertIn('FAIL arm64-specific-failures (check-arm64): '
                      'Arm64-specific failure rate 0.2 > 0.05', out)
        self.assertIn('=>  not-ready', out)

    def test_plot_writes_one_png_per_job(self):
        builds = rd.history('tox-py3-arm64', 'tox-py3', OK) + rd.history(
            'kolla-aarch64-buildset-registry', 'kolla-buildset-registry',
            OK[:5])
        plots = os.path.join(self.dir, 'plots')
        self.readiness(builds, '--plot', plots)
        names = sorted(os.listdir(plots))
        self.assertEqual(['kolla-aarch64-buildset-registry.png',
                          'tox-py3-arm64.png'], names)
        for name in names:
            with open(os.path.join(plots, name), 'rb') as f:
                self.assertEqual(b'\x89PNG', f.read(4))

    def test_unwritable_plot_directory_is_one_line_exit_2(self):
        blocker = os.path.join(self.dir, 'a-file')
        with open(blocker, 'w'):
            pass
        path = rd.write(os.path.join(self.dir, 'b.json'),
                        rd.history('tox-py3-arm64', 'tox-py3', OK))
        code, _, err = self.run_cli('readiness', '--builds', path,
                                    '--plot', os.path.join(blocker, 'p'))
        self.assertEqual(2, code)
        self.assertEqual(1, len(err.splitlines()), err)
        self.assertIn('cannot write', err)


class TestBadInput(ReadinessCase):

    def bad(self, text, *extra, raw=False):
        path = os.path.join(self.dir, 'bad.json')
        with open(path, 'wb' if raw else 'w') as f:
            f.write(text)
        plots = os.path.join(self.dir, 'plots')
        code, out, err = self.run_cli('readiness', '--builds', path,
                                      '--plot', plots, *extra)
        self.assertEqual(2, code, err)
        self.assertEqual('', out)
        self.assertEqual(1, len(err.splitlines()), err)
        self.assertNotIn('Traceback', err)
        self.assertFalse(os.path.exists(plots))
        return err

    def test_malformed_json(self):
        err = self.bad('[{"job_name": "a",\n')
        self.assertIn('bad.json:2: invalid JSON', err)

    def test_missing_field(self):
        build = rd.build('tox-py3-arm64')
        del build['pipeline']
        err = self.bad(json.dumps([rd.build('x'), build]))
        self.assertIn('[1].pipeline: missing', err)

    def test_unknown_result(self):
        err = self.bad(json.dumps([rd.build('x', result='EXPLODED')]))
        self.assertIn("[0].result: unknown result 'EXPLODED'", err)

    def test_not_utf8(self):
        err = self.bad(b'[{"job_name": "caf\xe9"}]', raw=True)
        self.assertIn('bad.json:1: not UTF-8 text', err)

    def test_huge_file(self):
        from nodepool_aarch64.formats import zuulbuilds
        self.useFixture(fixtures.MockPatchObject(
            zuulbuilds, 'MAX_BYTES', 100))
        err = self.bad(json.dumps([rd.build('x')]))
        self.assertIn('file too large: the limit is 100 bytes', err)

    def test_bad_options(self):
        good = json.dumps([rd.build('x')])
        self.assertIn('--slo', self.bad(good, '--slo', 'check:p95:10'))
        self.assertIn('--since', self.bad(good, '--since', 'last week'))
        self.assertIn('--pair', self.bad(good, '--pair', 'onlyarm'))
        self.assertIn('--max-infra-failure-rate',
                      self.bad(good, '--max-infra-failure-rate', '2'))

    def test_zuul_d_errors_are_one_line(self):
        broken = self.write(self.dir, 'zuul.d/broken.yaml', textwrap.dedent(
            """\
            - job:
                name: a
              nodeset: [
            """))
        err = self.bad(json.dumps([rd.build('x')]), '--zuul-d',
                       os.path.dirname(broken))
        self.assertIn('broken.yaml', err)


class TestShippedKolla(ReadinessCase):
    """What doc/source/readiness.rst says about Kolla stays true."""

    LARGE = {'kolla-build-debian-source-aarch64',
             'kolla-build-ubuntu-source-aarch64',
             'kolla-ansible-debian-source-aarch64'}
    # Jobs on regular nodes, which every region serves.
    REGULAR = {'kolla-aarch64-buildset-registry': ['ubuntu-noble-arm64'],
               'kolla-dockerfiles-aarch64': ['debian-bookworm-arm64']}

    def test_large_labels_keep_kolla_out_of_gate(self):
        from nodepool_aarch64.inventory import load_inventory
        from nodepool_aarch64.readiness import promotion
        from nodepool_aarch64.readiness import zuulconfig
        config = zuulconfig.ZuulConfig([REPO_ZUUL_D])
        inv = load_inventory()
        gating = set(config.templates['kolla-aarch64-gate'])
        self.assertEqual(self.LARGE | set(self.REGULAR), gating)
        for job in sorted(gating):
            labels = config.labels(job)
            clouds, _ = promotion.providers_check(inv, labels)
            if job in self.LARGE:
                self.assertTrue(all(la.endswith('-large') for la in labels))
                self.assertEqual(1, clouds, job)
            else:
                self.assertEqual(self.REGULAR[job], labels)
                self.assertEqual(3, clouds, job)

    def test_clean_history_verdicts(self):
        builds = []
        for job in sorted(self.LARGE | {'kolla-aarch64-buildset-registry'}):
            x86 = job.replace('-aarch64', '')
            builds += rd.history(job, x86, OK * 2, hours_apart=8,
                                 arm_duration=7200, x86_duration=4800)
        code, jobs = self.readiness(builds, '--zuul-d', REPO_ZUUL_D)
        self.assertEqual('ready-for-gate',
                         jobs['kolla-aarch64-buildset-registry']['verdict'])
        for job in self.LARGE:
            self.assertEqual('ready-for-check-arm64', jobs[job]['verdict'])
            self.assertEqual(['providers'], jobs[job]['failed'])


class TestPromotionDemand(base.TestCase):
    """The replay of a promoted job makes node requests as capacity
    does, through the same filter."""

    def test_a_record_no_build_could_make_is_skipped(self):
        from nodepool_aarch64.formats import zuulbuilds
        from nodepool_aarch64.readiness import promotion
        arm = zuulbuilds.parse([rd.build('tox-py3-arm64',
                                         pipeline='check-arm64',
                                         nodeset='ubuntu-noble-arm64')], 'f')
        x86 = zuulbuilds.parse([
            rd.build('tox-py3', pipeline='gate'),
            rd.build('tox-py3', pipeline='gate', duration=3 * 86400)], 'f')
        rows, gate, ratio = promotion.promotion_demand(
            'tox-py3-arm64', arm, x86,
            lambda job, nodeset: ['ubuntu-noble-arm64'],
            {'ubuntu-noble-arm64'})
        self.assertEqual((1, 1), (gate, len(rows)))
        self.assertEqual({'held a node over 2 days': 1}, rows.skipped)
        arrival, pipeline, label, hold, waited = rows.rows[0]
        self.assertEqual((x86[0].arrival, 'gate', 'ubuntu-noble-arm64'),
                         (arrival, pipeline, label))
        self.assertEqual(x86[0].duration * ratio, hold)
        self.assertEqual(60, waited)


class TestRequest(base.TestCase):
    """A readiness run takes a typed Request, not the parsed options."""

    def test_a_run_needs_no_command_line(self):
        from nodepool_aarch64.readiness import criteria
        from nodepool_aarch64.readiness import evaluate
        path = rd.write(os.path.join(self.tempdir(), 'builds.json'),
                        rd.history('tox-py3-arm64', 'tox-py3', OK))
        jobs, window = evaluate.run(
            evaluate.Request(builds=(path,), timeout=3600),
            criteria.Thresholds())
        self.assertEqual(['tox-py3-arm64'], [j['job'] for j in jobs])
        self.assertEqual(len(OK) * 3, window['builds'])

    def test_every_option_reaches_the_request(self):
        import dataclasses
        from nodepool_aarch64 import cli
        from nodepool_aarch64.readiness import cli as readiness_cli
        args = cli.build_parser().parse_args([
            'readiness', '--zuul-url', 'https://zuul.example',
            '--tenant', 't', '--http-timeout', '9', '--page-size', '7',
            '--project', 'p', '--job', 'j-arm64', '--pair', 'j-arm64=j',
            '--since', '3d', '--until', '2026-11-02T00:00:00',
            '--inventory', 'inv.yaml', '--zuul-d', 'zuul.d',
            '--timeout', '60', '--affected-share', 'j-arm64=0.5',
            '--seed', '4'])
        request = readiness_cli.request(args)
        self.assertEqual(dict(
            builds=(), zuul_url='https://zuul.example', tenant='t',
            http_timeout=9.0, page_size=7, projects=('p',),
            jobs=('j-arm64',), pairs=('j-arm64=j',), since='3d',
            until='2026-11-02T00:00:00', inventory='inv.yaml',
            zuul_d=('zuul.d',), timeout=60,
            affected_share=(('j-arm64', 0.5),), seed=4),
            dataclasses.asdict(request))
