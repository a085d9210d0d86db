"""``nodepool-aarch64 capacity``: quota, apply, simulate, plan, report."""

import argparse
import datetime
import json
import os
import sys

from nodepool_aarch64.capacity import launcher_cli
from nodepool_aarch64.errors import InputError
from nodepool_aarch64.inventory import load_inventory
from nodepool_aarch64.render.cli import parse_at

DESCRIPTION = """\
Size Arm64 capacity from real quotas and demand, and change it at peak
testing times.

  quota     what each region's quota allows (openstacksdk, clouds.yaml)
  apply     put the launcher config for an instant in place (cron, timer)
  apply-zuul-launcher
            commit the same capacity to a zuul-launcher config project
  simulate  replay demand against a capacity schedule; waits per pipeline
  plan      max-servers per hour that meet a wait SLO at least node-hours
  report    PNG plots and a Markdown page of demand, capacity and waits
"""

UTC = datetime.timezone.utc


def register(subparsers):
    parser = subparsers.add_parser(
        'capacity', help='quotas, peak windows, simulation and plans',
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest='capacity_command', metavar='ACTION',
                                required=True)
    _quota_parser(sub)
    _apply_parser(sub)
    launcher_cli.register(sub)
    _simulate_parser(sub)
    _plan_parser(sub)
    _report_parser(sub)


def _inventory_arg(parser):
    parser.add_argument(
        '--inventory', metavar='FILE',
        help='inventory YAML (default: the shipped Linaro inventory)')


def _format_arg(parser):
    parser.add_argument('--format', choices=('text', 'json'),
                        default='text', help='output format')


# -- quota -----------------------------------------------------------------

def _quota_parser(sub):
    p = sub.add_parser(
        'quota', help="read each region's limits and size max-servers",
        description='Ask every provider region (or those of --cloud) for '
        'its compute limits and usage, flavors, floating-IP quota and '
        'subnet addresses, and print the max-servers each resource '
        'allows, the binding one and the result after reserved servers '
        'and headroom.  Regions are asked in parallel with bounded '
        'timeouts and retries; a failing region is reported and the '
        'others still answer.  Exit 1 if any region failed.')
    _inventory_arg(p)
    p.add_argument('--cloud', action='append', metavar='NAME',
                   help='only providers on this clouds.yaml cloud (or with '
                        'this provider name); repeatable')
    p.add_argument('--clouds-yaml', metavar='FILE',
                   help='clouds.yaml to read (default: the usual '
                        'openstacksdk search path, OS_CLIENT_CONFIG_FILE)')
    p.add_argument('--timeout', type=float, default=None, metavar='SECONDS',
                   help='give up on a region after this long (default 60)')
    _format_arg(p)
    p.set_defaults(func=run_quota)


def run_quota(args):
    from nodepool_aarch64.capacity import quota
    inv = load_inventory(args.inventory)
    providers = list(inv.providers)
    if args.cloud:
        known = {p.cloud for p in providers} | {p.name for p in providers}
        for name in args.cloud:
            if name not in known:
                raise InputError('--cloud', None, '',
                                 f'{name!r} is neither a cloud nor a '
                                 f'provider of {inv.path}')
        providers = [p for p in providers
                     if p.cloud in args.cloud or p.name in args.cloud]
    if args.clouds_yaml and not os.path.isfile(args.clouds_yaml):
        raise InputError(args.clouds_yaml, None, '', 'no such file')
    try:
        config = quota.load_config(args.clouds_yaml)
    except Exception as e:
        raise InputError(args.clouds_yaml or 'clouds.yaml', None, '',
                         f'cannot read: {" ".join(str(e).split())[:200]}')
    results = quota.ask_all(inv, providers, config,
                            deadline=args.timeout or quota.REGION_DEADLINE)
    if args.format == 'json':
        print(json.dumps([r.as_dict() for r in results], indent=2))
    else:
        print(quota_table(results))
    return 0 if all(r.status == 'ok' for r in results) else 1


