"""``capacity control``: replay, one step, the audit log and restarts."""

import datetime
import json
import os


from nodepool_aarch64.capacity import audit
from nodepool_aarch64.capacity import control
from nodepool_aarch64.capacity import demand as dm
from nodepool_aarch64.capacity import metrics
from nodepool_aarch64.capacity import plan as pl
from nodepool_aarch64.capacity import replay
from nodepool_aarch64.capacity import simulate as sim
from nodepool_aarch64.capacity.schedule import HOUR, WEEK
from nodepool_aarch64.errors import InputError
from nodepool_aarch64.inventory import load_inventory
from tests import base

ORIGIN = datetime.datetime(2026, 1, 5, tzinfo=dm.UTC)
# Monday of the third week, 14:00: inside the shipped weekday peak.
AT = '2026-01-19T14:00Z'
GATE = pl.parse_objective('gate:p95:10')


def iso(moment):
    return moment.strftime('%Y-%m-%dT%H:%M:%SZ')


def write_csv(path, demand, late_gate_after=None):
    """The demand as CSV history: one minute's wait, or 30 minutes for
    gate requests arriving after ``late_gate_after`` seconds."""
    rows = ['pipeline,label,enqueue_time,start_time,end_time']
    for arrival, pipeline, label, hold in demand.records():
        wait = 60.0
        if late_gate_after is not None and pipeline == 'gate' and \
                arrival >= late_gate_after:
            wait = 1800.0
        enqueued = demand.origin + datetime.timedelta(seconds=arrival)
        start = enqueued + datetime.timedelta(seconds=wait)
        end = start + datetime.timedelta(seconds=hold)
        rows.append(f'{pipeline},{label},{iso(enqueued)},{iso(start)},'
                    f'{iso(end)}')
    with open(path, 'w') as f:
        f.write('\n'.join(rows) + '\n')


class ControlCase(base.TestCase):

    def setUp(self):
        super().setUp()
        self.dir = self.tempdir()
        inv = load_inventory()
        self.demand = dm.synthetic(1500, dm.label_mix(inv), weeks=3,
                                   seed=3)
        self.csv = os.path.join(self.dir, 'history.csv')
        self.log = os.path.join(self.dir, 'audit.jsonl')

    def step(self, *extra, at=AT):
        return self.run_cli('capacity', 'control', '--csv', self.csv,
                            '--at', at, '--audit-log', self.log, *extra)

    def lines(self):
        if not os.path.exists(self.log):
            return []
        with open(self.log) as f:
            return [json.loads(line) for line in f]


class TestReplay(ControlCase):

    def test_text_and_json(self):
        code, out, err = self.run_cli('capacity', 'control', '--simulate',
                                      '--synthetic', '800', '--weeks', '2',
                                      '--format', 'json')
        self.assertEqual(0, code, err)
        data = json.loads(out)
        self.assertEqual([1, 2], [w['week'] for w in data['weeks']])
        full = data['full-quota-node-hours-per-week']
        self.assertEqual(56 * 168, full)
        for week in data['weeks']:
            self.assertLess(week['node-hours'], full)
            self.assertGreater(week['node-hours'], 0)
            self.assertIsInstance(week['gate-p95'], float)
        self.assertTrue(data['actions'])
        for action in data['actions']:
            for name, servers in action['max-servers'].items():
                self.assertLessEqual(servers, {
                    'linaro-us': 40, 'linaro-london': 8,
                    'linaro-cn1': 8}[name])
        code, text, err = self.run_cli('capacity', 'control', '--simulate',
                                       '--synthetic', '800', '--weeks', '2')
        self.assertEqual(0, code, err)
        self.assertIn('gate p95 min', text.splitlines()[0])
        self.assertIn(f'full quota: {full} node-hours per week', text)
        self.assertIn(str(data['weeks'][1]['node-hours']).rstrip('0')
                      .rstrip('.'), text)

    def test_the_controller_sees_only_the_past(self):
        inv = load_inventory()
        pools = sim.pools_from_inventory(inv)
        quotas = {'linaro-us': 40, 'linaro-london': 8, 'linaro-cn1': 8}
        providers = {label.name: label.providers for label in inv.labels}
        initial = control.State(dict(quotas),
                                {label.name: 0 for label in inv.labels})
        week1 = self.demand.week_slice(0, 2)
        # The same history with a flood of requests from day 10 on.
        cut = 9 * 24 * HOUR
        flood = dm.Demand(week1.origin, list(week1.records()) + [
            (cut + n * 30.0, 'gate', 'ubuntu-bionic-arm64', 3600.0)
            for n in range(2000)])
        runs = [replay.replay(d, pools, providers, GATE,
                              control.Guards(quotas), initial)
                for d in (week1, flood)]
        before = [[a for a in r['actions']
                   if a['time'] < iso(ORIGIN + datetime.timedelta(
                       seconds=cut))] for r in runs]
        self.assertTrue(before[0])
        self.assertEqual(before[0], before[1])
        self.assertNotEqual(runs[0]['actions'], runs[1]['actions'])

    def test_bad_numbers_are_refused(self):
        for option, value in (('--max-step', '0'), ('--fit-weeks', '0'),
                              ('--min-interval', 'nan')):
            code, out, err = self.run_cli(
                'capacity', 'control', '--simulate', '--synthetic', '100',
                option, value)
            self.assertEqual(2, code, option)
            self.assertIn(option, err)
            self.assertEqual(1, len(err.splitlines()))


