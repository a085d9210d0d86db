"""min-ready: idle nodes held for speed, paid for in scarce capacity.

One idle Arm64 node can hold a large share of an 8-server cloud for
hours, and a min-ready the launcher cannot serve is a silent no-op.
"""

from nodepool_aarch64 import model
from nodepool_aarch64.check import archinfo
from nodepool_aarch64.check.rules import zuul_launcher_arm64
from nodepool_aarch64.check.rules import WARNING, rule


def _min_ready(entry):
    value = entry.get('min-ready', 0)
    return value if isinstance(value, int) else 0


def _arm64_labels(configset):
    names = {label.name for label in configset.pool_labels
             if archinfo.label_arch(configset, label) == model.ARM64}
    return names


@rule('NPA030', WARNING, 'min-ready on a scarce Arm64 label keeps idle '
      'nodes out of a small quota')
def min_ready_on_arm64(configset, context):
    arm64 = _arm64_labels(configset)
    for f in configset.launchers:
        for entry in f.labels:
            name = entry['name']
            if _min_ready(entry) > 0 and (
                    name in arm64 or archinfo.of_name(name) ==
                    model.ARM64):
                yield f.finding(
                    entry, 'NPA030', WARNING,
                    f'label {name} keeps min-ready {entry["min-ready"]} '
                    f'idle Arm64 nodes; Arm64 capacity is scarce, set '
                    f'min-ready: 0', key='min-ready')
    yield from zuul_launcher_arm64.min_ready_on_arm64(configset, 'NPA030',
                                                      WARNING)


@rule('NPA031', WARNING, 'min-ready on a label the launcher serves from '
      'no pool')
def min_ready_unserved(configset, context):
    for f in configset.launchers:
        served = f.served_labels
        for entry in f.labels:
            if _min_ready(entry) > 0 and entry['name'] not in served:
                yield f.finding(
                    entry, 'NPA031', WARNING,
                    f'label {entry["name"]} has min-ready '
                    f'{entry["min-ready"]} but no pool of {f.name} serves '
                    f'it, so this launcher never makes those nodes',
                    key='min-ready')


@rule('NPA032', WARNING, 'launchers drift: more than one launcher '
      '(Nodepool or zuul-launcher) sets min-ready for the same label')
def min_ready_drift(configset, context):
    first = {}
    for f in configset.launchers:
        served = f.served_labels
        for entry in f.labels:
            name = entry['name']
            if _min_ready(entry) <= 0 or name not in served:
                continue
            if name in first:
                other, other_entry = first[name]
                yield f.finding(
                    entry, 'NPA032', WARNING,
                    f'label {name} has min-ready {entry["min-ready"]} '
                    f'here and {other_entry["min-ready"]} in '
                    f'{other.path}:{other_entry.line}; each launcher '
                    f'tops up on its own, so ready nodes add up',
                    key='min-ready')
            else:
                first[name] = (f, entry)
    # A tenant in the middle of a migration: Nodepool and zuul-launcher
    # each keep their own ready nodes of a label both serve.
    served = configset.zuul_launcher.served_labels()
    for stanza in configset.zuul_launcher.defs['label'].values():
        if _min_ready(stanza.body) <= 0 or stanza.name not in first or \
                stanza.name not in served:
            continue
        other, other_entry = first[stanza.name]
        yield stanza.source.finding(
            stanza.body, 'NPA032', WARNING,
            f'label {stanza.name} has min-ready '
            f'{stanza.body["min-ready"]} in zuul-launcher and '
            f'{other_entry["min-ready"]} in Nodepool ({other.path}:'
            f'{other_entry.line}); each keeps its own ready nodes, so they '
            'add up: set it in one of them', key='min-ready')
