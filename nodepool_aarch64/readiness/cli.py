"""``nodepool-aarch64 readiness``: may an Arm64 job vote yet?"""

from nodepool_aarch64 import options
from nodepool_aarch64.errors import InputError
from nodepool_aarch64.options import add_command, add_share_option, writing
from nodepool_aarch64.readiness import criteria as crit
from nodepool_aarch64.readiness import report
from nodepool_aarch64.readiness.window import DEFAULT_DAYS

DESCRIPTION = f"""\
Decide from Zuul's build history and the clouds' capacity whether an
Arm64 job may move experimental -> check-arm64 -> gate.

Builds come from a live zuul-web (--zuul-url URL --tenant T) or from
saved /api/tenant/T/builds JSON (--builds FILE...).  Each Arm64 job
(a name with -aarch64 or -arm64, or a run on an Arm64 nodeset) is
paired with its x86 counterpart (the name without the token, or
--pair ARM=X86) on the same change and patchset.

Criteria (thresholds in brackets are the defaults):
  runs                      enough runs in the window [14]
  arm64-specific-failures   failures where the counterpart passed on the
                            same patchset, per paired run [<= 5%]
  infra-failures            NODE_FAILURE, RETRY_LIMIT, TIMED_OUT,
                            POST_FAILURE, DISK_FULL... per run [<= 5%]
  duration-headroom         duration p95 / job timeout [<= 0.8]
  providers (gate)          clouds serving every label of the nodeset
                            [>= 2, no shared failure domain]
  capacity (gate)           simulated gate wait when the counterpart's
                            check and gate demand lands on the Arm64
                            labels [gate:p95:60]

The window is the last {DEFAULT_DAYS} days up to --until (default: now
for a live Zuul, the newest build for saved JSON).

Exit codes: 0 every job is at least ready for check-arm64 and none
gates without being ready for gate; 1 a job is not-ready, or gates
while not ready for gate; 2 unusable input.
"""


def register(subparsers):
    p = add_command(
        subparsers, 'readiness',
        help='may an Arm64 job move to check-arm64 or gate?',
        description=DESCRIPTION)
    src = p.add_argument_group('builds (one of)')
    options.zuul_web(src, 'the tenant whose builds count')
    src.add_argument('--builds', nargs='+', metavar='FILE',
                     help="saved JSON of Zuul's /api/tenant/T/builds")
    src.add_argument('--http-timeout', type=float, default=300.0,
                     metavar='SECONDS',
                     help='give up on zuul-web when all its pages have '
                          'not come in this long (default 300)')
    src.add_argument('--page-size', type=int, default=500, metavar='N',
                     help='builds asked for per zuul-web request '
                          '(default 500)')
    sel = p.add_argument_group('selection')
    sel.add_argument('--project', action='append', default=[],
                     help='only builds of this project (repeatable)')
    sel.add_argument('--job', action='append', default=[],
                     help='only this Arm64 job (repeatable; default: '
                          'every Arm64 job in the builds)')
    sel.add_argument('--pair', action='append', default=[],
                     metavar='ARM=X86', help='counterpart of an Arm64 job')
    sel.add_argument('--since', metavar='TIME|Nd',
                     help=f'window start: ISO 8601 time or days back '
                          f'(default {DEFAULT_DAYS}d)')
    sel.add_argument('--until', metavar='TIME', help='window end')
    cfg = p.add_argument_group('configuration')
    options.inventory(cfg)
    cfg.add_argument('--zuul-d', action='append', default=[],
                     metavar='PATH',
                     help="a project's zuul.d or .zuul.yaml (repeatable): "
                          'job timeouts, nodesets and current stages')
    cfg.add_argument('--timeout', type=int, metavar='SECONDS',
                     help='job timeout for jobs --zuul-d does not define')
    add_share_option(cfg)
    _threshold_args(p)
    out = p.add_argument_group('output')
    options.output_format(out)
    out.add_argument('--plot', metavar='DIR',
                     help='write a PNG per job here')
    out.add_argument('--seed', type=int, default=0,
                     help="the capacity simulation's random seed")
    p.set_defaults(func=run)


