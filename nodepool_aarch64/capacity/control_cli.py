"""``nodepool-aarch64 capacity control``: one step, or a replay."""

import dataclasses
import datetime
import sys

from nodepool_aarch64 import options
from nodepool_aarch64.capacity import show
from nodepool_aarch64.errors import InputError
from nodepool_aarch64.formats import texttable

DESCRIPTION = """\
Keep a wait objective (default gate p95 <= 10 min over a rolling 7 days)
by setting max-servers per provider and min-ready per label, within quota.

Each step reads the history (--builds or --csv, up to --at), forecasts the
next 48 hours from the last --fit-weeks weeks, measures the error budget,
and decides the capacity for the coming hour.  Guards: at most --max-step
per provider or label per action, actions --min-interval minutes apart,
never above quota.  Every action is a line in --audit-log with its reason,
forecast and budget left; the log also tells a restarted step what is in
force, so the last action is never repeated.

--dry-run (the default) decides and logs but changes nothing; --live puts
the decision in force through capacity apply (--nodepool-config) and/or
apply-zuul-launcher --commit (--zuul-launcher-checkout).

--simulate replays the whole history instead: the simulator plays the
demand and the controller acts hour by hour seeing only the past; it
prints gate p95, node-hours held and idle warm node-hours per week, and
the actions it would have taken.
"""


def register(sub, capacity_cli):
    from nodepool_aarch64.options import add_command
    p = add_command(sub, 'control',
                    help='a controller that keeps a wait SLO within quota',
                    description=DESCRIPTION)
    options.inventory(p)
    capacity_cli._demand_args(p)
    c = p.add_argument_group('controller')
    c.add_argument('--slo', metavar='PIPELINE:pQ:MIN', default='gate:p95:10',
                   help='the wait objective (default gate:p95:10)')
    c.add_argument('--fit-weeks', type=int, default=2, metavar='N',
                   help='weeks of history the forecast fits (default 2)')
    c.add_argument('--max-step', type=int, default=10, metavar='N',
                   help='largest change of one provider\'s max-servers or '
                        'one label\'s min-ready per action (default 10)')
    c.add_argument('--min-interval', type=float, default=60.0,
                   metavar='MINUTES',
                   help='shortest time between actions (default 60)')
    p.add_argument('--simulate', action='store_true',
                   help='replay the history week by week instead of one '
                        'step')
    options.output_format(p)
    s = p.add_argument_group('one step')
    options.instant(s)
    s.add_argument('--audit-log', metavar='FILE',
                   help='JSON lines, one per action (required for a step)')
    mode = s.add_mutually_exclusive_group()
    mode.add_argument('--dry-run', dest='live', action='store_false',
                      help='decide and log, change nothing (the default)')
    mode.add_argument('--live', dest='live', action='store_true',
                      help='put the decision in force')
    s.add_argument('--nodepool-config', metavar='FILE',
                   help='the launcher config file to write, as capacity '
                        'apply --output')
    s.add_argument('--launcher', metavar='HOST',
                   help='launcher host (needed when the inventory has '
                        'more than one)')
    s.add_argument('--zuul-launcher-checkout', metavar='DIR',
                   help='a checkout of the zuul-launcher config project to '
                        'commit to, as apply-zuul-launcher --commit')
    s.add_argument('--zuul-launcher-file', metavar='PATH',
                   default='zuul.d/zuul-launcher.yaml',
                   help='its file of zuul-launcher objects (default '
                        'zuul.d/zuul-launcher.yaml)')
    s.add_argument('--metrics', metavar='FILE',
                   help='write the controller\'s metrics here (Prometheus '
                        'text, for node_exporter\'s textfile collector)')
    p.set_defaults(func=run, capacity_cli=capacity_cli, live=False)


def _setup(args, inv, demand):
    from nodepool_aarch64 import sizing
    from nodepool_aarch64.capacity import control
    from nodepool_aarch64.capacity import forecast as fc
    from nodepool_aarch64.capacity import plan as pl
    check = options.check_range
    check('--fit-weeks', args.fit_weeks, 1, high=52, whole=True)
    check('--max-step', args.max_step, 1, high=10000, whole=True)
    check('--min-interval', args.min_interval, 0, high=7 * 24 * 60)
    try:
        objective = pl.parse_objective(args.slo)
        pl.check_objectives([objective], demand)
    except pl.ObjectiveError as e:
        raise InputError('--slo', None, '', str(e))
    quotas = sizing.max_servers(inv, full_quota=True)
    guards = control.Guards(quotas, args.max_step, args.min_interval * 60)
    policy = control.Policy(launch_seconds=args.launch_mean)
    forecast = fc.Forecast(weeks=args.fit_weeks)
    label_providers = {label.name: label.providers for label in inv.labels}
    return objective, guards, policy, forecast, label_providers


def run(args):
    from nodepool_aarch64.inventory import load_inventory
    inv = load_inventory(args.inventory)
    if args.simulate:
        return _simulate(args, inv,
                         args.capacity_cli._load_demand(args, inv))
    try:
        return _step(args, inv)
    except InputError as e:
        # The metrics tell of a step that failed, for alerting.
        if args.metrics:
            _write_metrics(args.metrics, error=str(e),
                           error_time=options.at(args))
        raise