RESOURCES = ('instances', 'cores', 'ram', 'floating-ips', 'addresses')


def quota_table(results):
    rows = [['provider', 'region', 'status'] + list(RESOURCES)
            + ['binding', 'max-servers']]
    for r in results:
        if r.status != 'ok':
            rows.append([r.provider, r.region, r.status] + ['-'] *
                        (len(RESOURCES) + 2))
            continue
        cells = []
        for resource in RESOURCES:
            limit, used = r.usage.get(resource, (None, None))
            allowed = r.sizing.limits.get(resource)
            if resource not in r.usage:
                cells.append('-')
                continue
            text = 'unlimited' if limit is None else str(limit)
            if used is not None:
                text += f' ({used} used)'
            if allowed is not None:
                text += f' -> {allowed}'
            cells.append(text)
        rows.append([r.provider, r.region, r.status] + cells
                    + [r.sizing.binding, str(r.sizing.max_servers)])
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ['  '.join(c.ljust(w) for c, w in zip(row, widths)).rstrip()
             for row in rows]
    lines.append('')
    lines.append('Each resource: limit (in use) -> servers it allows after '
                 'reserved servers, sized by the largest flavor; '
                 'max-servers applies headroom and any explicit cap.')
    for r in results:
        if r.status != 'ok':
            lines.append(f'{r.provider}: {r.status}: {r.error}')
    return '\n'.join(lines)


# -- apply -----------------------------------------------------------------

def _apply_parser(sub):
    p = sub.add_parser(
        'apply', help='write the launcher config for an instant',
        description='Render the Nodepool launcher config with the capacity '
        'windows active at --at (default: now), validate it with '
        "Nodepool's ConfigValidator, and replace --output atomically only "
        'if it is valid and different.  An unchanged render leaves the '
        'file untouched.  Meant for cron or a systemd timer.  Exit 0 when '
        'the file is in place (replaced or unchanged), 1 when the render '
        'is invalid (the file is left as it was).')
    _inventory_arg(p)
    p.add_argument('--at', type=parse_at, metavar='TIME',
                   help='UTC instant, ISO 8601 (default: now)')
    p.add_argument('--output', required=True, metavar='FILE',
                   help='the launcher config file Nodepool reads')
    p.add_argument('--launcher', metavar='HOST',
                   help='launcher host (needed when the inventory has '
                        'more than one)')
    p.set_defaults(func=run_apply)


def run_apply(args):
    inv = load_inventory(args.inventory)
    # Importing Nodepool's validator takes seconds; a broken inventory
    # should fail before paying for it.
    from nodepool_aarch64.capacity import apply
    launchers = inv.launchers
    launcher = args.launcher
    if launcher is None:
        if len(launchers) != 1:
            raise InputError('--launcher', None, '',
                             f'the inventory has launchers '
                             f'{", ".join(launchers)}; name one')
        launcher = launchers[0]
    elif launcher not in launchers:
        raise InputError('--launcher', None, '',
                         f'{launcher!r} is not a launcher of {inv.path}')
    at = args.at or datetime.datetime.now(UTC)
    text = apply.render(inv, launcher, at)
    try:
        status, errors = apply.apply(text, args.output)
    except OSError as e:
        raise InputError(e.filename or args.output, None, '',
                         f'cannot write: {e.strerror}')
    for error in errors:
        print(f'{args.output}: not replaced: {error}', file=sys.stderr)
    names = [w.name for w in inv.active_windows(at)]
    print(f'{args.output}: {status} (launcher {launcher} at '
          f'{at.isoformat(timespec="minutes")}; windows: '
          f'{", ".join(names) or "none"})')
    return 1 if status == apply.INVALID else 0


# -- demand, simulate, plan, report ------------------------------------------

