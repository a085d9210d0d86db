"""One step of the controller on a real history, and putting it in force.

The history is what Zuul's builds API (or a CSV of it) says up to the
instant of the step: each build's enqueue, start and end.  Waits are
start minus enqueue, as every ``capacity`` command reads them.  The
capacity in force is the last action's in the audit log, or else the
inventory's at that instant.

A decision is put in force through the paths that exist: the Nodepool
launcher config as ``capacity apply`` writes it (validated, atomic,
untouched when unchanged), and the zuul-launcher config project as
``capacity apply-zuul-launcher --commit`` commits it.  Both are given the
inventory with the controller's max-servers and min-ready in place of
its own and without its windows, so the numbers reach the launcher by
the same code, and re-applying the same decision changes nothing.
"""

import dataclasses

from nodepool_aarch64 import model
from nodepool_aarch64 import sizing
from nodepool_aarch64.capacity import budget as bg
from nodepool_aarch64.capacity import control
from nodepool_aarch64.capacity import forecast as fc
from nodepool_aarch64.capacity.schedule import HOUR


def observe(demand, labels, objective, now):
    """(History, ErrorBudget) from the requests that arrived before
    ``now`` (seconds since the demand's origin)."""
    history = fc.History(labels)
    budget = bg.ErrorBudget(objective)
    d = demand
    for i, arrival in enumerate(d.arrival):
        if arrival >= now:
            break
        label = d.labels[d.label[i]]
        if label not in history.index:
            continue
        history.arrive(arrival, label)
        waited = d.waited[i]
        # Demand without waits (synthetic) still has node time; only
        # the budget cannot be judged from it.
        if arrival + (waited or 0.0) + d.hold[i] <= now:
            history.held(arrival, d.hold[i], label)
        if waited is None or d.pipelines[d.pipeline[i]] != \
                objective.pipeline or (objective.label is not None and
                                       objective.label != label):
            continue
        if waited is not None and arrival + waited > now:
            waited = None
        bad = budget.judge(arrival, waited, now)
        if bad is not None:
            budget.record(arrival, bad)
    return history, budget


def warm_up(controller, budget, now, hours=168):
    """Let the controller's feedback walk the last ``hours`` hours, as
    a long-running controller would have, so a step from a timer sees
    the same load factors."""
    first = int(now // HOUR)
    for hour in range(max(0, first - hours), first):
        controller.feedback(budget, hour * HOUR)


def ceilings(inv, at, quotas):
    """Provider -> the most the controller may set at ``at``: its quota,
    or less where a one-off window (a maintenance) caps it.  Weekly
    windows are what the controller replaces; one-off ones are facts."""
    one_off = [w for w in inv.active_windows(at) if w.starts is not None]
    capped = model.in_force(dict(quotas), one_off, 'max_servers')
    return {name: min(quotas[name], capped[name]) for name in quotas}


def inventory_state(inv, at):
    """The capacity the inventory itself puts in force at ``at``."""
    return control.State(
        {p.name: sizing.sizing_at(inv, p, at).max_servers
         for p in inv.providers},
        {label.name: inv.min_ready_at(label, at) for label in inv.labels})


def with_state(inv, state):
    """The inventory with ``state``'s numbers and no windows."""
    providers = tuple(dataclasses.replace(
        p, max_servers=state.max_servers.get(p.name, p.max_servers))
        for p in inv.providers)
    labels = tuple(dataclasses.replace(
        label, min_ready=state.min_ready.get(label.name, label.min_ready))
        for label in inv.labels)
    return dataclasses.replace(inv, providers=providers, labels=labels,
                               windows=())


def apply_nodepool(inv, state, launcher, output, at):
    """``capacity apply``'s path: (status, errors)."""
    from nodepool_aarch64.capacity import nodepool_apply
    return nodepool_apply.apply(with_state(inv, state), launcher, at,
                                output)


def apply_zuul_launcher(inv, state, checkout, relpath, at):
    """``capacity apply-zuul-launcher --commit``'s path: (status,
    edits)."""
    from nodepool_aarch64.capacity import zuul_launcher_apply
    return zuul_launcher_apply.apply(checkout, relpath,
                                     with_state(inv, state), at, commit=True)
