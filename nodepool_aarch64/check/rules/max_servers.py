"""max-servers against what the cloud really allows.

Nodepool counts servers, the cloud counts instances, cores, RAM and
addresses; max-servers above any of them makes launches fail at peak
instead of queueing.  The arithmetic is the project's one sizing
function, fed with the flavors the pools actually use.
"""

import collections

from nodepool_aarch64 import sizing
from nodepool_aarch64.check.rules import zuul_launcher_arm64
from nodepool_aarch64.check.rules import ERROR, rule


@rule('NPA060', ERROR, "max-servers above the cloud's quota (instances, "
      "cores, RAM, floating IPs or subnet addresses; needs cloud facts)",
      needs_facts=True)
def max_servers_above_quota(configset, context):
    # needs_facts: the runner skips this rule when there are none.
    groups = collections.defaultdict(list)
    for f in configset.launchers:
        for p in f.providers:
            if p.is_openstack and p.pools:
                facts = context.facts.provider(p.name, p.cloud, p.region)
                if facts is not None and facts.quota is not None:
                    groups[(facts.name, facts.key)].append((p, facts))
    for entries in groups.values():
        pools = [(p, pool) for p, _ in entries for pool in p.pools
                 if pool.max_servers is not None]
        if not pools:
            continue
        facts = entries[0][1]
        known = facts.flavors or {}
        flavors = {label.flavor_name: known[label.flavor_name]
                   for p, _ in entries for label in p.pool_labels
                   if label.flavor_name in known}
        try:
            size = sizing.allowed_servers(facts.quota, flavors.values(),
                                          facts.reserved)
        except ValueError:
            continue  # the facts bound nothing: no quota to exceed
        # Nodepool counts a pool's nodes in ZooKeeper by provider and
        # pool name, whichever launcher made them: the same pool run by
        # several launcher hosts is one cap, the largest they set.
        caps = {}
        for p, pool in pools:
            key = (p.name, pool.name)
            caps[key] = max(caps.get(key, 0), pool.max_servers)
        total = sum(caps.values())
        if total <= size.max_servers:
            continue
        limits = ', '.join(f'{k} {v}' for k, v in sorted(size.limits.items()))
        p, pool = pools[-1]
        shared = '' if len(caps) == 1 else \
            f' ({len(caps)} pools together: {total})'
        yield p.source.finding(
            pool.data, 'NPA060', ERROR,
            f'provider {p.name} pool {pool.name} max-servers '
            f'{pool.max_servers}{shared} is above the {size.max_servers} '
            f'servers the quota of {facts.where} allows '
            f'(bound by {size.binding}; servers per resource: {limits})',
            key='max-servers')
    yield from zuul_launcher_arm64.limits_above_quota(
        configset, context, 'NPA060', ERROR)
