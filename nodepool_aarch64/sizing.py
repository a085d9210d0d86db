"""Where max-servers is computed: the most servers a quota allows.

Nodepool's ``max-servers`` counts servers whatever their flavor, so a
pool that mixes flavors is sized as if every server were its largest
flavor.  That is conservative on purpose: max-servers must never promise
more than the cloud can boot, or requests fail at peak instead of queueing.
"""

import dataclasses


@dataclasses.dataclass(frozen=True)
class Sizing:
    limits: dict      # resource -> servers that resource allows
    binding: str      # the resource (or 'max-servers') that decides
    max_servers: int


def allowed_servers(quota, flavors, reserved, headroom=0.0, cap=None):
    """Size one provider from its quota.

    ``quota`` and ``reserved`` are model.Quota; ``flavors`` the flavors the
    provider's labels use; ``headroom`` the fraction held back for other
    users of the project; ``cap`` an explicit max-servers the admin set.
    """
    vcpus = max((f.vcpus for f in flavors), default=0)
    ram = max((f.ram for f in flavors), default=0)

    def left(key):
        limit = quota.get(key)
        if limit is None:
            return None
        return max(0, limit - (reserved.get(key) or 0))

    limits = {}
    for key in ('instances', 'floating-ips', 'addresses'):
        if left(key) is not None:
            limits[key] = left(key)
    if left('cores') is not None and vcpus:
        limits['cores'] = left('cores') // vcpus
    if left('ram') is not None and ram:
        limits['ram'] = left('ram') // ram

    if not limits and cap is None:
        raise ValueError('no quota and no max-servers: nothing bounds '
                         'the number of servers')
    binding, servers = 'max-servers', cap
    if limits:
        # Ties name the first resource in a fixed order, so output is
        # stable from run to run.
        resource = min(limits, key=lambda k: (limits[k], k))
        allowed = int(limits[resource] * (1.0 - headroom))
        if cap is None or allowed <= cap:
            binding, servers = resource, allowed
    return Sizing(limits=limits, binding=binding, max_servers=max(0, servers))


def provider_sizing(inv, provider, cap=None):
    """An inventory provider's sizing: its quota and reserved amounts,
    the flavors its labels use, the inventory's headroom, and ``cap``
    (an explicit max-servers; None: the quota alone decides)."""
    return allowed_servers(
        provider.quota, inv.flavors_for(provider), provider.reserved,
        headroom=inv.headroom, cap=cap)


def sizing_at(inv, provider, at=None):
    """The provider's sizing with the max-servers cap in force at ``at``
    (without ``at``: outside every capacity window)."""
    return provider_sizing(inv, provider, inv.max_servers_at(provider, at))


def max_servers(inv, at=None, full_quota=False):
    """Provider name -> max-servers at ``at`` (``sizing_at``).

    With ``full_quota`` every explicit cap is ignored: the most the quota
    allows after reserved servers and headroom.
    """
    return {p.name: (provider_sizing(inv, p) if full_quota
                     else sizing_at(inv, p, at)).max_servers
            for p in inv.providers}
