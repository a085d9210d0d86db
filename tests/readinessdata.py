"""Builds shaped exactly as zuul-web's /api/tenant/T/builds returns them.

Shared by the readiness unit tests and the benchmark: a history of an
x86 job and its Arm64 twin on the same changes, with the Arm64 results
chosen by the caller.
"""

import datetime
import itertools
import json

T0 = datetime.datetime(2026, 11, 2, 8, 0)
_ids = itertools.count(1)


def stamp(t):
    return t.strftime('%Y-%m-%dT%H:%M:%S')


def build(job, result='SUCCESS', pipeline='check', nodeset='ubuntu-noble',
          change=1, patchset=1, start=T0, duration=600, voting=True,
          wait=60, error_detail=None, final=True,
          project='openstack/kolla'):
    n = next(_ids)
    end = start if result == 'NODE_FAILURE' else \
        start + datetime.timedelta(seconds=duration)
    return {
        '_id': n, 'uuid': f'{n:032x}', 'job_name': job, 'result': result,
        'held': False, 'execute_time': stamp(start),
        'start_time': stamp(start), 'end_time': stamp(end),
        'duration': (end - start).total_seconds(), 'voting': voting,
        'log_url': None, 'nodeset': nodeset, 'error_detail': error_detail,
        'final': final, 'artifacts': [], 'provides': [],
        'ref': {'project': project, 'branch': 'master', 'change': change,
                'patchset': str(patchset),
                'ref': f'refs/changes/{change % 100:02d}/{change}/'
                       f'{patchset}',
                'oldrev': None, 'newrev': None, 'ref_url': None},
        'pipeline': pipeline, 'event_id': f'e{n}',
        'event_timestamp': stamp(start - datetime.timedelta(seconds=wait)),
        'queue_item_uuid': f'q{n}', 'buildset': {'uuid': f'{n:032x}'},
    }


def history(arm_job, x86_job, arm_results, x86_results=None,
            arm_nodeset='ubuntu-noble-arm64', arm_pipeline='check-arm64',
            arm_duration=1200, x86_duration=600, hours_apart=5,
            error_detail=None, start=T0, first_change=1000):
    """One patchset per result: the x86 job in check and gate, the Arm64
    job in ``arm_pipeline``."""
    x86_results = x86_results or ['SUCCESS'] * len(arm_results)
    out = []
    for i, (arm, x86) in enumerate(zip(arm_results, x86_results)):
        at = start + datetime.timedelta(hours=hours_apart * i)
        change = first_change + i
        out.append(build(x86_job, x86, 'check', change=change, start=at,
                         duration=x86_duration))
        if x86 == 'SUCCESS':
            out.append(build(x86_job, 'SUCCESS', 'gate', change=change,
                             start=at + datetime.timedelta(hours=1),
                             duration=x86_duration))
        out.append(build(arm_job, arm, arm_pipeline, nodeset=arm_nodeset,
                         change=change, start=at, duration=arm_duration,
                         voting=arm_pipeline != 'check-arm64',
                         error_detail=error_detail
                         if arm not in ('SUCCESS', 'FAILURE') else None))
    return out


def write(path, builds):
    with open(path, 'w') as f:
        json.dump(builds, f)
    return path
