"""Which jobs are Arm64 jobs, and which x86 job each one shadows.

An Arm64 job is usually its x86 counterpart's name with ``-aarch64`` or
``-arm64`` added (``kolla-build-ubuntu-source-aarch64``,
``tox-py311-arm64``).  Comparing the two on the same change and
patchset separates failures the change caused (both fail) from failures
Arm64 caused (only the Arm64 job fails).
"""

from nodepool_aarch64 import model
from nodepool_aarch64.errors import InputError
from nodepool_aarch64.formats import zuulbuilds

ARM64_TOKENS = tuple(f'-{name}' for name in model.ARM64_NAMES)

# What a counterpart did on one patchset.
PASSED, FAILED = 'passed', 'failed'


def default_counterpart(job):
    """The job's name without its Arm64 token, or None if it has none."""
    for token in ARM64_TOKENS:
        if job.endswith(token):
            return job[:-len(token)]
        if token + '-' in job:
            return job.replace(token + '-', '-', 1)
    return None


def parse_pairs(specs):
    """``ARM=X86`` options -> {arm64 job: x86 job}."""
    pairs = {}
    for spec in specs or ():
        arm, sep, x86 = spec.partition('=')
        if not sep or not arm.strip() or not x86.strip():
            raise InputError('--pair', None, '',
                             f'{spec!r}: expected ARM64_JOB=X86_JOB')
        pairs[arm.strip()] = x86.strip()
    return pairs


def arm64_jobs(builds, arm64_nodesets, pairs=None, only=()):
    """{Arm64 job: counterpart or None} for the jobs in ``builds``.

    A job is Arm64 when its name carries an Arm64 token, when it ran on
    an Arm64 nodeset, or when ``pairs`` names it.  ``only`` (job names)
    narrows the answer; a job named there with no builds is still
    answered, so that its missing history shows.  A counterpart that
    never ran is None unless ``pairs`` names it.
    """
    pairs = pairs or {}
    ran = {}
    for build in builds:
        ran.setdefault(build.job, build.nodeset)
    jobs = set(only) if only else {
        job for job, nodeset in ran.items()
        if default_counterpart(job) or nodeset in arm64_nodesets} | set(pairs)
    out = {}
    for job in sorted(jobs):
        if job in pairs:
            out[job] = pairs[job]
            continue
        name = default_counterpart(job)
        out[job] = name if name in ran else None
    return out


def patchset_key(build):
    if build.change is None:
        return None
    return (build.project, build.change, build.patchset)


def outcomes(builds):
    """(project, change, patchset) -> PASSED or FAILED for one job's
    builds.

    A patchset on which the job failed at least once counts as FAILED: a
    failure of the Arm64 job there may be the change's fault.
    """
    out = {}
    for build in builds:
        if not build.final:
            continue
        key = patchset_key(build)
        if key is None:
            continue
        if build.result in zuulbuilds.JOB_FAILURES:
            out[key] = FAILED
        elif build.result in zuulbuilds.PASSED:
            out.setdefault(key, PASSED)
    return out