def _threshold_args(p):
    t = crit.Thresholds()
    g = p.add_argument_group('thresholds')
    g.add_argument('--min-runs', type=int, default=t.min_runs)
    g.add_argument('--max-arm64-failure-rate', type=float,
                   default=t.max_arm64_failure_rate, metavar='RATE')
    g.add_argument('--max-infra-failure-rate', type=float,
                   default=t.max_infra_failure_rate, metavar='RATE')
    g.add_argument('--max-duration-share', type=float,
                   default=t.max_duration_share, metavar='SHARE',
                   help='of the job timeout, for duration p95')
    g.add_argument('--min-clouds', type=int, default=t.min_clouds)
    g.add_argument('--slo', default=f'gate:p{t.slo_quantile}:'
                   f'{t.slo_minutes:g}', metavar='gate:pQ:MIN',
                   help='simulated gate wait objective')


def thresholds(args):
    from nodepool_aarch64.capacity import plan
    try:
        objective = plan.parse_objective(args.slo)
    except plan.ObjectiveError as e:
        raise InputError('--slo', None, '', str(e))
    if objective.pipeline != 'gate' or objective.label:
        raise InputError('--slo', None, '', f'{args.slo!r}: readiness '
                         'judges the gate wait: gate:pQ:MINUTES')
    check = options.check_range
    check('--max-arm64-failure-rate', args.max_arm64_failure_rate, 0,
          high=1)
    check('--max-infra-failure-rate', args.max_infra_failure_rate, 0,
          high=1)
    check('--max-duration-share', args.max_duration_share, above=0, high=1)
    check('--min-runs', args.min_runs, 0, whole=True)
    check('--min-clouds', args.min_clouds, 0, whole=True)
    check('--timeout', args.timeout, above=0, whole=True, unit='seconds')
    return crit.Thresholds(
        args.min_runs, args.max_arm64_failure_rate,
        args.max_infra_failure_rate, args.max_duration_share,
        args.min_clouds, int(objective.quantile), objective.minutes)


def _source(args):
    if bool(args.builds) == bool(args.zuul_url):
        raise InputError('readiness', None, '', 'give either --builds FILE '
                         '... or --zuul-url URL --tenant T')
    if args.zuul_url and not args.tenant:
        raise InputError('--tenant', None, '', 'needed with --zuul-url')
    options.check_range('--page-size', args.page_size, 1, whole=True)
    # "nan" and "inf" parse as floats; neither is a deadline.
    options.check_range('--http-timeout', args.http_timeout, above=0,
                        unit='seconds')


def request(args):
    """The readiness Request the options make."""
    from nodepool_aarch64.readiness import evaluate
    return evaluate.Request(
        builds=tuple(args.builds or ()), zuul_url=args.zuul_url,
        tenant=args.tenant, http_timeout=args.http_timeout,
        page_size=args.page_size, projects=tuple(args.project),
        jobs=tuple(args.job), pairs=tuple(args.pair), since=args.since,
        until=args.until, inventory=args.inventory,
        zuul_d=tuple(args.zuul_d), timeout=args.timeout,
        affected_share=tuple(args.affected_share), seed=args.seed)


def run(args):
    from nodepool_aarch64.readiness import evaluate
    _source(args)
    t = thresholds(args)
    jobs, window = evaluate.run(request(args), t)
    if args.plot:
        from nodepool_aarch64.readiness import plot
        with writing(args.plot):
            plot.write(args.plot, jobs, t, window['start'])
    if args.format == 'json':
        print(report.as_json(jobs, window))
    else:
        print(report.as_text(jobs, window))
    return 1 if evaluate.findings(jobs) else 0
