"""Cloud facts the config files do not hold, adapted from the inventory.

Rules see only this small object, so a check never depends on how the
inventory is written: each cloud's flavors (by the cloud's own flavor
name) and each provider's quota and reserved amounts.
"""

import dataclasses

from nodepool_aarch64 import model


@dataclasses.dataclass(frozen=True)
class CloudFlavor:
    name: str     # the cloud's flavor name, as flavor-name uses it
    vcpus: int
    ram: int      # MiB


@dataclasses.dataclass(frozen=True)
class ProviderFacts:
    name: str
    cloud: str
    region: str
    quota: model.Quota
    reserved: model.Quota
    flavors: dict   # cloud flavor name -> CloudFlavor


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
            if p.name == name:
                return p
        for p in self.providers:
            if cloud is not None and p.cloud == cloud and \
                    (region is None or p.region == region):
                return p
        return None


def from_inventory(inventory):
    """Facts from a loaded nodepool_aarch64 inventory."""
    providers = []
    for p in inventory.providers:
        flavors = {}
        for logical, flavor in inventory.flavors.items():
            cloud_name = p.flavor_name(logical)
            flavors[cloud_name] = CloudFlavor(cloud_name, flavor.vcpus,
                                              flavor.ram)
        providers.append(ProviderFacts(p.name, p.cloud, p.region, p.quota,
                                       p.reserved, flavors))
    return Facts(inventory.path, tuple(providers))
