"""``capacity plan`` and ``simulate``: plans that can be applied, input
that cannot silently mean nothing."""

import datetime
import json
import os
import shlex

import fixtures
import testtools
import yaml

from nodepool_aarch64.capacity import demand as dm
from nodepool_aarch64.capacity import schedule as sc
from nodepool_aarch64.inventory import DEFAULT_INVENTORY, load_inventory
from tests import base
from tests import windows
from tests.unit import test_capacity_demand

UTC = datetime.timezone.utc
REPO = base.REPO
MAINTENANCE_WEEK = windows.MAINTENANCE_WEEK


def run_cli(*args):
    return base.run_cli('capacity', *args)


class CliTest(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.dir = self.useFixture(fixtures.TempDir()).path

    def path(self, name):
        return os.path.join(self.dir, name)

    def demand_csv(self, per_week=500, weeks=1, seed=1, origin=None,
                   factors=None, name='demand.csv'):
        inv = load_inventory()
        demand = dm.synthetic(per_week, dm.label_mix(inv), weeks=weeks,
                              seed=seed, week_factors=factors,
                              origin=origin or MAINTENANCE_WEEK)
        path = self.path(name)
        test_capacity_demand.write_csv(demand, path)
        return path

    def assertUnusable(self, args, *words):
        code, out, err = run_cli(*args)
        self.assertEqual(2, code, out + err)
        self.assertEqual(1, len(err.strip().splitlines()), err)
        self.assertNotIn('Traceback', err)
        for word in words:
            self.assertIn(word, err)
        return err


class TestReadmeExample(CliTest):

    def test_defaults_meet_the_slo_and_show_it(self):
        # The README's example, run as it is written there.  Without warm
        # nodes gate p95 sits at the launch-time floor (~10.5 min); the
        # plan must get under it, and say by how much.
        with open(os.path.join(REPO, 'README.rst')) as f:
            lines = [line.strip() for line in f]
        at = next(i for i, line in enumerate(lines)
                  if line.startswith('$ nodepool-aarch64 capacity plan'))
        args = shlex.split(lines[at][2:])[1:]
        self.assertEqual(['capacity', 'plan'], args[:2])
        code, out, err = run_cli(*args[1:])
        self.assertEqual(0, code, out + err)
        # What the README shows is what it prints (the plan is
        # deterministic).
        shown = lines[at + 1:lines.index('...', at)]
        self.assertEqual(shown, [line.strip()
                                 for line in out.splitlines()[:len(shown)]])
        row = next(line for line in out.splitlines()
                   if line.startswith('plan '))
        measured = float(row.split()[5])
        self.assertLessEqual(measured, 10)
        self.assertTrue(row.endswith('yes'))
        self.assertIn('full quota', out)

    def test_plan_does_not_depend_on_the_seed(self):
        csv = self.demand_csv()
        plans = []
        for seed in ('1', '2', '3'):
            code, out, err = run_cli('plan', '--csv', csv, '--seed', seed,
                                     '--format', 'json')
            self.assertEqual(0, code, err)
            data = json.loads(out)
            plans.append((data['schedule'], data['min-ready']))
        self.assertEqual(plans[0], plans[1])
        self.assertEqual(plans[0], plans[2])


class TestWriteInventory(CliTest):

    def test_written_inventory_keeps_the_rest_and_reproduces(self):
        csv = self.demand_csv()
        written = self.path('inventory.yaml')
        code, out, err = run_cli('plan', '--csv', csv, '--format', 'json',
                                 '--write-inventory', written)
        self.assertEqual(0, code, err)
        data = json.loads(out)
        with open(written) as f:
            text = f.read()
        with open(DEFAULT_INVENTORY) as f:
            shipped = f.read()
        # Everything before the windows is as it was, comments included.
        head = shipped[:shipped.index('    # Peak testing time')]
        self.assertTrue(text.startswith(head))
        raw = yaml.safe_load(text)
        windows = raw['capacity']['windows']
        names = [w['name'] for w in windows]
        # The maintenance window is kept, and last, so it still wins.
        self.assertEqual('linaro-cn1-maintenance', names[-1])
        self.assertNotIn('weekday-peak', names)
        self.assertIn('# Planned maintenance of the China region.', text)
        self.assertTrue(any('min-ready' in w for w in windows))
        self.assertEqual(['weekday-peak'],
                         data['plan']['replaces-windows'])
        inv = load_inventory(written)
        self.assertEqual([label.min_ready for label in load_inventory()
                          .labels], [label.min_ready
                                     for label in inv.labels])
        # simulate --inventory on the result gives the plan's numbers.
        code, out, err = run_cli('simulate', '--inventory', written, '--csv',
                                 csv, '--format', 'json')
        self.assertEqual(0, code, err)
        sim = json.loads(out)
        plan = data['compare']['plan']
        self.assertEqual(plan['slo-measured-minutes'][0],
                         sim['wait-minutes']['pipeline']['gate']['p95'])
        self.assertLessEqual(plan['slo-measured-minutes'][0], 10)
        self.assertEqual(
            plan['idle-ready-node-hours-per-week'],
            sim['idle-ready-node-hours'])
        # The maintenance window holds in this week: linaro-cn1 at 0 on
        # Saturday morning, whatever the plan said for that hour.
        saturday = 5 * sc.DAY + 3 * sc.HOUR
        cn1 = inv.provider('linaro-cn1')
        at = sc.from_inventory(inv, MAINTENANCE_WEEK).at(saturday)
        self.assertEqual(0, at[[p.name for p in inv.providers]
                               .index(cn1.name)])
        self.assertEqual(sorted(['inventory.yaml', 'demand.csv']),
                         sorted(os.listdir(self.dir)))

    def test_missing_directory_writes_nothing(self):
        target = self.path('no/such/dir/inventory.yaml')
        self.assertUnusable(['plan', '--synthetic', '300',
                             '--write-inventory', target], 'no directory')
        self.assertFalse(os.path.exists(self.path('no')))

    def test_both_outputs_or_neither(self):
        csv = self.demand_csv()
        written = self.path('inventory.yaml')
        with open(written, 'w') as f:
            f.write('old inventory\n')
        fifo = self.path('windows.yaml')
        os.mkfifo(fifo)
        code, out, err = run_cli('plan', '--csv', csv, '--write-inventory',
                                 written, '--windows-output', fifo)
        self.assertEqual(2, code, err)
        self.assertEqual(1, len(err.strip().splitlines()), err)
        with open(written) as f:
            self.assertEqual('old inventory\n', f.read())
        self.assertEqual(
            sorted(['inventory.yaml', 'demand.csv', 'windows.yaml']),
            sorted(os.listdir(self.dir)))

    def test_one_path_for_both_outputs_is_refused(self):
        csv = self.demand_csv()
        same = self.path('out.yaml')
        self.assertUnusable(['plan', '--csv', csv, '--write-inventory', same,
                             '--windows-output', same],
                            'the same file for --write-inventory and '
                            '--windows-output')
        self.assertFalse(os.path.exists(same))


class TestHoldout(CliTest):

    def test_reports_held_out_weeks(self):
        csv = self.demand_csv(per_week=400, weeks=3,
                              factors=[0.8, 1.2, 1.0])
        code, out, err = run_cli('plan', '--csv', csv, '--holdout', '1',
                                 '--format', 'json')
        self.assertIn(code, (0, 1), err)
        data = json.loads(out)
        self.assertEqual({'fitted': 2, 'held-out': 1}, data['weeks'])
        held = data['compare']['plan']['held-out']
        self.assertEqual(1, len(held['per-week']))
        self.assertEqual(held['per-week'][0], held['slo-measured-minutes'])
        self.assertEqual(0 if held['slo-met'] else 1, code)
        code, out, err = run_cli('plan', '--csv', csv, '--holdout', '1')
        self.assertIn('held-out (min)', out)

    def test_several_files_are_one_history(self):
        first = self.demand_csv(per_week=300, seed=1, name='a.csv')
        second = self.demand_csv(
            per_week=300, seed=2, name='b.csv',
            origin=MAINTENANCE_WEEK + datetime.timedelta(days=7))
        code, out, err = run_cli('plan', '--csv', first, second,
                                 '--holdout', '1', '--format', 'json')
        self.assertIn(code, (0, 1), err)
        self.assertEqual({'fitted': 1, 'held-out': 1},
                         json.loads(out)['weeks'])

    def test_holdout_must_leave_weeks_to_fit(self):
        self.assertUnusable(['plan', '--synthetic', '300', '--weeks', '2',
                             '--holdout', '2'], '--holdout',
                            'spans 2 week(s)')
        self.assertUnusable(['plan', '--holdout', '-1'], '--holdout')


class TestInputThatMeansNothing(CliTest):

    def test_slo_naming_unknown_pipeline_or_label(self):
        err = self.assertUnusable(['plan', '--synthetic', '300', '--slo',
                                   'gaet:p95:10'], "'gaet'")
        self.assertIn('check, check-arm64, experimental, gate', err)
        err = self.assertUnusable(
            ['plan', '--synthetic', '300', '--slo',
             'gate/ubuntu-bionc-arm64:p95:10'], "'ubuntu-bionc-arm64'")
        self.assertIn('ubuntu-bionic-arm64', err)

    def test_the_option_at_fault_is_named(self):
        # The planner's own errors name no option; the command line adds
        # the one the value came from.
        self.assertUnusable(['plan', '--synthetic', '300', '--slo',
                             'gate:95:10'], '--slo: ', "'gate:95:10'",
                            'PIPELINE:pQUANTILE:MINUTES')
        self.assertUnusable(['plan', '--synthetic', '300', '--block', '5'],
                            '--block: ', 'divisor of 168')

    def test_empty_demand(self):
        csv = self.path('empty.csv')
        with open(csv, 'w') as f:
            f.write('pipeline,label,start_time,end_time\n')
        for command in ('plan', 'simulate'):
            self.assertUnusable([command, '--csv', csv], 'no node requests')
        builds = self.path('builds.json')
        with open(builds, 'w') as f:
            json.dump([{'pipeline': 'check', 'nodeset': 'ubuntu-noble',
                        'start_time': '2026-01-06T10:00:00',
                        'end_time': '2026-01-06T10:20:00'}], f)
        self.assertUnusable(['plan', '--builds', builds],
                            'no node requests', 'ubuntu-noble (1)')

    def test_numeric_options(self):
        cases = [
            (['--synthetic', '0'], '--synthetic'),
            (['--synthetic', '-5'], '--synthetic'),
            (['--weeks', '0'], '--weeks'),
            (['--launch-sd', '-1'], '--launch-sd'),
            (['--launch-mean', 'nan'], '--launch-mean'),
            (['--launch-mean', 'inf'], '--launch-mean'),
            (['--failure-rate', '1'], '--failure-rate'),
        ]
        for args, word in cases:
            for command in ('simulate', 'plan'):
                self.assertUnusable([command] + args, word)
        self.assertUnusable(['plan', '--floor', '-3'], '--floor')
        self.assertUnusable(['plan', '--floor', '57'], '--floor')
        self.assertUnusable(['plan', '--trim-budget', '-1'], '--trim-budget')
        self.assertUnusable(['simulate', '--schedule', 'static:0'],
                            'static:N with N from 1 to 56')
        self.assertUnusable(['simulate', '--schedule', 'static:99'],
                            'static:N')


class TestEncodings(CliTest):

    def encoded(self, encoding, name, bom=b''):
        source = self.demand_csv(per_week=200)
        with open(source, encoding='utf-8') as f:
            text = f.read()
        path = self.path(name)
        with open(path, 'wb') as f:
            f.write(bom + text.encode(encoding))
        return path, text

    def test_spreadsheet_exports_read_alike(self):
        plain = dm.from_csv(self.demand_csv(per_week=200))
        for encoding, bom in (('utf-8', b'\xef\xbb\xbf'), ('utf-16', b''),
                              ('utf-16-be', b'\xfe\xff')):
            path, _ = self.encoded(encoding, f'{encoding}.csv', bom)
            again = dm.from_csv(path)
            self.assertEqual(list(plain.records()), list(again.records()),
                             encoding)
        code, out, err = run_cli('simulate', '--csv', path)
        self.assertEqual(0, code, err)

    def test_other_encodings_are_one_line(self):
        path, _ = self.encoded('utf-16-le', 'nobom.csv')
        self.assertUnusable(['simulate', '--csv', path],
                            'UTF-16 without a byte-order mark')
        path, _ = self.encoded('utf-32', 'utf32.csv')
        self.assertUnusable(['simulate', '--csv', path], 'UTF-32')
        path = self.path('latin1.csv')
        with open(path, 'wb') as f:
            f.write('pipeline,label,start_time,end_time\n'
                    'check,caf\xe9,2026-01-05T00:00,2026-01-05T01:00\n'
                    .encode('latin-1'))
        self.assertUnusable(['simulate', '--csv', path], 'not UTF-8 text',
                            'UTF-16 with a byte-order mark')
        builds = self.path('builds.json')
        with open(builds, 'wb') as f:
            f.write(b'\xef\xbb\xbf[]')
        # A BOM before JSON is read; an empty list is then no demand.
        self.assertUnusable(['simulate', '--builds', builds],
                            'no node requests')


class TestSimulateKeys(CliTest):

    def test_json_keys_other_tools_compare(self):
        code, out, err = run_cli('simulate', '--synthetic', '200',
                                 '--format', 'json')
        self.assertEqual(0, code, err)
        data = json.loads(out)
        self.assertIsInstance(data['wait-minutes']['pipeline']['gate']['p95'],
                              float)
        self.assertIn('capacity-node-hours', data)
        self.assertIn('idle-ready-node-hours', data)
