"""``nodepool-aarch64 capacity``: quota, apply, simulate, plan, report.

The options, their checks, what each action prints and its exit code.
What is compared lives in ``compare``, how it is shown in ``show``.
"""

import argparse
import os
import re
import sys

from nodepool_aarch64 import options
from nodepool_aarch64.capacity import control_cli
from nodepool_aarch64.capacity import show
from nodepool_aarch64.capacity import zuul_launcher_cli
from nodepool_aarch64.options import (add_command, add_share_option,
                                      check_range, writing)
from nodepool_aarch64.errors import InputError
from nodepool_aarch64.inventory import load_inventory

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
  control   a controller that keeps a wait SLO: forecast, error budget,
            guarded actions through apply / apply-zuul-launcher
"""


def register(subparsers):
    parser = add_command(
        subparsers, 'capacity',
        help='quotas, peak windows, simulation and plans',
        description=DESCRIPTION)
    sub = parser.add_subparsers(dest='capacity_command', metavar='ACTION',
                                required=True)
    _quota_parser(sub)
    _apply_parser(sub)
    zuul_launcher_cli.register(sub)
    _simulate_parser(sub)
    _plan_parser(sub)
    _report_parser(sub)
    control_cli.register(sub, sys.modules[__name__])


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
    options.inventory(p)
    p.add_argument('--cloud', action='append', metavar='NAME',
                   help='only providers on this clouds.yaml cloud (or with '
                        'this provider name); repeatable')
    p.add_argument('--clouds-yaml', metavar='FILE',
                   help='clouds.yaml to read (default: the usual '
                        'openstacksdk search path, OS_CLIENT_CONFIG_FILE)')
    p.add_argument('--timeout', type=float, default=None, metavar='SECONDS',
                   help='give up on a region after this long (default 60)')
    p.add_argument('--write-facts', metavar='FILE',
                   help='also write the cloud facts file (every flavor and '
                        'the quota limits of each region that answered) '
                        'that "check --facts" reads')
    options.output_format(p)
    p.set_defaults(func=run_quota)


def run_quota(args):
    from nodepool_aarch64.capacity import quota
    check_range('--timeout', args.timeout, 1, high=3600)
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
    except InputError:
        raise
    except Exception as e:
        raise InputError(args.clouds_yaml or 'clouds.yaml', None, '',
                         f'cannot read: {" ".join(str(e).split())[:200]}')
    results = quota.ask_all(inv, providers, config,
                            deadline=args.timeout or quota.REGION_DEADLINE)
    if args.write_facts:
        _write_facts(args.write_facts, *quota.as_facts(results), results)
    if args.format == 'json':
        print(show.as_json([r.as_dict() for r in results]))
    else:
        print(show.quota_table(results))
    return 0 if all(r.status == 'ok' for r in results) else 1


def _write_facts(path, regions, dropped, results):
    from nodepool_aarch64 import cloudfacts
    from nodepool_aarch64.formats.write import atomic_write
    if not regions:
        # Facts with no cloud in them are worse than yesterday's facts.
        print(f'{path}: no region answered; the facts are left as they '
              'were', file=sys.stderr)
        return
    try:
        atomic_write(path, cloudfacts.dump(regions))
    except OSError as e:
        raise InputError(path, None, '', f'cannot write: {e.strerror}')
    missing = [f'{r.provider} ({r.status})' for r in results
               if r.status != 'ok']
    left_out = f'; left out: {", ".join(missing)}' if missing else ''
    if dropped:
        left_out += (f'; {dropped} flavor(s) without a name, vCPUs or RAM '
                     'left out')
    print(f'{path}: cloud facts of {len(regions)} region(s){left_out}',
          file=sys.stderr)


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
    options.inventory(p)
    options.instant(p)
    p.add_argument('--output', required=True, metavar='FILE',
                   help='the launcher config file Nodepool reads')
    p.add_argument('--launcher', metavar='HOST',
                   help='launcher host (needed when the inventory has '
                        'more than one)')
    options.output_format(
        p, help='output format (json: {"file", "status", "launcher", '
        '"at", "windows", "errors"})')
    p.set_defaults(func=run_apply)


def run_apply(args):
    inv = load_inventory(args.inventory)
    # Importing Nodepool's validator takes seconds; a broken inventory
    # should fail before paying for it.
    from nodepool_aarch64.capacity import nodepool_apply
    launchers = inv.launchers
    launcher = args.launcher
    if not launchers:
        raise InputError(args.inventory or inv.path, None, '',
                         'no provider has a Nodepool launcher; this '
                         'inventory is served by zuul-launcher only')
    if launcher is None:
        if len(launchers) != 1:
            raise InputError('--launcher', None, '',
                             f'the inventory has launchers '
                             f'{", ".join(launchers)}; name one')
        launcher = launchers[0]
    elif launcher not in launchers:
        raise InputError('--launcher', None, '',
                         f'{launcher!r} is not a launcher of {inv.path}')
    at = options.at(args)
    with writing(args.output):
        status, errors = nodepool_apply.apply(inv, launcher, at,
                                              args.output)
    code = 1 if status == nodepool_apply.INVALID else 0
    if args.format == 'json':
        print(show.as_json(dict(file=args.output, status=status,
                                launcher=launcher, errors=list(errors),
                                **show.instant_fields(inv, at))))
        return code
    for error in errors:
        print(f'{args.output}: not replaced: {error}', file=sys.stderr)
    print(f'{args.output}: {status} (launcher {launcher} at '
          f'{show.instant(inv, at)})')
    return code


# -- demand, simulate, plan, report ------------------------------------------

def _demand_args(parser):
    g = parser.add_argument_group('demand (one of)')
    source = g.add_mutually_exclusive_group()
    source.add_argument('--builds', metavar='FILE', nargs='+',
                        help="JSON from Zuul's /api/tenant/T/builds; "
                             'several files are read as one history')
    source.add_argument('--csv', metavar='FILE', nargs='+',
                        help='CSV: pipeline, label (or nodeset), '
                             'start_time, end_time[, enqueue_time]; UTF-8 '
                             '(with or without BOM) or UTF-16 with BOM; '
                             'several files are read as one history')
    source.add_argument('--synthetic', type=int, metavar='N', default=None,
                        help='N requests per week with a weekday peak '
                             '(default: 1500)')
    g.add_argument('--weeks', type=int, default=1,
                   help='weeks of synthetic demand (default 1)')
    add_share_option(g)
    g.add_argument('--seed', type=int, default=0,
                   help='shapes synthetic demand and simulated launch '
                        'times (default 0)')
    m = parser.add_argument_group('launch model')
    m.add_argument('--launch-mean', type=float, default=300.0,
                   metavar='SECONDS',
                   help='mean launch-to-ready time (default 300)')
    m.add_argument('--launch-sd', type=float, default=120.0,
                   metavar='SECONDS', help='its spread (default 120)')
    m.add_argument('--failure-rate', type=float, default=0.02,
                   help='chance a launch attempt fails (default 0.02)')


MAX_LAUNCH_SECONDS = 86400.0


def _check_demand_args(args):
    check_range('--synthetic', args.synthetic, 1, whole=True)
    check_range('--weeks', args.weeks, 1, whole=True)
    # A launch is minutes; a day bounds any real one and keeps the
    # log-normal's parameters finite.
    check_range('--launch-mean', args.launch_mean, 0, high=MAX_LAUNCH_SECONDS)
    check_range('--launch-sd', args.launch_sd, 0, high=MAX_LAUNCH_SECONDS)
    check_range('--failure-rate', args.failure_rate, 0, below=1)


def _load_demand(args, inv):
    from nodepool_aarch64.capacity import demand as dm
    _check_demand_args(args)
    labels = {label.name: label.name for label in inv.labels}
    if args.builds:
        source = args.builds[0]
        shares = dict(args.affected_share)
        demand = dm.combine(dm.from_zuul_builds(path, labels, shares=shares)
                            for path in args.builds)
    elif args.affected_share:
        raise InputError('--affected-share', None, '', 'needs --builds '
                         '(only Zuul builds name their job)')
    elif args.csv:
        source = args.csv[0]
        demand = dm.combine(dm.from_csv(path, labels) for path in args.csv)
    else:
        source = '--synthetic'
        demand = dm.synthetic(args.synthetic or 1500, dm.label_mix(inv),
                              weeks=args.weeks, seed=args.seed)
    if not len(demand):
        skipped = ', '.join(f'{k} ({v})'
                            for k, v in sorted(demand.skipped.items()))
        raise InputError(source, None, '', 'no node requests for the '
                         "inventory's labels" +
                         (f'; skipped: {skipped}' if skipped else ''))
    return demand


def _inputs(args):
    """(inventory, demand, pools) that simulate, plan and report use."""
    inv = load_inventory(args.inventory)
    demand = _load_demand(args, inv)
    return inv, demand, _pools(args, inv)


def _pools(args, inv):
    from nodepool_aarch64.capacity import simulate as sim
    return sim.pools_from_inventory(inv, args.launch_mean, args.launch_sd,
                                    args.failure_rate)


def _schedule(spec, inv, demand):
    """The max-servers schedule ``--schedule`` names."""
    from nodepool_aarch64.capacity import compare
    from nodepool_aarch64.capacity import plan as pl
    quotas = compare.full_quota(inv)
    full = sum(quotas.values())
    if spec == 'inventory':
        return compare.inventory_schedule(inv, demand)
    if spec == 'full':
        return pl.static_schedule(full, quotas)
    # isdigit() is True for '²', which int() refuses: ASCII digits only.
    if re.fullmatch(r'static:[0-9]{1,6}', spec) and \
            1 <= int(spec[7:]) <= full:
        return pl.static_schedule(int(spec[7:]), quotas)
    raise InputError('--schedule', None, '', f'{spec!r}: expected '
                     f'inventory, full or static:N with N from 1 to '
                     f'{full} (full quota)')


def _simulate_parser(sub):
    p = sub.add_parser(
        'simulate', help='replay demand against a capacity schedule',
        description='A discrete-event simulation of node requests against '
        "the inventory's providers: max-servers and min-ready per window, "
        'log-normal launch times, launch failures with retries, and Zuul '
        'precedence (gate, then check, then check-arm64 and experimental). '
        ' Prints wait percentiles per pipeline and label, utilisation and '
        'node-hours.  An inventory written by "plan --write-inventory" '
        "gives the plan's numbers again for the same demand and seed.")
    options.inventory(p)
    _demand_args(p)
    p.add_argument('--schedule', default='inventory',
                   help='inventory (base max-servers plus windows), full '
                        '(full quota at all times) or static:N (N servers '
                        'shared by quota); default inventory')
    options.output_format(p)
    p.set_defaults(func=run_simulate)


def run_simulate(args):
    from nodepool_aarch64.capacity import compare
    inv, demand, pools = _inputs(args)
    schedule = _schedule(args.schedule, inv, demand)
    result = compare.simulate_inventory(inv, demand, pools, args.seed,
                                        schedule)
    summary = result.summary()
    summary['schedule'] = schedule.as_dict()
    if demand.skipped:
        summary['skipped'] = demand.skipped
    if args.format == 'json':
        print(show.as_json(summary))
    else:
        print(show.summary_text(summary))
    return 0


def _planning_args(p):
    options.inventory(p)
    _demand_args(p)
    _plan_args(p)


def _plan_args(p):
    p.add_argument('--slo', action='append', metavar='PIPELINE:pQ:MIN',
                   help='wait objective, e.g. gate:p95:10 (repeatable; '
                        'PIPELINE/LABEL narrows it to a label); default '
                        'gate:p95:10')
    p.add_argument('--holdout', type=int, default=0, metavar='K',
                   help='keep the last K weeks of demand out of the fit '
                        'and report the SLO on them (default 0)')
    p.add_argument('--trim-budget', type=int, default=0,
                   help='simulations spent lowering single blocks after '
                        'the fit (default 0: trimming fits the plan to '
                        'the weeks it saw)')
    p.add_argument('--block', type=int, default=1, metavar='HOURS',
                   help='hours that share one max-servers and min-ready '
                        'value (a divisor of 168; larger blocks give '
                        'fewer windows); default 1')
    p.add_argument('--floor', type=int, default=1, metavar='SERVERS',
                   help='never plan fewer servers in total (default 1)')


def _objectives(args, demand):
    """The --slo objectives, each naming a pipeline (and label) that
    the demand has."""
    from nodepool_aarch64.capacity import plan as pl
    try:
        objectives = [pl.parse_objective(s) for s in args.slo or
                      ['gate:p95:10']]
        pl.check_objectives(objectives, demand)
    except pl.ObjectiveError as e:
        raise InputError('--slo', None, '', str(e))
    return objectives


def _fit_and_holdout(args, demand):
    check_range('--holdout', args.holdout, 0, whole=True)
    weeks = demand.weeks()
    if args.holdout and args.holdout >= weeks:
        raise InputError('--holdout', None, '', f'{args.holdout}: the '
                         f'demand spans {weeks} week(s); keep at least '
                         'one to fit on')
    fit, held = demand.split(args.holdout)
    if not len(fit):
        raise InputError('--holdout', None, '', f'{args.holdout}: no '
                         'requests left to fit on')
    return fit, held


def _plan(args, inv, demand, pools):
    """(Plan, objectives, fitted demand, held-out demand or None)."""
    from nodepool_aarch64.capacity import compare
    from nodepool_aarch64.capacity import plan as pl
    check_range('--trim-budget', args.trim_budget, 0, whole=True)
    quotas = compare.full_quota(inv)
    check_range('--floor', args.floor, 0, high=sum(quotas.values()),
                whole=True)
    fit, held = _fit_and_holdout(args, demand)
    objectives = _objectives(args, fit)
    try:
        planner = pl.Planner(
            fit, pools, quotas, objectives, seed=args.seed,
            min_ready={label.name: label.min_ready for label in inv.labels},
            trim_budget=args.trim_budget, block=args.block,
            floor=args.floor)
    except pl.BlockError as e:
        raise InputError('--block', None, '', str(e))
    return planner.plan(), objectives, fit, held


def _plan_parser(sub):
    p = sub.add_parser(
        'plan', help='max-servers and min-ready per hour meeting a wait SLO',
        description='Choose max-servers (within every provider\'s quota) '
        'and min-ready (warm nodes) for each hour of the week that meet '
        'the wait objectives at the least node-hours of held capacity, '
        'and compare the plan with the inventory\'s own windows, full '
        'quota and a static config of equal node-hours.  With several '
        'weeks of demand the plan must hold on each of them; --holdout K '
        'keeps the last K weeks out of the fit and reports the SLO on '
        'them.  Same input, same plan.  --write-inventory writes the '
        'input inventory with the planned windows in place of its weekly '
        'windows, keeping everything else.  Exit 1 if the SLO cannot be '
        'met even with full quota, or the plan misses it on the held-out '
        'weeks.')
    _planning_args(p)
    p.add_argument('--write-inventory', metavar='FILE',
                   help='write the inventory with the planned windows '
                        'merged in (atomically; FILE may be the input)')
    p.add_argument('--windows-output', metavar='FILE',
                   help="also write the inventory's capacity section for "
                        'the plan here')
    options.output_format(p)
    p.set_defaults(func=run_plan)


def run_plan(args):
    from nodepool_aarch64.capacity import compare
    from nodepool_aarch64.capacity import merge
    inv, demand, pools = _inputs(args)
    # Nodepool's validator comes with apply and takes seconds to import;
    # bad demand should fail before paying for it.
    from nodepool_aarch64.capacity import nodepool_apply
    if args.write_inventory:
        nodepool_apply.check_output(args.write_inventory, 'inventory')
    if args.windows_output:
        nodepool_apply.check_output(args.windows_output, 'windows output')
        if args.write_inventory and os.path.realpath(args.write_inventory) \
                == os.path.realpath(args.windows_output):
            raise InputError(args.windows_output, None, '', 'the same file '
                             'for --write-inventory and --windows-output: '
                             'one would overwrite the other')
    plan, objectives, fit, held = _plan(args, inv, demand, pools)
    out = {'slo': [str(o) for o in objectives], 'feasible': plan.feasible,
           'simulations': plan.simulations,
           'weeks': {'fitted': fit.weeks(),
                     'held-out': held.weeks() if held else 0}}
    if not plan.feasible:
        out['best-minutes'] = compare.measure(objectives, plan.result)
        _print_plan(args, out, '')
        return 1
    merged, merged_inv, replaced = merge.merged_inventory(inv, plan)
    section = merge.section(inv.path, merged)
    out['compare'] = compare.plan_comparison(
        plan, inv, merged_inv, objectives, fit, held, pools, args.seed)
    out['plan'] = compare.plan_facts(plan, replaced, section)
    out['schedule'] = plan.schedule.as_dict()
    out['min-ready'] = plan.min_ready.as_dict()
    _write_plan(((args.write_inventory, merged),
                 (args.windows_output, section)))
    _print_plan(args, out, section)
    held_ok = held is None or out['compare']['plan']['held-out']['slo-met']
    return 0 if held_ok else 1


def _write_plan(outputs):
    """Both outputs or neither: an inventory written beside windows that
    failed would be half a plan."""
    from nodepool_aarch64.formats.write import atomic_write_all
    outputs = [(path, text) for path, text in outputs if path]
    try:
        atomic_write_all(outputs)
    except OSError as e:
        raise InputError(e.filename or outputs[0][0], None, '',
                         f'cannot write: {e.strerror}')


def _print_plan(args, out, section):
    if args.format == 'json':
        out['capacity-yaml'] = section
        print(show.as_json(out))
    else:
        print(show.plan_text(out))


def _report_parser(sub):
    p = sub.add_parser(
        'report', help='PNG plots and a Markdown page',
        description='Simulate the demand against the inventory schedule, '
        'full quota and a plan for the SLO, and write demand-capacity.png '
        '(demand against capacity per hour of the week), waits.png (wait '
        'percentiles per pipeline, with the SLO) and index.md embedding '
        'both into --output-dir (an existing directory, or one to '
        'create).')
    _planning_args(p)
    p.add_argument('--no-plan', action='store_true',
                   help='leave the plan out (faster)')
    p.add_argument('--output-dir', metavar='DIR',
                   help='where the page and its plots go (required)')
    # The name it had before --output came to mean a file everywhere.
    p.add_argument('--output', dest='output_dir', metavar='DIR',
                   action=options.Deprecated, instead='--output-dir',
                   help=argparse.SUPPRESS)
    options.output_format(
        p, help='output format (text: one written path per line; json: '
        '{"directory", "files"})')
    p.set_defaults(func=run_report)


def run_report(args):
    from nodepool_aarch64.capacity import compare
    from nodepool_aarch64.capacity import merge
    from nodepool_aarch64.capacity import report
    if not args.output_dir:
        raise InputError('--output-dir', None, '', 'required: the directory '
                         'for the page and its plots')
    inv, demand, pools = _inputs(args)
    scenarios = [('inventory', inv, None),
                 ('full quota', inv, compare.full_quota_schedule(inv))]
    notes, objectives, warning = [], [], None
    if not args.no_plan:
        plan, objectives, fit, _ = _plan(args, inv, demand, pools)
        slo = '; '.join(str(o) for o in objectives)
        if plan.feasible:
            _, merged_inv, _ = merge.merged_inventory(inv, plan)
            scenarios.insert(1, ('plan', merged_inv, None))
            notes.append(f'The plan meets {slo} on the '
                         f'{fit.weeks()} week(s) it was fitted to, at the '
                         'least node-hours found.')
        else:
            best = compare.measure(objectives, plan.result)
            warning = (f'No plan meets {slo}: not even full quota at all '
                       f'times with warm nodes (best: '
                       f'{show.minutes(best)} min).')
            notes.append(warning)
    schedules, results = compare.simulate_scenarios(scenarios, demand,
                                                    pools, args.seed)
    with writing(args.output_dir):
        paths = report.write(args.output_dir, demand, schedules, results,
                             notes, objectives, warning)
    if args.format == 'json':
        print(show.as_json({'directory': args.output_dir,
                            'files': list(paths)}))
        return 0
    for path in paths:
        print(path)
    return 0
