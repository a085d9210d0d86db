"""readiness reads a real zuul-web.

A real merger, scheduler and zuul-web (tests/functional/harness/zuul_services)
run on a TLS ZooKeeper with a SQLite database.  Builds are written into
that database through Zuul's own SQL connection, the way its SQL
reporter writes them (``createBuildSet``, ``getOrCreateRef``,
``createBuild``), and read back by ``nodepool-aarch64 readiness
--zuul-url`` through ``/api/tenant/T/builds``, page by page.  The
verdicts must be the ones the same builds give when saved as JSON.
"""

import configparser
import datetime
import json
import os
import subprocess
import sys


from tests import readinessdata as rd
from tests.functional.harness import gitrepos
from tests.functional import test_zuul_config_errors as tenant_setup
from tests.functional.harness import zuul_services

TENANT = 'arm64'
UTC = datetime.timezone.utc
OK = ['SUCCESS'] * 16
COMMAND = os.path.join(os.path.dirname(sys.executable), 'nodepool-aarch64')
REPO = tenant_setup.REPO


def _history():
    steady = rd.history('tox-py3-arm64', 'tox-py3', OK)
    flaky = rd.history('tox-py311-arm64', 'tox-py311',
                       ['FAILURE'] * 3 + OK[3:], first_change=2000)
    large = rd.history('kolla-build-ubuntu-source-aarch64',
                       'kolla-build-ubuntu-source', OK,
                       arm_nodeset='ubuntu-noble-arm64-large',
                       arm_duration=5400, first_change=3000)
    return sorted(steady + flaky + large, key=lambda b: b['start_time'])


def _time(text):
    return None if text is None else \
        datetime.datetime.fromisoformat(text).replace(tzinfo=UTC)


def record(dburi, builds):
    """Write builds as Zuul's SQL reporter does, through its connection."""
    from zuul.driver.sql import SQLDriver
    from zuul.driver.sql.sqlconnection import SQLConnection
    connection = SQLConnection(SQLDriver(), 'database', {'dburi': dburi})
    try:
        with connection.getSession() as db:
            for b in builds:
                ref = b['ref']
                db_ref = db.getOrCreateRef(
                    project=ref['project'], ref=ref['ref'], ref_url='',
                    change=ref['change'], patchset=ref['patchset'],
                    branch=ref['branch'], oldrev='', newrev='')
                buildset = db.createBuildSet(
                    uuid=b['buildset']['uuid'], tenant=TENANT,
                    pipeline=b['pipeline'], event_id=b['event_id'],
                    event_timestamp=_time(b['event_timestamp']),
                    queue_item_uuid=b['queue_item_uuid'],
                    updated=_time(b['end_time']), result=b['result'])
                buildset.refs.append(db_ref)
                buildset.createBuild(
                    ref=db_ref, uuid=b['uuid'], job_name=b['job_name'],
                    execute_time=_time(b['start_time']),
                    start_time=_time(b['start_time']),
                    end_time=_time(b['end_time']), voting=b['voting'],
                    nodeset=b['nodeset'], result=b['result'],
                    error_detail=b['error_detail'], final=b['final'],
                    held=False, log_url=None)
    finally:
        connection.onStop()


class TestReadinessAgainstZuulWeb(zuul_services.ZuulTestCase):
    def _start_zuul(self):
        git_root = os.path.join(self.base, 'git')
        gitrepos.make_repo(
            os.path.join(git_root, 'site-config'),
            files={'zuul.d/site.yaml': tenant_setup.SITE_CONFIG})
        self.start_zuul([{'tenant': {'name': TENANT, 'source': {'git': {
                'config-projects': ['site-config']}}}}], git_root, TENANT)

    def readiness(self, *args):
        proc = subprocess.run(
            [COMMAND, 'readiness', '--format', 'json',
             '--zuul-d', os.path.join(REPO, 'zuul.d'),
             '--until', '2026-11-06T00:00:00', '--since', '7d',
             '--timeout', '7200'] +
            list(args), capture_output=True, text=True, timeout=300)
        self.assertIn(proc.returncode, (0, 1), proc.stderr)
        return proc.returncode, json.loads(proc.stdout)

    def test_verdicts_from_zuul_web(self):
        self._start_zuul()
        config = configparser.ConfigParser(interpolation=None)
        config.read(self.zuul.config_path)
        builds = _history()
        record(config['database']['dburi'], builds)
        # zuul-web serves what was recorded, in its own shape.
        served = self.zuul.get(f'/tenant/{TENANT}/builds?limit=1000')
        self.assertEqual(len(builds), len(served))
        self.assertEqual({b['uuid'] for b in builds},
                         {b['uuid'] for b in served})

        code, live = self.readiness(
            '--zuul-url', self.zuul.api, '--tenant', TENANT,
            '--project', 'openstack/kolla', '--page-size', '7')
        jobs = {j['job']: j for j in live['jobs']}
        self.assertEqual({'tox-py3-arm64', 'tox-py311-arm64',
                          'kolla-build-ubuntu-source-aarch64'}, set(jobs))
        self.assertEqual(len(builds), live['window']['builds'])
        steady = jobs['tox-py3-arm64']
        self.assertEqual('ready-for-gate', steady['verdict'], steady)
        self.assertEqual(16, steady['metrics']['runs'])
        flaky = jobs['tox-py311-arm64']
        self.assertEqual('not-ready', flaky['verdict'])
        self.assertIn('arm64-specific-failures', flaky['failed'])
        self.assertEqual(3, flaky['metrics']['arm64-specific-failures'])
        large = jobs['kolla-build-ubuntu-source-aarch64']
        self.assertEqual('ready-for-check-arm64', large['verdict'])
        self.assertEqual(['providers'], large['failed'])
        self.assertEqual(1, code)

        # The same builds saved as the API serves them: the same answer.
        saved = os.path.join(self.base, 'served.json')
        with open(saved, 'w') as f:
            json.dump(served, f)
        _, offline = self.readiness('--builds', saved)
        self.assertEqual(live['jobs'], offline['jobs'])

        # A job filter asks zuul-web for that job and its counterpart.
        _, one = self.readiness('--zuul-url', self.zuul.api, '--tenant',
                                TENANT, '--job', 'tox-py3-arm64')
        self.assertEqual(['tox-py3-arm64'], [j['job'] for j in one['jobs']])
        # Its own numbers are the same; only the capacity background (the
        # other Arm64 jobs, not asked for) differs.
        own = ('runs', 'pass-rate', 'arm64-specific-failures',
               'infra-failures', 'duration-p95-seconds',
               'node-wait-p95-seconds', 'daily')
        self.assertEqual({k: steady['metrics'][k] for k in own},
                         {k: one['jobs'][0]['metrics'][k] for k in own})
        self.assertEqual('ready-for-gate', one['jobs'][0]['verdict'])

        # A tenant zuul-web does not know: one line, exit 2.
        proc = subprocess.run(
            [COMMAND, 'readiness', '--zuul-url', self.zuul.api, '--tenant',
             'nope'], capture_output=True, text=True, timeout=120)
        self.assertEqual(2, proc.returncode, proc.stderr)
        self.assertEqual(1, len(proc.stderr.splitlines()), proc.stderr)
        self.assertIn('HTTP 404', proc.stderr)