def _demand_args(parser):
    g = parser.add_argument_group('demand (one of)')
    source = g.add_mutually_exclusive_group()
    source.add_argument('--builds', metavar='FILE',
                        help="JSON from Zuul's /api/tenant/T/builds")
    source.add_argument('--csv', metavar='FILE',
                        help='CSV: pipeline, label (or nodeset), '
                             'start_time, end_time[, enqueue_time]')
    source.add_argument('--synthetic', type=int, metavar='N', default=None,
                        help='N requests per week with a weekday peak '
                             '(default: 1500)')
    g.add_argument('--weeks', type=int, default=1,
                   help='weeks of synthetic demand (default 1)')
    g.add_argument('--seed', type=int, default=0)
    m = parser.add_argument_group('launch model')
    m.add_argument('--launch-mean', type=float, default=300.0,
                   metavar='SECONDS',
                   help='mean launch-to-ready time (default 300)')
    m.add_argument('--launch-sd', type=float, default=120.0,
                   metavar='SECONDS', help='its spread (default 120)')
    m.add_argument('--failure-rate', type=float, default=0.02,
                   help='chance a launch attempt fails (default 0.02)')


def _load_demand(args, inv):
    from nodepool_aarch64.capacity import demand as dm
    labels = {label.name: label.name for label in inv.labels}
    if args.builds:
        return dm.from_zuul_builds(args.builds, labels)
    if args.csv:
        return dm.from_csv(args.csv, labels)
    return dm.synthetic(args.synthetic or 1500, dm.label_mix(inv),
                        weeks=max(1, args.weeks), seed=args.seed)


def _pools(args, inv):
    from nodepool_aarch64.capacity import simulate as sim
    if not 0 <= args.failure_rate < 1:
        raise InputError('--failure-rate', None, '',
                         'expected a probability below 1')
    return sim.pools_from_inventory(inv, args.launch_mean, args.launch_sd,
                                    args.failure_rate)


def _week0(demand):
    return demand.origin if demand.weeks() <= 1 else None


def _min_ready(inv, demand):
    from nodepool_aarch64.capacity import schedule as sc
    return sc.min_ready_from_inventory(inv, _week0(demand))


def _schedule(spec, inv, demand):
    from nodepool_aarch64.capacity import plan as pl
    from nodepool_aarch64.capacity import schedule as sc
    quotas = sc.base_caps(inv, full_quota=True)
    if spec == 'inventory':
        return sc.from_inventory(inv, _week0(demand))
    if spec == 'full':
        return pl.static_schedule(sum(quotas.values()), quotas)
    if spec.startswith('static:') and spec[7:].isdigit():
        return pl.static_schedule(int(spec[7:]), quotas)
    raise InputError('--schedule', None, '', f'{spec!r}: expected '
                     'inventory, full or static:N')


def _simulate_parser(sub):
    p = sub.add_parser(
        'simulate', help='replay demand against a capacity schedule',
        description='A discrete-event simulation of node requests against '
        "the inventory's providers: max-servers per window, log-normal "
        'launch times, launch failures with retries, and Zuul precedence '
        '(gate, then check, then check-arm64 and experimental).  Prints '
        'wait percentiles per pipeline and label, utilisation and '
        'node-hours.')
    _inventory_arg(p)
    _demand_args(p)
    p.add_argument('--schedule', default='inventory',
                   help='inventory (base max-servers plus windows), full '
                        '(full quota at all times) or static:N (N servers '
                        'shared by quota); default inventory')
    _format_arg(p)
    p.set_defaults(func=run_simulate)


def run_simulate(args):
    from nodepool_aarch64.capacity import simulate as sim
    inv = load_inventory(args.inventory)
    demand = _load_demand(args, inv)
    schedule = _schedule(args.schedule, inv, demand)
    result = sim.simulate(demand, _pools(args, inv), schedule,
                          seed=args.seed, min_ready=_min_ready(inv, demand))
    summary = result.summary()
    summary['schedule'] = schedule.as_dict()
    if demand.skipped:
        summary['skipped'] = demand.skipped
    if args.format == 'json':
        print(json.dumps(summary, indent=2))
    else:
        print(summary_text(summary))
    return 0


