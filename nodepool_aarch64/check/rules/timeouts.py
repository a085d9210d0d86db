"""Timeouts: long enough for UEFI boots, short enough to fail fast.

Arm64 guests boot through emulated UEFI firmware and took minutes on the
donated clouds; and a launch that fails only after launch-timeout times
launch-retries holds the node request (and the job) for that long.
"""

from nodepool_aarch64 import model
from nodepool_aarch64.check import archinfo
from nodepool_aarch64.check.rules import zuul_launcher_arm64
from nodepool_aarch64.check.rules import ERROR, WARNING, rule
from nodepool_aarch64.engines import nodepool


def _serves_arm64(configset, provider):
    return any(archinfo.label_arch(configset, label) == model.ARM64
               for label in provider.pool_labels)


def _where(provider, key):
    return key if key in provider.data else 'name'


@rule('NPA040', ERROR, 'an Arm64 provider has boot-timeout below '
      f'{model.ARM64_BOOT_TIMEOUT} s or launch-timeout below '
      f'{model.ARM64_LAUNCH_TIMEOUT} s')
def arm64_timeouts(configset, context):
    for p in configset.providers:
        if not p.is_openstack or not p.enabled or \
                not _serves_arm64(configset, p):
            continue
        for key, value, least in (
                ('boot-timeout', p.boot_timeout, model.ARM64_BOOT_TIMEOUT),
                ('launch-timeout', p.launch_timeout,
                 model.ARM64_LAUNCH_TIMEOUT)):
            if value < least:
                given = 'is' if key in p.data else 'defaults to'
                yield p.source.finding(
                    p.data, 'NPA040', ERROR,
                    f'provider {p.name} serves Arm64 labels but its {key} '
                    f'{given} {value} s; UEFI boots there need at least '
                    f'{least} s', key=_where(p, key))
    yield from zuul_launcher_arm64.arm64_timeouts(configset, 'NPA040', ERROR)


@rule('NPA041', WARNING, 'launch-timeout x launch-retries is longer than '
      'a job will wait for a node')
def launch_patience(configset, context):
    for p in configset.providers:
        if not p.is_openstack or not p.enabled:
            continue  # a provider whose pools are all off launches nothing
        total = p.launch_timeout * max(1, p.launch_retries)
        if total > context.patience:
            given = '' if 'launch-timeout' in p.data else ' (the default)'
            yield p.source.finding(
                p.data, 'NPA041', WARNING,
                f'provider {p.name}: launch-timeout {p.launch_timeout} s'
                f'{given} x {p.launch_retries} retries = {total} s before '
                f'a broken launch is given up, more than the '
                f'{context.patience} s a job should wait for a node; set '
                f'launch-timeout near the real boot time',
                key=_where(p, 'launch-timeout'))


@rule('NPA042', WARNING, 'a provider leaves boot-timeout or launch-timeout '
      "to Nodepool's default while its siblings (same cloud or same file) "
      'set one')
def timeout_left_to_default(configset, context):
    providers = [p for p in configset.providers
                 if p.is_openstack and p.enabled]
    for key, default in (('boot-timeout', nodepool.DEFAULT_BOOT_TIMEOUT),
                         ('launch-timeout', nodepool.DEFAULT_LAUNCH_TIMEOUT)):
        for p in providers:
            if key in p.data:
                continue
            siblings = sorted({s.name for s in providers
                               if key in s.data and s is not p and
                               (s.source is p.source or
                                (p.cloud is not None and
                                 s.cloud == p.cloud))})
            if siblings:
                yield p.source.finding(
                    p.data, 'NPA042', WARNING,
                    f'provider {p.name} has no {key}, so Nodepool\'s '
                    f'default of {default} s applies, while '
                    f'{", ".join(siblings)} set one; a forgotten line?',
                    key='name')
