"""Flavors: the right size, from the right cloud, picked the way meant.

Flavor names are per cloud, so a flavor-name copied from another cloud's
block fails to boot.  With ``min-ram``, Nodepool stops matching
flavor-name exactly: it takes the smallest flavor with enough RAM whose
name merely *contains* flavor-name, so ``opendev`` can pick
``opendev-16C-16GB``.
"""

import collections

from nodepool_aarch64.check.rules import zuul_launcher_arm64
from nodepool_aarch64.check.rules import ERROR, WARNING, rule

# Two flavors for one label differ "materially" when a job sized on one
# would not fit, or would waste half, of the other.
RAM_TOLERANCE = 0.25


def _by_cloud(configset):
    """cloud -> [pool label] over every launcher of the set."""
    clouds = collections.defaultdict(list)
    for f in configset.launchers:
        for p in f.providers:
            if p.is_openstack and isinstance(p.cloud, str):
                clouds[p.cloud] += p.pool_labels
    return clouds


def _flavor_labels(labels):
    return [x for x in labels if isinstance(x.flavor_name, str)]


@rule('NPA050', WARNING, 'min-ram together with a flavor-name that is '
      'part of another flavor name of the same cloud: Nodepool may pick '
      'the other flavor')
def min_ram_with_flavor_name(configset, context):
    for cloud, labels in _by_cloud(configset).items():
        names = {x.flavor_name for x in _flavor_labels(labels)}
        for label in _flavor_labels(labels):
            if label.min_ram is None or \
                    _cloud_facts(context, label.provider) is not None:
                continue  # with the cloud's real flavors, NPA054 decides
            wider = sorted(n for n in names
                           if n != label.flavor_name and
                           label.flavor_name in n)
            if wider:
                yield label.source.finding(
                    label.data, 'NPA050', WARNING,
                    f'{label.where()} sets min-ram {label.min_ram} with '
                    f'flavor-name {label.flavor_name}; Nodepool then '
                    f'matches any flavor whose name contains it and may '
                    f'boot {", ".join(wider)}; drop min-ram to match the '
                    f'name exactly', key='min-ram')


@rule('NPA054', ERROR, 'min-ram together with flavor-name makes Nodepool '
      'boot a different flavor than the one named (needs cloud facts)',
      needs_facts=True)
def min_ram_picks_other_flavor(configset, context):
    for label in configset.pool_labels:
        facts = _cloud_facts(context, label.provider)
        if facts is None or label.min_ram is None or \
                label.flavor_name is None:
            continue
        picked = _picked_instead(facts, label)
        if picked:
            yield label.source.finding(
                label.data, 'NPA054', ERROR,
                f'{label.where()} sets min-ram {label.min_ram} with '
                f'flavor-name {label.flavor_name}; Nodepool takes the '
                f'smallest flavor of {facts.where} with that much RAM '
                f'whose name contains it, which is {picked[0]}; drop '
                f'min-ram to boot {label.flavor_name}', key='min-ram')


def flavor_by_ram(flavors, min_ram, flavor_name=None):
    """The flavor Nodepool 11 boots for ``min-ram`` (and ``flavor-name``).

    Nodepool's OpenStack adapter lists the cloud's flavors sorted by
    (RAM, name) and takes the first with at least ``min_ram`` MiB whose
    name contains ``flavor_name``; None when no flavor qualifies.  A unit
    test runs Nodepool's own search on the same flavors and compares.
    """
    for f in sorted(flavors, key=lambda f: (f.ram, f.name)):
        if f.ram >= min_ram and (not flavor_name or flavor_name in f.name):
            return f
    return None


def _picked_instead(facts, label):
    """The flavor Nodepool's RAM search would pick, if not the named one."""
    picked = flavor_by_ram(facts.flavors.values(), label.min_ram,
                           label.flavor_name)
    if picked and picked.name != label.flavor_name:
        return [picked.name]
    return []


@rule('NPA051', WARNING, "a pool label's flavor-name is used by no other "
      "label of its cloud but by another cloud: a copy-paste")
