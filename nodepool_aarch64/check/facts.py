"""Cloud facts the config files do not hold: from a facts file or the
inventory.

Rules see only this small object, so a check never depends on where the
facts were written: each cloud region's flavors (by the cloud's own
flavor name) and quota, and the amounts reserved out of it.  A facts
file may leave anything out; ``flavors`` or ``quota`` is then None and
the rules that need it pass that region by.
"""

import dataclasses

from nodepool_aarch64 import cloudfacts
from nodepool_aarch64 import model


@dataclasses.dataclass(frozen=True)
class ProviderFacts:
    name: str | None    # the inventory's provider name; None from a file
    cloud: str
    region: str | None  # None: the cloud's only region
    quota: model.Quota | None
    reserved: model.Quota
    # The cloud's flavor name (as flavor-name uses it) -> model.Flavor
    # under that name.
    flavors: dict | None

    @property
    def key(self):
        return (self.cloud, self.region)

    @property
    def where(self):
        return self.cloud if self.region is None else \
            f'{self.cloud} {self.region}'


@dataclasses.dataclass(frozen=True)
class Facts:
    source: str
    providers: tuple

    def provider(self, name, cloud=None, region=None):
        """Facts for a config provider: by name, else by cloud and region.

        Hand-written configs often name providers differently from the
        inventory (``linaro-us-regionone`` vs ``linaro-us``); the cloud
        and region still identify the same quota.
        """
        for p in self.providers:
            if p.name is not None and p.name == name:
                return p
        same_cloud = [p for p in self.providers
                      if cloud is not None and p.cloud == cloud]
        for p in same_cloud:
            if p.region == region:
                return p
        for p in same_cloud:
            if p.region is None or (region is None and len(same_cloud) == 1):
                return p
        return None


def from_inventory(inventory):
    """Facts from a loaded nodepool_aarch64 inventory."""
    providers = []
    for p in inventory.providers:
        flavors = {}
        for logical, flavor in inventory.flavors.items():
            # A flavor the provider boots goes by the name it maps; one
            # it does not boot is taken to be in the cloud under its own
            # name, the inventory's best guess without a facts file.
            cloud_name = p.flavor_names.get(logical, logical)
            flavors[cloud_name] = dataclasses.replace(flavor,
                                                      name=cloud_name)
        providers.append(ProviderFacts(p.name, p.cloud, p.region, p.quota,
                                       p.reserved, flavors))
    return Facts(inventory.path, tuple(providers))


def from_file(path):
    """Facts from a cloud facts file (nodepool_aarch64.cloudfacts)."""
    providers = []
    for r in cloudfacts.load(path):
        flavors = None if r.flavors is None else {
            f.name: f for f in r.flavors}
        providers.append(ProviderFacts(None, r.cloud, r.region, r.quota,
                                       model.Quota(), flavors))
    return Facts(path, tuple(providers))
