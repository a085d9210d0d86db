"""Windowed plan against static capacity on the same synthetic week.

Plans max-servers per hour for the shipped inventory's quotas against a
synthetic week with a weekday peak, then simulates, on the same demand:

* full quota at all times (the lower bound for waits),
* the plan,
* a static max-servers with the plan's node-hours,

and prints gate p95 waits with the two targets: the plan's gate p95 at
least 30% below the static config's, and at most 1.2x the full-quota
one.

    python benchmarks/capacity_plan.py [--per-week N] [--slo gate:p95:10]
"""

import argparse
import os
import sys
import time

# Run from a checkout without installing it.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(
    __file__))))

from nodepool_aarch64.capacity import demand as dm  # noqa: E402
from nodepool_aarch64.capacity import plan as pl  # noqa: E402
from nodepool_aarch64.capacity import schedule as sc  # noqa: E402
from nodepool_aarch64.capacity import simulate as sim  # noqa: E402
from nodepool_aarch64.inventory import load_inventory  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--per-week', type=int, default=1500)
    parser.add_argument('--weeks', type=int, default=1)
    parser.add_argument('--seed', type=int, default=1)
    parser.add_argument('--slo', action='append', type=pl.parse_objective)
    args = parser.parse_args()
    objectives = args.slo or [pl.parse_objective('gate:p95:10')]

    inv = load_inventory()
    quotas = sc.base_caps(inv, full_quota=True)
    demand = dm.synthetic(args.per_week, dm.label_mix(inv),
                          weeks=args.weeks, seed=args.seed)
    pools = sim.pools_from_inventory(inv)
    planner = pl.Planner(demand, pools, quotas, objectives, seed=args.seed)
    start = time.perf_counter()
    plan = planner.plan()
    elapsed = time.perf_counter() - start
    if not plan.feasible:
        print('the SLO cannot be met even with full quota at all times')
        return 1

    full_total = sum(quotas.values())
    static_total = pl.equal_cost_static(plan.schedule, quotas)
    runs = [
        ('full quota', pl.static_schedule(full_total, quotas)),
        ('plan', plan.schedule),
        ('static, equal node-hours', pl.static_schedule(static_total,
                                                        quotas)),
    ]
    print(f'demand: {len(demand)} requests, '
          f'{demand.node_hours():.0f} node-hours over {args.weeks} week(s); '
          f'quota {quotas}')
    print(f'SLO: {", ".join(str(o) for o in objectives)}; plan found in '
          f'{elapsed:.1f} s with {plan.simulations} simulations '
          f'(safety factor z={plan.safety:.2f})')
    print()
    header = (f'{"capacity":<26}{"node-h/wk":>10}{"peak":>6}'
              f'{"util":>7}{"gate p95":>10}{"check p95":>11}'
              f'{"low p95":>10}')
    print(header)
    gate = {}
    for name, schedule in runs:
        result = sim.simulate(demand, pools, schedule, seed=args.seed)
        gate[name] = result.percentile(95, pipeline='gate') / 60
        check = result.percentile(95, pipeline='check') / 60
        low = result.percentile(95, pipeline='check-arm64') / 60
        print(f'{name:<26}{schedule.node_hours():>10.0f}'
              f'{schedule.peak():>6}{result.utilisation:>7.2f}'
              f'{gate[name]:>9.1f}m{check:>10.1f}m{low:>9.1f}m')
    print()
    lower = 1 - gate['plan'] / gate['static, equal node-hours']
    ratio = gate['plan'] / gate['full quota']
    ok_lower = lower >= 0.30
    ok_ratio = ratio <= 1.2
    print(f'plan vs static at equal node-hours: gate p95 {lower:.0%} lower '
          f'(target >= 30%: {"met" if ok_lower else "MISSED"})')
    print(f'plan vs full quota at all times:    gate p95 {ratio:.2f}x '
          f'(target <= 1.2x: {"met" if ok_ratio else "MISSED"}), using '
          f'{plan.schedule.node_hours() / (full_total * 168):.0%} of the '
          f'node-hours')
    # The plan was fitted to this week; a week it has not seen shows how
    # much of the margin is fit rather than capacity.
    fresh = dm.synthetic(args.per_week, dm.label_mix(inv), weeks=args.weeks,
                         seed=args.seed + 1000)
    unseen = {name: sim.simulate(fresh, pools, schedule, seed=args.seed)
              .percentile(95, pipeline='gate') / 60
              for name, schedule in runs}
    print('on an unseen synthetic week (informational): gate p95 ' +
          ', '.join(f'{name} {value:.1f}m' for name, value in unseen.items()))
    return 0 if ok_lower and ok_ratio else 1


if __name__ == '__main__':
    raise SystemExit(main())
