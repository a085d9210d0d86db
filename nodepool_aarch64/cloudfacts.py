"""Cloud facts: the one small file format for what clouds really offer.

``capacity quota --write-facts`` writes it from live clouds and ``check
--facts`` reads it, so a hand-written project-config can be checked
against the flavors and quotas of the clouds it names::

    clouds:
      - cloud: linaro          # a Nodepool provider's cloud: (clouds.yaml)
        region: RegionOne      # its region-name; omit for one region
        flavors:
          - {name: opendev.large, vcpus: 8, ram: 8192}    # ram in MiB
        quota: {instances: 10, cores: 80, ram: 98304,
                floating-ips: 9, addresses: 29}

Every key but ``cloud`` may be absent: an absent ``flavors`` or
``quota`` (or quota resource) is unknown, never zero.
"""

import dataclasses

import voluptuous as v
import yaml

from nodepool_aarch64 import model
from nodepool_aarch64.errors import InputError
from nodepool_aarch64.formats import yamlutil
from nodepool_aarch64.inventory import schema

# Clouds name flavors freely ("8 GB Performance"): any non-empty string.
_NAME = v.All(str, v.Length(min=1), msg='expected a non-empty string')
_COUNT = schema.COUNT
_FLAVOR = {v.Required('name'): _NAME, v.Required('vcpus'): _COUNT,
           v.Required('ram'): _COUNT}
_CLOUD = {
    v.Required('cloud'): _NAME,
    v.Optional('region'): v.Any(None, _NAME),
    v.Optional('flavors'): [_FLAVOR],
    v.Optional('quota'): {v.Optional(k): v.Any(None, _COUNT)
                          for k in model.QUOTA_KEYS},
}
SCHEMA = v.Schema({v.Required('clouds'): [_CLOUD]})


@dataclasses.dataclass(frozen=True)
class CloudRegion:
    cloud: str
    region: str | None
    flavors: tuple | None     # model.Flavor, or None when unknown
    quota: model.Quota | None

    def as_dict(self):
        out = {'cloud': self.cloud}
        if self.region is not None:
            out['region'] = self.region
        if self.flavors is not None:
            out['flavors'] = [{'name': f.name, 'vcpus': f.vcpus,
                               'ram': f.ram} for f in self.flavors]
        if self.quota is not None:
            out['quota'] = {k: self.quota.get(k) for k in model.QUOTA_KEYS
                            if self.quota.get(k) is not None}
        return out


def load(path):
    """[CloudRegion] from a facts file; InputError naming file:line."""
    data = yamlutil.load_strict(path)
    try:
        SCHEMA(data)
    except v.MultipleInvalid as e:
        error = min(e.errors, key=lambda x:
                    yamlutil.line_of(data, x.path) or 0)
        raise InputError(path, yamlutil.line_of(data, error.path),
                         yamlutil.dotted(error.path), schema.describe(error))
    seen = {}
    result = []
    for i, raw in enumerate(data['clouds']):
        key = (raw['cloud'], raw.get('region'))
        if key in seen:
            raise InputError(path, yamlutil.line_of(data, ('clouds', i)),
                             f'clouds[{i}]', f'cloud {key[0]} region '
                             f'{key[1]} already given in clouds[{seen[key]}]')
        seen[key] = i
        result.append(_cloud_region(raw))
    return result


def _cloud_region(raw):
    flavors = None
    if 'flavors' in raw:
        flavors = tuple(model.Flavor(f['name'], f['vcpus'], f['ram'])
                        for f in raw['flavors'])
    quota = None
    if isinstance(raw.get('quota'), dict):
        quota = model.Quota(**{k.replace('-', '_'): raw['quota'].get(k)
                               for k in model.QUOTA_KEYS})
    return CloudRegion(raw['cloud'], raw.get('region'), flavors, quota)


def dump(regions):
    """The facts file text for [CloudRegion], stable from run to run."""
    clouds = [r.as_dict() for r in sorted(
        regions, key=lambda r: (r.cloud, r.region or ''))]
    return ('# Cloud facts (flavors in MiB of RAM, quota limits), '
            'written by\n# nodepool-aarch64 capacity quota '
            '--write-facts.\n' +
            yaml.safe_dump({'clouds': clouds}, sort_keys=False,
                           default_flow_style=None, width=79))