def _simulate(args, inv, demand):
    from nodepool_aarch64.capacity import live
    from nodepool_aarch64.capacity import replay
    objective, guards, policy, forecast, label_providers = \
        _setup(args, inv, demand)
    pools = args.capacity_cli._pools(args, inv)
    initial = live.inventory_state(inv, None)
    out = replay.replay(demand, pools, label_providers, objective, guards,
                        initial, policy, forecast, args.seed)
    if args.format == 'json':
        print(show.as_json(out))
    else:
        print(_table(out))
    return 0


def _table(out):
    full = out['full-quota-node-hours-per-week']
    rows = [['week', 'gate p95 min', 'node-hours', 'of full quota',
             'idle ready node-hours']]
    for w in out['weeks']:
        p95 = w['gate-p95']
        rows.append([str(w['week']), '-' if p95 is None else str(p95),
                     f'{w["node-hours"]:g}',
                     f'{w["node-hours"] / full:.0%}' if full else '-',
                     f'{w["idle-ready-node-hours"]:g}'])
    lines = texttable.lines(rows)
    lines.append(f'full quota: {full:g} node-hours per week; actions: '
                 f'{len(out["actions"])}')
    return '\n'.join(lines)


def _step(args, inv):
    if not args.audit_log:
        raise InputError('--audit-log', None, '', 'a step needs its audit '
                         'log (or use --simulate)')
    if args.live and not (args.nodepool_config or
                          args.zuul_launcher_checkout):
        raise InputError('--live', None, '', 'nothing to put in force: '
                         'give --nodepool-config and/or '
                         '--zuul-launcher-checkout')
    demand = args.capacity_cli._load_demand(args, inv)
    at = options.at(args)
    return _decide(args, inv, demand, at,
                   (at - demand.origin).total_seconds())


def _decide(args, inv, demand, at, now):
    from nodepool_aarch64.capacity import audit
    from nodepool_aarch64.capacity import control
    from nodepool_aarch64.capacity import live
    objective, guards, policy, forecast, label_providers = \
        _setup(args, inv, demand)
    guards = dataclasses.replace(
        guards, quotas=live.ceilings(inv, at, guards.quotas))
    launcher = _launcher(args, inv)
    labels = sorted(label_providers)
    history, budget = live.observe(demand, labels, objective, now)
    logged = audit.last_state(args.audit_log, args.live)
    if logged is None:
        state = live.inventory_state(inv, at)
    else:
        # Audit times are absolute; the controller counts from the
        # history's origin.
        state = control.State(logged.max_servers, logged.min_ready,
                              logged.since - demand.origin.timestamp())
    controller = control.Controller(
        label_providers, guards, policy, forecast,
        control.labels_asked(demand, objective))
    live.warm_up(controller, budget, now)
    decision = controller.step(history, budget, state, now)
    stamp = audit.time_text(at)
    if not decision.act:
        print(f'{stamp}: {decision.reason}')
        _metrics_after(args, decision, state)
        return 0
    applied = audit.DRY_RUN
    if args.live:
        applied = _put(args, inv, decision.target, launcher, at)
    line = audit.record(at, decision, state, applied)
    audit.append(args.audit_log, line)
    print(f'{stamp}: {line["action"]}: {decision.reason}; max-servers '
          f'{_pairs(line["max-servers"])}; min-ready '
          f'{_pairs(line["min-ready"])}; budget left '
          f'{line["budget-left"]:.0%}; {applied}')
    _metrics_after(args, decision, decision.target)
    return 0


def _pairs(mapping):
    return ', '.join(f'{k} {v}' for k, v in mapping.items() if v) or 'none'


def _launcher(args, inv):
    if not args.nodepool_config:
        return None
    launchers = inv.launchers
    if args.launcher is None:
        if len(launchers) != 1:
            raise InputError('--launcher', None, '', 'the inventory has '
                             f'launchers {", ".join(launchers)}; name one')
        return launchers[0]
    if args.launcher not in launchers:
        raise InputError('--launcher', None, '', f'{args.launcher!r} is '
                         f'not a launcher of {inv.path}')
    return args.launcher


def _put(args, inv, state, launcher, at):
    """Apply through the existing paths; what happened, for the log."""
    from nodepool_aarch64.capacity import live
    from nodepool_aarch64.options import writing
    done = []
    if args.nodepool_config:
        with writing(args.nodepool_config):
            status, errors = live.apply_nodepool(
                inv, state, launcher, args.nodepool_config, at)
        if errors:
            raise InputError(args.nodepool_config, None, '',
                             f'not replaced: {errors[0]}')
        done.append(f'nodepool {status}')
    if args.zuul_launcher_checkout:
        status, _ = live.apply_zuul_launcher(
            inv, state, args.zuul_launcher_checkout,
            args.zuul_launcher_file, at)
        done.append(f'zuul-launcher {status}')
    return ', '.join(done)


def _metrics_after(args, decision, state):
    if not args.metrics:
        return
    from nodepool_aarch64.capacity import audit
    count, last = audit.count_actions(args.audit_log, args.live)
    _write_metrics(args.metrics, decision, state, count, last)


def _write_metrics(path, decision=None, state=None, actions=0,
                   last_action=None, error=None, error_time=None):
    from nodepool_aarch64.capacity import metrics
    from nodepool_aarch64.formats.write import atomic_write
    if error is None:
        error, error_time = metrics.previous_error(path)
    elif isinstance(error_time, datetime.datetime):
        error_time = error_time.timestamp()
    try:
        atomic_write(path, metrics.text(decision, state, actions,
                                        last_action, error, error_time))
    except OSError as e:
        print(f'{path}: cannot write: {e.strerror}', file=sys.stderr)
