"""A plan fitted on some weeks, judged on weeks it has not seen.

Demand comes from the synthetic generator with week-to-week variation:
each week's request rate is scaled by a factor between 0.65 and 1.35
(at least one week at or below 0.7 and one at or above 1.3), and the
held-out weeks, drawn with a different seed, include a burst week at
1.6 times the usual rate.  The plan (max-servers and min-ready per hour)
is fitted on the first weeks only and then simulated, week by week, on
the held-out ones, next to:

* full quota at all times,
* a static max-servers holding the plan's node-hours, with the
  inventory's own min-ready (none outside windows),

and prints the targets: gate p95 <= the SLO on at least 4 of the 5
held-out weeks, at most 60% of full-quota node-hours (min-ready nodes
sit inside max-servers, so their idle time is part of what is held),
and the static config at least 30% worse on the held-out weeks.

    python benchmarks/capacity_plan.py [--per-week N] [--fit 4]
        [--holdout 5] [--seed 1] [--slo gate:p95:10]
"""

import argparse
import os
import random
import sys
import time

# Run from a checkout without installing it.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(
    __file__))))

from nodepool_aarch64 import sizing  # noqa: E402
from nodepool_aarch64.capacity import demand as dm  # noqa: E402
from nodepool_aarch64.capacity import plan as pl  # noqa: E402
from nodepool_aarch64.capacity import schedule as sc  # noqa: E402
from nodepool_aarch64.capacity import simulate as sim  # noqa: E402
from nodepool_aarch64.inventory import load_inventory  # noqa: E402

BURST = 1.6


def week_factors(weeks, seed, burst=False):
    """Per-week rate factors with at least +-30% variation."""
    rng = random.Random(seed)
    factors = [rng.uniform(0.65, 1.35) for _ in range(weeks)]
    if weeks >= 2:
        low, high = rng.sample(range(weeks), 2)
        factors[low] = min(factors[low], 0.7)
        factors[high] = max(factors[high], 1.3)
    if burst:
        factors[rng.randrange(weeks)] = BURST
    return factors


def gate_p95(result):
    return result.percentile(95, pipeline='gate') / 60


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--per-week', type=int, default=1500)
    parser.add_argument('--fit', type=int, default=4)
    parser.add_argument('--holdout', type=int, default=5)
    parser.add_argument('--seed', type=int, default=1)
    parser.add_argument('--slo', type=pl.parse_objective,
                        default=pl.parse_objective('gate:p95:10'))
    parser.add_argument("--trim-budget", type=int, default=0)
    parser.add_argument("--margin", type=float, default=pl.MARGIN)
    args = parser.parse_args()
    objective = args.slo

    inv = load_inventory()
    quotas = sizing.max_servers(inv, full_quota=True)
    mix = dm.label_mix(inv)
    fit_factors = week_factors(args.fit, args.seed)
    held_factors = week_factors(args.holdout, args.seed + 1000, burst=True)
    fitted = dm.synthetic(args.per_week, mix, weeks=args.fit,
                          seed=args.seed, week_factors=fit_factors)
    held = dm.synthetic(args.per_week, mix, weeks=args.holdout,
                        seed=args.seed + 1000, week_factors=held_factors)
    pools = sim.pools_from_inventory(inv)
    base_ready = {label.name: label.min_ready for label in inv.labels}
    planner = pl.Planner(fitted, pools, quotas, [objective],
                         seed=args.seed, min_ready=base_ready,
                         trim_budget=args.trim_budget, margin=args.margin)
    start = time.perf_counter()
    plan = planner.plan()
    elapsed = time.perf_counter() - start
    print(f'fitted weeks: {args.fit} (seed {args.seed}, rate factors '
          f'{", ".join(f"{f:.2f}" for f in fit_factors)}), '
          f'{len(fitted)} requests')
    print(f'held-out weeks: {args.holdout} (seed {args.seed + 1000}, rate '
          f'factors {", ".join(f"{f:.2f}" for f in held_factors)}), '
          f'{len(held)} requests')
    print(f'SLO: {objective}; quota {quotas}')
    if not plan.feasible:
        print('the SLO cannot be met even with full quota at all times')
        return 1
    print(f'plan found in {elapsed:.1f} s with {plan.simulations} '
          f'simulations (safety z={plan.safety:.2f}, warm factor '
          f'{plan.warm:g}, peak min-ready '
          f'{max(map(sum, plan.min_ready.values))}, '
          f'fitted to {1 - plan.margin:.0%} of the SLO)')

    full_total = sum(quotas.values())
    full_hours = full_total * 168
    static_total = pl.equal_cost_static(plan.schedule, quotas)
    none_ready = sc.MinReadySchedule.static(
        {name: base_ready.get(name, 0) for name in plan.min_ready.labels})
    runs = [
        ('plan', plan.schedule, plan.min_ready),
        (f'static {static_total}', pl.static_schedule(static_total, quotas),
         none_ready),
        ('full quota', pl.static_schedule(full_total, quotas), none_ready),
    ]
    weeks = held.each_week()
    print()
    print(f'{"capacity":<12}{"node-h/wk":>10}{"of full":>8}{"idle ready":>11}'
          f'{"fitted":>8}{"held-out":>9}  per held-out week (gate p95, min)')
    table = {}
    for name, schedule, ready in runs:
        fit_r = sim.simulate(fitted, pools, schedule, seed=args.seed,
                             min_ready=ready)
        all_r = sim.simulate(held, pools, schedule, seed=args.seed,
                             min_ready=ready)
        per_week = [gate_p95(sim.simulate(w, pools, schedule,
                                          seed=args.seed, min_ready=ready))
                    for w in weeks]
        idle = all_r.idle_ready_seconds / 3600 / args.holdout
        table[name] = (gate_p95(all_r), per_week)
        print(f'{name:<12}{schedule.node_hours():>10.0f}'
              f'{schedule.node_hours() / full_hours:>8.0%}{idle:>11.0f}'
              f'{gate_p95(fit_r):>8.1f}{gate_p95(all_r):>9.1f}  '
              + ' '.join(f'{v:5.1f}' for v in per_week))
    print()
    plan_p95, plan_weeks = table['plan']
    static_p95, _ = table[f'static {static_total}']
    met = sum(1 for v in plan_weeks if v <= objective.minutes)
    share = plan.schedule.node_hours() / full_hours
    worse = static_p95 / plan_p95 - 1 if plan_p95 else float('inf')
    checks = [
        (met >= 4 * args.holdout / 5,
         f'held-out weeks meeting {objective}: {met} of {args.holdout} '
         f'(target >= {4 * args.holdout / 5:g})'),
        (share <= 0.60,
         f'plan node-hours: {share:.0%} of full quota (target <= 60%)'),
        (worse >= 0.30,
         f'static at equal node-hours, held-out gate p95: {static_p95:.1f} '
         f'vs {plan_p95:.1f} min, {worse:.0%} worse (target >= 30%)'),
    ]
    for ok, text in checks:
        print(f'{"met   " if ok else "MISSED"} {text}')
    return 0 if all(ok for ok, _ in checks) else 1


if __name__ == '__main__':
    raise SystemExit(main())