def flavor_from_other_cloud(configset, context):
    clouds = _by_cloud(configset)
    users = collections.defaultdict(set)   # flavor name -> clouds
    for cloud, labels in clouds.items():
        for label in _flavor_labels(labels):
            users[label.flavor_name].add(cloud)
    names = collections.defaultdict(set)    # cloud -> flavor names
    for flavor, where in users.items():
        for cloud in where:
            names[cloud].add(flavor)
    for cloud, labels in clouds.items():
        counts = collections.Counter(
            x.flavor_name for x in _unique_labels(_flavor_labels(labels)))
        for label in _flavor_labels(labels):
            flavor = label.flavor_name
            # Two clouds of one operator share a flavor catalogue: a name
            # that another cloud's labels use is copied only from a cloud
            # whose other names this one does not use.
            others = sorted(
                other for other in users[flavor] - {cloud}
                if not (names[other] & names[cloud]) - {flavor})
            if counts[flavor] == 1 and len(counts) > 1 and others:
                if _cloud_facts(context, label.provider) is not None:
                    continue  # NPA052 knows the cloud's real flavors
                yield label.source.finding(
                    label.data, 'NPA051', WARNING,
                    f'{label.where()} uses flavor-name {flavor}, which no '
                    f'other label of cloud {cloud} uses but cloud '
                    f'{", ".join(others)} does; copied from another '
                    f'provider?', key='flavor-name')


def _unique_labels(labels):
    """Labels shared through a YAML anchor count once."""
    seen = {}
    for label in labels:
        seen.setdefault(id(label.data), label)
    return list(seen.values())


def _cloud_facts(context, provider):
    """The facts of a provider's cloud region, if they list its flavors."""
    if context.facts is None:
        return None
    facts = context.facts.provider(provider.name, provider.cloud,
                                   provider.region)
    return facts if facts is not None and facts.flavors is not None \
        else None


@rule('NPA052', ERROR, "a pool label's flavor-name is not a flavor of "
      "its cloud and region (needs cloud facts)", needs_facts=True)
def flavor_not_in_cloud(configset, context):
    for label in configset.pool_labels:
        facts = _cloud_facts(context, label.provider)
        flavor = label.flavor_name
        if facts is None or not isinstance(flavor, str):
            continue
        if label.min_ram is not None:
            known = any(flavor in name for name in facts.flavors)
        else:
            known = flavor in facts.flavors
        if not known:
            offered = ', '.join(sorted(facts.flavors)) or 'none'
            yield label.source.finding(
                label.data, 'NPA052', ERROR,
                f'{label.where()} uses flavor-name {flavor}, which cloud '
                f'{facts.where} does not offer (its flavors: {offered}); '
                f'the label never boots there',
                key='flavor-name')
    yield from zuul_launcher_arm64.flavor_not_in_cloud(
        configset, context, 'NPA052', ERROR)


@rule('NPA053', WARNING, 'the same label gets materially different '
      'flavors (vCPUs or RAM) in different providers (needs cloud facts)',
      needs_facts=True)
def label_flavor_differs(configset, context):
    sizes = collections.defaultdict(list)
    for label in configset.pool_labels:
        size = _label_size(context, label)
        if size is not None:
            sizes[label.name].append((label, size))
    for name, entries in sizes.items():
        first_label, first = entries[0]
        for label, size in entries[1:]:
            if _differs(size, first):
                yield label.source.finding(
                    label.data, 'NPA053', WARNING,
                    f'label {name} is {_text(size)} in provider '
                    f'{label.provider.name} but {_text(first)} in provider '
                    f'{first_label.provider.name}; jobs sized on one fail '
                    f'or waste the other',
                    key='min-ram' if label.min_ram is not None
                    else 'flavor-name')


def _label_size(context, label):
    """(vCPUs or None, RAM MiB, what) of what a pool label boots.

    With min-ram, Nodepool boots the smallest flavor with that much RAM
    (whose name contains flavor-name, when given); without the cloud's
    flavors, min-ram itself is the RAM the label gets at least.
    """
    facts = _cloud_facts(context, label.provider)
    if label.min_ram is not None:
        if facts is not None:
            f = flavor_by_ram(facts.flavors.values(), label.min_ram,
                              label.flavor_name)
            if f:
                return f.vcpus, f.ram, f.name
        return None, label.min_ram, f'min-ram {label.min_ram}'
    if facts is not None and label.flavor_name in facts.flavors:
        f = facts.flavors[label.flavor_name]
        return f.vcpus, f.ram, f.name
    return None


def _differs(a, b):
    if a[0] is not None and b[0] is not None and a[0] != b[0]:
        return True
    return abs(a[1] - b[1]) > RAM_TOLERANCE * max(a[1], b[1])


def _text(size):
    vcpus, ram, what = size
    cpu = f'{vcpus} vCPU / ' if vcpus is not None else ''
    return f'{cpu}{ram} MiB ({what})'