class TestStep(ControlCase):

    def test_dry_run_logs_what_it_would_do(self):
        write_csv(self.csv, self.demand.week_slice(0, 3))
        code, out, err = self.step()
        self.assertEqual(0, code, err)
        [line] = self.lines()
        self.assertEqual('dry-run', line['applied'])
        self.assertEqual('2026-01-19T14:00:00Z', line['time'])
        self.assertEqual(48, len(line['forecast']))
        self.assertIn(line['action'], ('raise', 'lower', 'change'))
        self.assertIn(line['action'], out)
        # The inventory's weekday peak was in force before.
        self.assertEqual(40, line['previous']['max-servers']['linaro-us'])
        self.assertLessEqual(
            abs(line['max-servers']['linaro-us'] - 40), 10)

    def test_a_restart_does_not_repeat_the_last_action(self):
        write_csv(self.csv, self.demand.week_slice(0, 3))
        self.assertEqual(0, self.step()[0])
        first = self.lines()
        self.assertEqual(1, len(first))
        # The same step again (a timer firing twice, a restart after a
        # crash): the log says it is done.
        code, out, _ = self.step()
        self.assertEqual(0, code)
        self.assertEqual(first, self.lines())
        self.assertNotIn('raise', out)
        code, out, _ = self.step(at='2026-01-19T14:20Z')
        self.assertEqual(first, self.lines())
        # An hour on, it may act again, starting from what it logged.
        self.step(at='2026-01-19T15:00Z')
        later = self.lines()
        if len(later) == 2:
            self.assertEqual(first[0]['max-servers'],
                             later[1]['previous']['max-servers'])

    def test_a_torn_last_line_is_ignored(self):
        write_csv(self.csv, self.demand.week_slice(0, 3))
        self.step()
        with open(self.log) as f:
            whole = f.read()
        with open(self.log, 'a') as f:
            f.write('{"time": "2026-01-19T14:30:00Z", "max-ser')
        state = audit.last_state(self.log, live=False)
        self.assertEqual(json.loads(whole)['max-servers'],
                         state.max_servers)

    def test_a_damaged_audit_log_is_one_line(self):
        write_csv(self.csv, self.demand.week_slice(0, 3))
        with open(self.log, 'w') as f:
            f.write('{"time": "2026-01-19T13:00:00Z"}\nnot json\n')
        code, out, err = self.step()
        self.assertEqual(2, code)
        self.assertIn(f'{self.log}:2', err)
        self.assertEqual(1, len(err.splitlines()))

    def test_live_writes_the_launcher_config_through_apply(self):
        write_csv(self.csv, self.demand.week_slice(0, 3))
        config = os.path.join(self.dir, 'nodepool.yaml')
        code, out, err = self.step('--live', '--nodepool-config', config,
                                   '--launcher', 'nl03.opendev.org')
        self.assertEqual(0, code, err)
        [line] = self.lines()
        self.assertEqual('nodepool replaced', line['applied'])
        import yaml
        with open(config) as f:
            rendered = yaml.safe_load(f)
        pools = {p['name']: p['pools'][0]['max-servers']
                 for p in rendered['providers']}
        self.assertEqual(line['max-servers'], pools)
        labels = {la['name']: la.get('min-ready', 0)
                  for la in rendered['labels']}
        self.assertEqual(line['min-ready'], labels)
        # A dry-run log entry does not count as in force for --live.
        self.assertIsNone(audit.last_state(self.log, live=False))

    def test_live_needs_somewhere_to_apply(self):
        write_csv(self.csv, self.demand.week_slice(0, 3))
        code, out, err = self.step('--live')
        self.assertEqual(2, code)
        self.assertIn('--nodepool-config', err)
        self.assertEqual([], self.lines())

    def test_late_gate_builds_raise_capacity(self):
        history = self.demand.week_slice(0, 3)
        at = 2 * WEEK + 14 * HOUR
        write_csv(self.csv, history)
        self.step('--max-step', '100')
        calm = self.lines()[-1]
        os.unlink(self.log)
        write_csv(self.csv, history, late_gate_after=at - 3 * HOUR)
        self.step('--max-step', '100')
        late = self.lines()[-1]
        self.assertLess(late['budget-left'], calm['budget-left'])
        self.assertGreater(late['burn'], 1.0)
        self.assertGreater(sum(late['max-servers'].values()),
                           sum(calm['max-servers'].values()))
        self.assertIn('burning', late['reason'])

    def test_metrics_file(self):
        write_csv(self.csv, self.demand.week_slice(0, 3))
        path = os.path.join(self.dir, 'control.prom')
        self.assertEqual(0, self.step('--metrics', path)[0])
        with open(path) as f:
            text = f.read()
        prefix = metrics.PREFIX
        self.assertIn(f'{prefix}forecast_nodes{{hours_ahead="47"}}', text)
        self.assertIn(f'{prefix}actions_total 1', text)
        self.assertIn(f'{prefix}max_servers{{provider="linaro-us"}}', text)
        self.assertIn(f'{prefix}last_error_timestamp_seconds 0', text)
        left = [line for line in text.splitlines()
                if line.startswith(prefix + 'budget_left_ratio ')]
        self.assertEqual(1, len(left))
        # A failing step records its error; the next good one keeps it.
        os.unlink(self.csv)
        self.assertEqual(2, self.step('--metrics', path)[0])
        self.assertEqual(2, self.step('--metrics', path,
                                      at='2026-01-19T15:00Z')[0])
        write_csv(self.csv, self.demand.week_slice(0, 3))
        self.assertEqual(0, self.step('--metrics', path,
                                      at='2026-01-19T16:00Z')[0])
        error, when = metrics.previous_error(path)
        self.assertIn('history.csv', error)
        self.assertEqual(datetime.datetime(2026, 1, 19, 15,
                                           tzinfo=dm.UTC).timestamp(), when)


