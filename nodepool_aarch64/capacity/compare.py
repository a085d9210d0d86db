"""Capacity scenarios side by side, on the same demand and seed.

``simulate``, ``plan`` and ``report`` weigh the inventory's own windows,
full quota, static configs and a plan by simulating each against the
same demand.  This module builds those schedules and the comparison the
commands show (``show`` turns it into text).
"""

from nodepool_aarch64 import sizing
from nodepool_aarch64.capacity import plan as pl
from nodepool_aarch64.capacity import schedule as sc
from nodepool_aarch64.capacity import simulate as sim


def week0(demand):
    """The week that one-off windows are placed in: the demand's own
    when it spans one week; none for a longer history, whose weeks a
    recurring schedule stands for."""
    return demand.origin if demand.weeks() <= 1 else None


def full_quota(inv):
    """Provider -> the most servers its quota allows, caps ignored."""
    return sizing.max_servers(inv, full_quota=True)


def inventory_schedule(inv, demand):
    return sc.from_inventory(inv, week0(demand))


def full_quota_schedule(inv):
    quotas = full_quota(inv)
    return pl.static_schedule(sum(quotas.values()), quotas)


def simulate_inventory(inv, demand, pools, seed, schedule=None):
    """What ``simulate --inventory`` measures: the inventory's windows
    (max-servers and min-ready) replayed against the demand; a
    ``schedule`` given replaces the max-servers."""
    if schedule is None:
        schedule = inventory_schedule(inv, demand)
    return sim.simulate(demand, pools, schedule, seed=seed,
                        min_ready=sc.min_ready_from_inventory(
                            inv, week0(demand)))


def simulate_scenarios(scenarios, demand, pools, seed):
    """([(name, schedule)], [(name, result)]) for scenarios given as
    (name, inventory, max-servers schedule or None for its windows)."""
    schedules, results = [], []
    for name, inv, static in scenarios:
        schedules.append((name, static or inventory_schedule(inv, demand)))
        results.append((name, simulate_inventory(inv, demand, pools, seed,
                                                 static)))
    return schedules, results


def measure(objectives, result):
    """Each objective's measured wait, in minutes to two places."""
    return [round(o.measure(result), 2) for o in objectives]


def row(inv, static, objectives, fit, held, pools, seed):
    """One line of the comparison: cost, then the SLO on the fitted and
    the held-out weeks (each held-out week also on its own, with that
    week's one-off windows).  ``static`` None: the inventory's windows.
    """
    r = simulate_inventory(inv, fit, pools, seed, static)
    schedule = static or inventory_schedule(inv, fit)
    weeks = fit.weeks() or 1
    out = {'node-hours-per-week': round(schedule.node_hours(), 1),
           'peak-max-servers': schedule.peak(),
           'idle-ready-node-hours-per-week':
               round(r.idle_ready_seconds / 3600 / weeks, 1),
           'utilisation': round(r.utilisation, 3),
           'slo-measured-minutes': measure(objectives, r),
           'slo-met': all(o.met(r) for o in objectives)}
    if held is not None:
        out['held-out'] = _held_out(inv, static, objectives, held, pools,
                                    seed)
    return out


def _held_out(inv, static, objectives, held, pools, seed):
    pooled = simulate_inventory(inv, held, pools, seed, static)
    per_week = [measure(objectives,
                        simulate_inventory(inv, week, pools, seed, static))
                for week in held.each_week()]
    return {'slo-measured-minutes': measure(objectives, pooled),
            'slo-met': all(o.met(pooled) for o in objectives),
            'weeks-met': sum(1 for m in per_week if all(
                v <= o.minutes for v, o in zip(m, objectives))),
            'per-week': per_week}


def plan_comparison(plan, inv, planned_inv, objectives, fit, held, pools,
                    seed):
    """Scenario name -> ``row``: the plan (``planned_inv``, the inventory
    with the plan merged in), the inventory as it is, full quota, and
    the smallest static max-servers holding the plan's node-hours."""
    quotas = full_quota(inv)
    static = pl.equal_cost_static(plan.schedule, quotas)
    scenarios = {
        'plan': (planned_inv, None),
        'inventory': (inv, None),
        'full quota': (inv, pl.static_schedule(sum(quotas.values()),
                                               quotas)),
        f'static {static}': (inv, pl.static_schedule(static, quotas))}
    return {name: row(i, s, objectives, fit, held, pools, seed)
            for name, (i, s) in scenarios.items()}


def plan_facts(plan, replaced, section):
    """How the plan was fitted, and the windows it writes."""
    return {'safety-z': round(plan.safety, 2),
            'warm-factor': plan.warm,
            'fitted-to': round(1 - plan.margin, 2),
            'peak-min-ready': max(map(sum, plan.min_ready.values)),
            'replaces-windows': replaced,
            'windows': section.count('- name: plan-')}
