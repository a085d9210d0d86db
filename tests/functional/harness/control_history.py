"""Build history for the capacity controller, as Zuul records builds.

Two weeks and a half of quiet, well served Arm64 demand (every node
within a minute), then a burst of gate builds whose nodes came 25 to 30
minutes late, just before the controller's second step.  The dicts have
the fields ``test_readiness_zuul_web.record`` writes through Zuul's own
SQL connection, so zuul-web serves them as real builds.
"""

import datetime
import uuid

from nodepool_aarch64.capacity import demand as dm

ORIGIN = datetime.datetime(2026, 1, 5, tzinfo=dm.UTC)
# The burst's step: Monday of the third week, 14:00 UTC; the quiet step
# an hour before it.
BURST_AT = ORIGIN + datetime.timedelta(weeks=2, hours=14)
QUIET_AT = BURST_AT - datetime.timedelta(hours=1)
BURST = 30


def _iso(moment):
    return moment.strftime('%Y-%m-%dT%H:%M:%S')


def _build(n, pipeline, label, enqueued, waited, hold):
    start = enqueued + datetime.timedelta(seconds=waited)
    end = start + datetime.timedelta(seconds=hold)
    return {
        'uuid': uuid.UUID(int=n + 1).hex, 'job_name': f'{label}-job',
        'result': 'SUCCESS', 'voting': True, 'pipeline': pipeline,
        'nodeset': label, 'error_detail': None, 'final': True,
        'start_time': _iso(start), 'end_time': _iso(end),
        'event_id': uuid.UUID(int=10 ** 6 + n).hex,
        'event_timestamp': _iso(enqueued),
        'queue_item_uuid': uuid.UUID(int=2 * 10 ** 6 + n).hex,
        'buildset': {'uuid': uuid.UUID(int=3 * 10 ** 6 + n).hex},
        'ref': {'project': 'openstack/kolla', 'ref': f'refs/changes/{n}',
                'change': 1000 + n, 'patchset': '1', 'branch': 'master'}}


def builds(inv, per_week=600):
    """The quiet history up to BURST_AT and the late burst before it."""
    demand = dm.synthetic(per_week, dm.label_mix(inv), weeks=3, seed=5)
    out = []
    for arrival, pipeline, label, hold in demand.records():
        enqueued = ORIGIN + datetime.timedelta(seconds=arrival)
        if enqueued + datetime.timedelta(seconds=60 + hold) > BURST_AT:
            continue
        out.append(_build(len(out), pipeline, label, enqueued, 60.0, hold))
    # After the quiet step, so that step sees none of it.
    for n in range(BURST):
        enqueued = QUIET_AT + datetime.timedelta(minutes=1 + n)
        out.append(_build(len(out), 'gate', 'ubuntu-bionic-arm64',
                          enqueued, 1500 + 10 * n, 600))
    return out