class TestAuditLog(base.TestCase):

    def test_records_of_each_mode(self):
        path = os.path.join(self.tempdir(), 'audit.jsonl')
        decision = control.Decision(
            control.State({'p': 3}, {'l': 1}, 0), True, 'raise', [1.0],
            0.5, 2.0)
        before = control.State({'p': 1}, {'l': 0})
        moment = datetime.datetime(2026, 1, 5, 10, tzinfo=dm.UTC)
        audit.append(path, audit.record(moment, decision, before,
                                        'nodepool replaced'))
        audit.append(path, audit.record(
            moment + datetime.timedelta(hours=1), decision, before,
            audit.DRY_RUN))
        live = audit.last_state(path, live=True)
        self.assertEqual({'p': 3}, live.max_servers)
        self.assertEqual(moment.timestamp(), live.since)
        self.assertEqual(moment.timestamp() + 3600,
                         audit.last_state(path, live=False).since)
        self.assertEqual((1, moment.timestamp()),
                         audit.count_actions(path, live=True))

    def test_values_must_be_whole_numbers(self):
        path = os.path.join(self.tempdir(), 'audit.jsonl')
        with open(path, 'w') as f:
            f.write(json.dumps({'time': '2026-01-05T10:00:00Z',
                                'max-servers': {'p': -1}, 'min-ready': {},
                                'applied': 'x'}) + '\n')
        e = self.assertRaises(InputError, audit.last_state, path, True)
        self.assertIn('max-servers', str(e))

    def test_missing_log_is_a_fresh_start(self):
        self.assertIsNone(audit.last_state(
            os.path.join(self.tempdir(), 'none.jsonl'), True))


class TestShippedUnits(base.TestCase):

    def test_the_timer_runs_a_valid_step(self):
        import configparser
        import shlex
        from nodepool_aarch64 import cli
        units = os.path.join(base.REPO, 'etc', 'systemd')
        service = configparser.ConfigParser(interpolation=None, strict=False)
        service.read(os.path.join(units,
                                  'nodepool-aarch64-capacity-control.service'))
        argv = shlex.split(service['Service']['ExecStart'])
        self.assertEqual('nodepool-aarch64', os.path.basename(argv[0]))
        args = cli.build_parser().parse_args(argv[1:])
        self.assertEqual('control', args.capacity_command)
        self.assertTrue(args.audit_log)
        self.assertFalse(args.live)
        timer = configparser.ConfigParser(interpolation=None)
        timer.read(os.path.join(units,
                                'nodepool-aarch64-capacity-control.timer'))
        self.assertIn('OnCalendar', timer['Timer'])
        self.assertEqual('timers.target', timer['Install']['WantedBy'])


class TestCeilings(base.TestCase):

    def test_a_maintenance_window_caps_the_controller(self):
        from nodepool_aarch64 import sizing
        from nodepool_aarch64 import timeutil
        from nodepool_aarch64.capacity import live
        inv = load_inventory()
        quotas = sizing.max_servers(inv, full_quota=True)
        # The shipped linaro-cn1 maintenance, on a Saturday.
        during = timeutil.parse_utc('2026-12-05T03:00Z')
        self.assertEqual(dict(quotas, **{'linaro-cn1': 0}),
                         live.ceilings(inv, during, quotas))
        # A weekly window (the weekday peak) is the controller's to
        # replace: it does not cap it.
        peak = timeutil.parse_utc('2026-12-08T14:00Z')
        self.assertEqual(quotas, live.ceilings(inv, peak, quotas))
