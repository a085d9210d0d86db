"""What gating would cost the Arm64 clouds: providers and capacity.

OpenDev asks that a job able to stop a change from merging can run in at
least two places with no shared failure domain; here that is two
providers on different clouds serving every label of the job's nodeset.

Capacity: once a job gates, it runs wherever its counterpart runs today,
in check and in gate, at gate's precedence.  The counterpart's check and
gate builds of the window are replayed as node requests for the Arm64
job's labels, on top of the Arm64 demand already in the history (every
other Arm64 job as it ran), through the capacity simulator with the
inventory's providers, max-servers windows and min-ready.  Each request
holds its node for the counterpart's duration scaled by how much slower
the Arm64 job runs (ratio of median durations).
"""

import statistics

from nodepool_aarch64.capacity import demand as demand_mod
from nodepool_aarch64.capacity import schedule as schedule_mod
from nodepool_aarch64.capacity import simulate as sim

PROMOTED_PIPELINES = ('check', 'gate')


def serving(inv, labels):
    """{label: [(provider, cloud), ...]} from the inventory."""
    known = {label.name: label for label in inv.labels}
    out = {}
    for name in labels:
        label = known.get(name)
        providers = label.providers if label else ()
        out[name] = [(p, inv.provider(p).cloud) for p in providers]
    return out


def providers_check(inv, labels):
    """(distinct clouds of the worst-served label, detail dict)."""
    served = serving(inv, labels)
    if not served:
        return 0, {'labels': {}, 'note': 'no labels known for this job'}
    clouds = {name: sorted({cloud for _, cloud in pairs})
              for name, pairs in served.items()}
    worst = min(len(c) for c in clouds.values())
    return worst, {'labels': {name: {
        'providers': [p for p, _ in served[name]],
        'clouds': clouds[name]} for name in served}}


def _median_duration(builds):
    values = [b.duration for b in builds
              if b.result == 'SUCCESS' and b.duration]
    return statistics.median(values) if values else None


def _add_requests(rows, build, labels, *scale):
    """The build's node requests, as many as it added (the demand's one
    filter leaves out a record no build could make)."""
    # A multi-node nodeset asks for all its nodes at once; the simulator
    # takes one node per request, so each node is one request.
    return sum(rows.add(build.arrival, build.start, build.end,
                        build.pipeline, label, *scale) for label in labels)


def _ran(build):
    return build.start is not None and build.end is not None and \
        build.result != 'NODE_FAILURE'


def promotion_demand(job, arm64_builds, counterpart_builds, labels_of,
                     inv_labels, share=1.0):
    """The promoted job's node requests (``demand.Rows``), the number
    of gate requests among them, and how much longer the Arm64 job runs.
    ``share`` scales the promoted job's holds: a build job that builds
    only what a change affects holds its node for that share of a full
    build."""
    rows = demand_mod.Rows()
    for build in arm64_builds:
        if build.job == job or not _ran(build):
            continue
        labels = [la for la in labels_of(build.job, build.nodeset)
                  if la in inv_labels]
        _add_requests(rows, build, labels)
    mine = [b for b in arm64_builds if b.job == job]
    ratio = 1.0
    arm, x86 = _median_duration(mine), _median_duration(counterpart_builds)
    if arm and x86:
        ratio = arm / x86
    labels = [la for la in labels_of(job, None) if la in inv_labels]
    gate = 0
    for build in counterpart_builds:
        if build.pipeline not in PROMOTED_PIPELINES or not _ran(build):
            continue
        promoted = _add_requests(rows, build, labels, ratio, share)
        if build.pipeline == 'gate':
            gate += promoted
    return rows, gate, ratio


def simulate_gate_wait(inv, rows, quantile=95, seed=0):
    """The simulated gate wait at ``quantile``, in minutes, for the
    requests of ``promotion_demand``."""
    if not rows:
        return None, None
    demand = rows.demand()
    origin = demand.origin
    week0 = origin if demand.weeks() <= 1 else None
    result = sim.simulate(
        demand, sim.pools_from_inventory(inv),
        schedule_mod.from_inventory(inv, week0), seed=seed,
        min_ready=schedule_mod.min_ready_from_inventory(inv, week0))
    if 'gate' not in demand.pipelines:
        return None, result
    return result.percentile(quantile, pipeline='gate') / 60.0, result