def summary_text(summary):
    lines = [f'{summary["requests"]} requests, {summary["launches"]} '
             f'launches, {summary["failed"]} failed; utilisation '
             f'{summary["utilisation"]:.2f}; node-hours used '
             f'{summary["used-node-hours"]} (idle ready '
             f'{summary["idle-ready-node-hours"]}), held '
             f'{summary["capacity-node-hours"]}']
    waits = summary['wait-minutes']
    rows = [['', 'requests', 'p50', 'p95', 'p99', 'mean', 'unserved']]
    for kind in ('pipeline', 'label'):
        for name, block in waits[kind].items():
            rows.append([f'{kind} {name}', str(block['requests'])] +
                        [str(block[k]) for k in ('p50', 'p95', 'p99',
                                                 'mean', 'unserved')])
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines.append('wait in minutes until a node is ready:')
    lines += ['  ' + '  '.join(c.ljust(w) for c, w in zip(r, widths))
              .rstrip() for r in rows]
    if summary.get('skipped'):
        lines.append('skipped builds: ' + ', '.join(
            f'{k} ({v})' for k, v in sorted(summary['skipped'].items())))
    return '\n'.join(lines)


def _plan_args(p):
    p.add_argument('--slo', action='append', metavar='PIPELINE:pQ:MIN',
                   help='wait objective, e.g. gate:p95:10 (repeatable; '
                        'PIPELINE/LABEL narrows it to a label); default '
                        'gate:p95:10')
    p.add_argument('--trim-budget', type=int, default=400,
                   help='most simulations spent trimming single blocks')
    p.add_argument('--block', type=int, default=1, metavar='HOURS',
                   help='hours that share one max-servers value (a '
                        'divisor of 168; larger blocks give fewer '
                        'windows); default 1')
    p.add_argument('--floor', type=int, default=1, metavar='SERVERS',
                   help='never plan fewer servers in total (default 1)')


def _plan(args, inv, demand, pools):
    from nodepool_aarch64.capacity import plan as pl
    from nodepool_aarch64.capacity import schedule as sc
    objectives = [pl.parse_objective(s) for s in args.slo or
                  ['gate:p95:10']]
    quotas = sc.base_caps(inv, full_quota=True)
    planner = pl.Planner(demand, pools, quotas, objectives, seed=args.seed,
                         min_ready=_min_ready(inv, demand),
                         trim_budget=args.trim_budget, block=args.block,
                         floor=args.floor)
    return planner.plan(), objectives, quotas


def _plan_parser(sub):
    p = sub.add_parser(
        'plan', help='max-servers per hour meeting a wait SLO',
        description='Choose max-servers for each hour of the week, within '
        "every provider's quota, that meets the wait objectives at the "
        'least node-hours of held capacity, and compare it with the '
        "inventory's static config and with full quota.  Prints the "
        'capacity windows to put in the inventory.  Exit 1 if the SLO '
        'cannot be met even with full quota at all times.')
    _inventory_arg(p)
    _demand_args(p)
    _plan_args(p)
    p.add_argument('--windows-output', metavar='FILE',
                   help='also write the inventory windows YAML here')
    _format_arg(p)
    p.set_defaults(func=run_plan)


