"""The capacity report's PNGs and page, and the capacity CLI."""

import json
import os

import fixtures
import matplotlib.image
import testtools

from nodepool_aarch64 import sizing
from nodepool_aarch64.capacity import demand as dm
from nodepool_aarch64.capacity import plan as pl
from nodepool_aarch64.capacity import report
from nodepool_aarch64.capacity import schedule as sc
from nodepool_aarch64.capacity import simulate as sim
from nodepool_aarch64.inventory import load_inventory
from tests import base

PNG_MAGIC = b'\x89PNG\r\n\x1a\n'


def run_cli(*args):
    return base.run_cli('capacity', *args)


class TestReport(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.dir = self.useFixture(fixtures.TempDir()).path

    def assertPicture(self, path):
        with open(path, 'rb') as f:
            self.assertEqual(PNG_MAGIC, f.read(8))
        self.assertGreater(os.path.getsize(path), 10_000)
        pixels = matplotlib.image.imread(path)
        self.assertGreater(pixels.shape[0], 300)
        self.assertGreater(pixels.shape[1], 800)
        # Not blank: many distinct colours, and a good share of pixels
        # that are not the white background.
        rgb = pixels[..., :3].reshape(-1, 3)
        colours = {tuple(p) for p in (rgb * 255).astype(int)[::7]}
        self.assertGreater(len(colours), 20)
        ink = (rgb.sum(axis=1) < 2.9).mean()
        self.assertGreater(ink, 0.02)

    def test_write(self):
        inv = load_inventory()
        demand = dm.synthetic(600, dm.label_mix(inv), seed=2)
        pools = sim.pools_from_inventory(inv)
        quotas = sizing.max_servers(inv, full_quota=True)
        schedules = [('inventory', sc.from_inventory(inv)),
                     ('static 10', pl.static_schedule(10, quotas))]
        results = [(n, sim.simulate(demand, pools, s)) for n, s in schedules]
        paths = report.write(os.path.join(self.dir, 'out'), demand,
                             schedules, results, notes=['A note.'])
        demand_png, waits_png, page = paths
        self.assertPicture(demand_png)
        self.assertPicture(waits_png)
        with open(page) as f:
            text = f.read()
        self.assertIn(f'![Node demand against capacity]'
                      f'({report.DEMAND_PNG})', text)
        self.assertIn(f'({report.WAITS_PNG})', text)
        self.assertIn('A note.', text)
        gate_row = next(line for line in text.splitlines()
                        if line.startswith('| static 10 | 1680 |')
                        and '| gate |' in line)
        p95 = results[1][1].percentile(95, pipeline='gate') / 60
        self.assertIn(f'| {p95:.1f} |', gate_row)

    def _inputs(self):
        inv = load_inventory()
        demand = dm.synthetic(200, dm.label_mix(inv), seed=2)
        pools = sim.pools_from_inventory(inv)
        schedules = [('inventory', sc.from_inventory(inv))]
        results = [(n, sim.simulate(demand, pools, s)) for n, s in schedules]
        return demand, schedules, results

    def test_symlink_planted_in_the_output_is_replaced_not_followed(self):
        out = os.path.join(self.dir, 'out')
        os.makedirs(out)
        victim = os.path.join(self.dir, 'victim')
        with open(victim, 'w') as f:
            f.write('keep me\n')
        os.symlink(victim, os.path.join(out, report.WAITS_PNG))
        report.write(out, *self._inputs())
        with open(victim) as f:
            self.assertEqual('keep me\n', f.read())
        self.assertFalse(os.path.islink(os.path.join(out, report.WAITS_PNG)))

    def test_report_is_written_all_or_nothing(self):
        out = os.path.join(self.dir, 'out')
        os.makedirs(os.path.join(out, report.PAGE))  # the page cannot go
        self.assertRaises(OSError, report.write, out, *self._inputs())
        self.assertEqual([report.PAGE], os.listdir(out))

    def test_cli_report(self):
        out_dir = os.path.join(self.dir, 'report')
        code, out, err = run_cli('report', '--synthetic', '400', '--seed',
                                 '1', '--trim-budget', '5', '--block', '6',
                                 '--slo', 'gate:p95:15', '--output', out_dir)
        self.assertEqual(0, code, err)
        self.assertEqual(sorted(['demand-capacity.png', 'waits.png',
                                 'index.md']), sorted(os.listdir(out_dir)))
        self.assertPicture(os.path.join(out_dir, 'waits.png'))
        with open(os.path.join(out_dir, 'index.md')) as f:
            text = f.read()
        self.assertIn('| plan |', text)
        self.assertIn('The plan meets gate p95 <= 15 min', text)

    def test_cli_report_json(self):
        out_dir = os.path.join(self.dir, 'report')
        code, out, err = run_cli('report', '--synthetic', '100', '--seed',
                                 '1', '--no-plan', '--output-dir', out_dir,
                                 '--format', 'json')
        self.assertEqual(0, code, err)
        data = json.loads(out)
        self.assertEqual(out_dir, data['directory'])
        self.assertEqual(sorted(os.listdir(out_dir)),
                         sorted(os.path.basename(p) for p in data['files']))


class TestCapacityCli(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.dir = self.useFixture(fixtures.TempDir()).path

    def test_simulate_json(self):
        code, out, err = run_cli('simulate', '--synthetic', '300',
                                 '--schedule', 'static:4', '--format',
                                 'json')
        self.assertEqual(0, code, err)
        data = json.loads(out)
        self.assertEqual(4 * 168, data['schedule']['node-hours-per-week'])
        gate = data['wait-minutes']['pipeline']['gate']
        check = data['wait-minutes']['pipeline']['check']
        self.assertLessEqual(gate['p50'], check['p50'])
        self.assertIn('ubuntu-noble-arm64-large',
                      data['wait-minutes']['label'])

    def test_simulate_builds_and_bad_input(self):
        builds = os.path.join(self.dir, 'builds.json')
        with open(builds, 'w') as f:
            json.dump([{'job_name': 'kolla-build-aarch64',
                        'pipeline': 'check',
                        'nodeset': 'ubuntu-noble-arm64-large',
                        'start_time': '2026-01-06T10:00:00',
                        'end_time': '2026-01-06T13:00:00',
                        'event_timestamp': '2026-01-06T09:58:00'},
                       {'job_name': 'tox-py312', 'pipeline': 'check',
                        'nodeset': 'ubuntu-noble',
                        'start_time': '2026-01-06T10:00:00',
                        'end_time': '2026-01-06T10:20:00'}], f)
        code, out, err = run_cli('simulate', '--builds', builds)
        self.assertEqual(0, code, err)
        self.assertIn('1 requests', out)
        self.assertIn('skipped builds: ubuntu-noble (1)', out)
        with open(builds, 'w') as f:
            f.write('{"not": "a list"}')
        code, out, err = run_cli('simulate', '--builds', builds)
        self.assertEqual(2, code)
        self.assertEqual(1, len(err.strip().splitlines()))
        self.assertIn('expected a JSON list of builds', err)
        code, out, err = run_cli('simulate', '--schedule', 'static:x')
        self.assertEqual(2, code)
        self.assertIn("'static:x': expected inventory, full or static:N",
                      err)

    def test_plan(self):
        windows = os.path.join(self.dir, 'windows.yaml')
        code, out, err = run_cli('plan', '--synthetic', '400', '--block',
                                 '12', '--trim-budget', '5',
                                 '--windows-output', windows)
        self.assertEqual(0, code, err)
        self.assertIn('SLO: gate p95 <= 10 min', out)
        self.assertRegex(out, r'plan +\d+ +\d+ +\d+ +[\d.]+ +[\d.]+ +yes')
        with open(windows) as f:
            text = f.read()
        self.assertTrue(text.startswith('capacity:\n  windows:\n'))
        # Pasting it must not drop the inventory's one-off windows.
        self.assertIn('name: linaro-cn1-maintenance', text)
        code, out, err = run_cli('plan', '--synthetic', '200', '--slo',
                                 'gate:p100:0.5')
        self.assertEqual(1, code)
        self.assertIn('not met even with full quota', out)
        # The value it could reach, not only that it failed.
        self.assertRegex(out, r'measured \d+\.\d+ min')
        code, out, err = run_cli('plan', '--slo', 'gate:95')
        self.assertEqual(2, code)
        self.assertIn('expected PIPELINE:pQUANTILE:MINUTES', err)


class TestReadablePlots(testtools.TestCase):

    def setUp(self):
        super().setUp()
        inv = load_inventory()
        self.demand = dm.synthetic(600, dm.label_mix(inv), seed=2)
        pools = sim.pools_from_inventory(inv)
        quotas = sizing.max_servers(inv, full_quota=True)
        self.schedules = [('inventory', sc.from_inventory(inv)),
                          ('static 10', pl.static_schedule(10, quotas))]
        self.results = [(n, sim.simulate(self.demand, pools, s))
                        for n, s in self.schedules]
        self.addCleanup(report.plt.close, 'all')

    def texts(self, fig):
        return ' '.join(t.get_text() for ax in fig.axes
                        for t in ax.texts)

    def test_legend_outside_the_data(self):
        fig = report.demand_figure(self.demand, self.schedules)
        fig.canvas.draw()
        renderer = fig.canvas.get_renderer()
        ax = fig.axes[0]
        legend = ax.get_legend().get_window_extent(renderer)
        self.assertFalse(legend.overlaps(ax.get_window_extent(renderer)))
        fig = report.waits_figure(self.results,
                                  [pl.parse_objective('gate:p95:10')])
        fig.canvas.draw()
        legend = fig.legends[0].get_window_extent(renderer)
        for ax in fig.axes:
            self.assertFalse(legend.overlaps(ax.get_window_extent(renderer)))

    def test_slo_line_on_the_waits_plot(self):
        objective = pl.parse_objective('gate:p95:10')
        fig = report.waits_figure(self.results, [objective])
        p95 = next(ax for ax in fig.axes if ax.get_title() == 'p95 wait')
        lines = [c for c in p95.collections
                 if c.get_label() == f'SLO: {objective}']
        self.assertEqual(1, len(lines))
        (start, end), = [seg[:, 1] for seg in lines[0].get_segments()]
        self.assertEqual((10, 10), (start, end))
        # Drawn where it can be seen, not clipped off the top.
        self.assertGreater(p95.get_ylim()[1], 10)
        fig = report.waits_figure(self.results)
        self.assertEqual([], [c for ax in fig.axes for c in ax.collections
                              if c.get_label().startswith('SLO')])

    def test_empty_or_failed_plan_says_so(self):
        empty = dm.Demand(self.demand.origin, [])
        fig = report.demand_figure(empty, self.schedules[:1])
        self.assertIn('No node requests', self.texts(fig))
        self.assertGreaterEqual(fig.axes[0].get_ylim()[0], 0)
        fig = report.demand_figure(self.demand, self.schedules,
                                   warning='No plan meets gate p95 <= 1 '
                                           'min.')
        self.assertIn('No plan meets gate p95', self.texts(fig))
        result = sim.simulate(empty, [], self.schedules[0][1])
        fig = report.waits_figure([('inventory', result)])
        self.assertIn('nothing waited', self.texts(fig))