def run_plan(args):
    from nodepool_aarch64.capacity import plan as pl
    from nodepool_aarch64.capacity import schedule as sc
    from nodepool_aarch64.capacity import simulate as sim
    inv = load_inventory(args.inventory)
    demand = _load_demand(args, inv)
    pools = _pools(args, inv)
    plan, objectives, quotas = _plan(args, inv, demand, pools)
    others = {
        'inventory': sc.from_inventory(inv, _week0(demand)),
        'full quota': pl.static_schedule(sum(quotas.values()), quotas),
    }
    if plan.feasible:
        total = pl.equal_cost_static(plan.schedule, quotas)
        others[f'static {total}'] = pl.static_schedule(total, quotas)
    compare = {'plan': (plan.schedule, plan.result)}
    for name, schedule in others.items():
        compare[name] = (schedule, sim.simulate(
            demand, pools, schedule, seed=args.seed,
            min_ready=_min_ready(inv, demand)))
    out = {
        'slo': [str(o) for o in objectives],
        'feasible': plan.feasible,
        'simulations': plan.simulations,
        'compare': {
            name: {'node-hours-per-week': round(s.node_hours(), 1),
                   'peak-max-servers': s.peak(),
                   'slo-measured-minutes': [round(o.measure(r), 2)
                                            for o in objectives],
                   'slo-met': all(o.met(r) for o in objectives),
                   'utilisation': round(r.utilisation, 3)}
            for name, (s, r) in compare.items()},
        'schedule': plan.schedule.as_dict(),
    }
    windows = pl.windows_yaml(plan.schedule, sc.base_caps(inv)) \
        if plan.feasible else ''
    if args.windows_output and plan.feasible:
        from nodepool_aarch64.render.write import atomic_write
        atomic_write(args.windows_output, windows)
    if args.format == 'json':
        out['windows-yaml'] = windows
        print(json.dumps(out, indent=2))
    else:
        print(plan_text(out, windows))
    return 0 if plan.feasible else 1


def plan_text(out, windows):
    lines = [f'SLO: {"; ".join(out["slo"])}']
    if not out['feasible']:
        lines.append('not met even with full quota at all times')
        return '\n'.join(lines)
    lines.append(f'{"":<12}{"node-h/wk":>10}{"peak":>6}{"util":>7}  '
                 f'measured (min)  SLO met')
    for name, c in out['compare'].items():
        measured = ', '.join(f'{m:g}' for m in c['slo-measured-minutes'])
        lines.append(f'{name:<12}{c["node-hours-per-week"]:>10.0f}'
                     f'{c["peak-max-servers"]:>6}{c["utilisation"]:>7.2f}  '
                     f'{measured:<14}  {"yes" if c["slo-met"] else "no"}')
    lines.append('(static N: the smallest static max-servers holding at '
                 'least the plan\'s node-hours)')
    lines += ['', 'inventory windows for this plan:', windows.rstrip()]
    return '\n'.join(lines)


def _report_parser(sub):
    p = sub.add_parser(
        'report', help='PNG plots and a Markdown page',
        description='Simulate the demand against the inventory schedule, '
        'full quota and a plan for the SLO, and write demand-capacity.png '
        '(demand against capacity per hour of the week), waits.png (wait '
        'percentiles per pipeline) and index.md embedding both into '
        '--output.')
    _inventory_arg(p)
    _demand_args(p)
    _plan_args(p)
    p.add_argument('--no-plan', action='store_true',
                   help='leave the plan out (faster)')
    p.add_argument('--output', required=True, metavar='DIR')
    p.set_defaults(func=run_report)


def run_report(args):
    from nodepool_aarch64.capacity import report
    from nodepool_aarch64.capacity import simulate as sim
    inv = load_inventory(args.inventory)
    demand = _load_demand(args, inv)
    pools = _pools(args, inv)
    schedules = [('inventory', _schedule('inventory', inv, demand)),
                 ('full quota', _schedule('full', inv, demand))]
    notes = []
    if not args.no_plan:
        plan, objectives, _ = _plan(args, inv, demand, pools)
        if plan.feasible:
            schedules.insert(1, ('plan', plan.schedule))
            notes.append('The plan meets ' + '; '.join(
                str(o) for o in objectives) + ' at the least node-hours '
                'found.')
        else:
            notes.append('No plan meets ' + '; '.join(
                str(o) for o in objectives) + ', even full quota.')
    results = [(name, sim.simulate(demand, pools, s, seed=args.seed,
                                   min_ready=_min_ready(inv, demand)))
               for name, s in schedules]
    try:
        paths = report.write(args.output, demand, schedules, results, notes)
    except OSError as e:
        raise InputError(e.filename or args.output, None, '',
                         f'cannot write: {e.strerror}')
    for path in paths:
        print(path)
    return 0
