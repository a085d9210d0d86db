"""The Arm64, timeout, min-ready and facts rules on zuul-launcher objects.

They share their codes with the Nodepool rules of the same meaning and
read the effective providers (effective.py).  Each yields one finding per
place to change: a section's ``label-defaults`` shared by three
providers and five labels is one finding naming them, not fifteen.

zuul-launcher's facts differ from Nodepool's: the cloud is the
connection (named like the clouds.yaml cloud), the region the section's
``region``, the flavor its ``flavor-name``, quota ``resource-limits``;
UEFI metadata reaches Glance as the image's ``tags``; ``boot-timeout``
defaults to 300 s and an unset ``launch-timeout`` means no limit.
"""

from nodepool_aarch64 import model
from nodepool_aarch64 import sizing
from nodepool_aarch64.check import archinfo

# zuul/provider/schema.py common_label: boot-timeout default=300.
ZUUL_BOOT_TIMEOUT = 300
_ARCH_TAGS = ('architecture', 'hw_architecture')


def _arch_of_tags(config):
    tags = config.get('tags')
    found = []
    for key in _ARCH_TAGS:
        arch = archinfo.of_value(tags.get(key)) if isinstance(
            tags, dict) else None
        if arch:
            found.append((arch, f'image tag {key}={tags[key]}'))
    return found


def _unmarked_image(provider, image):
    """An image name without an architecture is x86 where the site marks
    its Arm64 builds by name: ubuntu-noble next to ubuntu-noble-arm64."""
    for other in provider.images:
        if other != image and other.startswith(image) and \
                archinfo.of_name(other) == model.ARM64 and \
                archinfo.of_name(other[len(image):]) == model.ARM64:
            return [(archinfo.X86_64, f'image {image} (the Arm64 build '
                     f'is {other})')]
    return []


def label_evidence(provider, item):
    """[(arch, why)] for an effective label of a provider."""
    config = item.config
    evidence = []
    arch = archinfo.of_name(item.name)
    if arch:
        evidence.append((arch, f'label name {item.name}'))
    image = config.get('image')
    if isinstance(image, str):
        arch = archinfo.of_name(image)
        if arch:
            evidence.append((arch, f'image {image}'))
        elif arch is None:
            evidence += _unmarked_image(provider, image)
        entry = provider.images.get(image)
        if entry is not None:
            evidence += _arch_of_tags(entry.config)
            arch = archinfo.of_name(entry.config.get('image-id'))
            if arch:
                evidence.append((arch, f'image-id {entry.config["image-id"]}'))
    flavor = config.get('flavor')
    if isinstance(flavor, str):
        arch = archinfo.of_name(flavor)
        if arch:
            evidence.append((arch, f'flavor {flavor}'))
        entry = provider.flavors.get(flavor)
        name = entry.config.get('flavor-name') if entry else None
        arch = archinfo.of_name(name)
        if arch:
            evidence.append((arch, f'flavor-name {name}'))
    return evidence


def label_arch(provider, item):
    arches = {a for a, _ in label_evidence(provider, item)}
    return arches.pop() if len(arches) == 1 else None


def _label_node(objects, item):
    """Where a label's settings are written: its entry, else its stanza."""
    if item.node is not item.stanza.body:
        return item.stanza.source, item.node
    stanza = objects.defs['label'].get(item.name)
    if stanza is not None:
        return stanza.source, stanza.body
    return item.stanza.source, item.stanza.body


def arch_mismatch(configset, code, severity):
    objects = configset.zuul_launcher
    for provider in objects.effective():
        for item in provider.labels.values():
            evidence = label_evidence(provider, item)
            if len({a for a, _ in evidence}) > 1:
                why = '; '.join(f'{w} says {a}' for a, w in evidence)
                source, node = _label_node(objects, item)
                yield source.finding(
                    node, code, severity,
                    f'zuul-launcher label {item.name} mixes architectures: '
                    f'{why}', key='name')


def _arm64_images(provider):
    """Images the provider boots for Arm64 labels, or that say Arm64."""
    # A label whose image is not a name (a broken file) names none;
    # NPA073 reports the shape.
    names = {item.config.get('image') for item in provider.labels.values()
             if isinstance(item.config.get('image'), str)
             and label_arch(provider, item) == model.ARM64}
    for name, entry in provider.images.items():
        if archinfo.of_name(name) == model.ARM64 or any(
                a == model.ARM64 for a, _ in _arch_of_tags(entry.config)):
            names.add(name)
    return names


def arm64_without_uefi(configset, code, severity):
    objects = configset.zuul_launcher
    for provider in objects.effective():
        for name in sorted(n for n in _arm64_images(provider)
                           if n in provider.images):
            entry = provider.images[name]
            if entry.config.get('type') != 'zuul':
                continue  # a cloud image's properties are the cloud's
            tags = entry.config.get('tags')
            firmware = tags.get(model.FIRMWARE_KEY) if isinstance(
                tags, dict) else None
            if str(firmware or '').lower() == model.UEFI:
                continue
            where = entry.stanza
            yield where.source.finding(
                entry.node, code, severity,
                f'{where.kind} {where.name} lists Arm64 image {name} '
                f'without tags {model.FIRMWARE_KEY}: {model.UEFI}; '
                'zuul-launcher uploads it to Glance without it and Nova '
                'boots it with BIOS firmware, which aarch64 lacks',
                key='name' if entry.node is not where.body else 'images')


def min_ready_on_arm64(configset, code, severity):
    objects = configset.zuul_launcher
    arm64 = {item.name for provider in objects.effective()
             for item in provider.labels.values()
             if label_arch(provider, item) == model.ARM64}
    for stanza in objects.defs['label'].values():
        value = stanza.body.get('min-ready')
        if not isinstance(value, int) or isinstance(value, bool) or \
                value <= 0:
            continue
        if stanza.name in arm64 or \
                archinfo.of_name(stanza.name) == model.ARM64:
            yield stanza.source.finding(
                stanza.body, code, severity,
                f'zuul-launcher label {stanza.name} keeps min-ready {value} '
                'idle Arm64 nodes; Arm64 capacity is scarce, set '
                'min-ready: 0', key='min-ready')


def _boot_timeout_cause(objects, provider, item):
    """(source, node, key, value, given) where a label's boot-timeout
    comes from: its entry, label-defaults lower down wins, its stanza."""
    value = item.config.get('boot-timeout', ZUUL_BOOT_TIMEOUT)
    if item.node is not item.stanza.body and 'boot-timeout' in item.node:
        return item.stanza.source, item.node, 'boot-timeout', value, 'is'
    for stanza in reversed(provider.path):
        defaults = stanza.body.get('label-defaults')
        if isinstance(defaults, dict) and 'boot-timeout' in defaults:
            return stanza.source, defaults, 'boot-timeout', value, 'is'
    source, node = _label_node(objects, item)
    return source, node, 'name', value, 'defaults to'


def arm64_timeouts(configset, code, severity):
    objects = configset.zuul_launcher
    # (id of the node, key, value, given) -> (source, node, label names)
    causes = {}

    def cause(source, node, key, value, given, names):
        entry = causes.setdefault((id(node), key, value, given),
                                  (source, node, set()))
        entry[2].update(names)

    for provider in objects.effective():
        arm64 = [item for item in provider.labels.values()
                 if label_arch(provider, item) == model.ARM64]
        for item in arm64:
            source, node, key, value, given = _boot_timeout_cause(
                objects, provider, item)
            if isinstance(value, int) and value < model.ARM64_BOOT_TIMEOUT:
                cause(source, node, key, value, given, [item.name])
        launch = provider.body.get('launch-timeout')
        if arm64 and isinstance(launch, int) and \
                launch < model.ARM64_LAUNCH_TIMEOUT:
            stanza = next(s for s in reversed(provider.path)
                          if 'launch-timeout' in s.body)
            cause(stanza.source, stanza.body, 'launch-timeout', launch, 'is',
                  [item.name for item in arm64])
    for (_, key, value, given), (source, node, names) in causes.items():
        what = 'launch-timeout' if key == 'launch-timeout' else \
            'boot-timeout'
        least = model.ARM64_LAUNCH_TIMEOUT if what == 'launch-timeout' \
            else model.ARM64_BOOT_TIMEOUT
        yield source.finding(
            node, code, severity,
            f'zuul-launcher {what} {given} {value} s for Arm64 labels '
            f'({", ".join(sorted(names))}); UEFI boots there need at least '
            f'{least} s', key=key)


def _facts(context, provider):
    return context.facts.provider(provider.name, provider.connection,
                                  provider.region)


def flavor_not_in_cloud(configset, context, code, severity):
    for provider in configset.zuul_launcher.effective():
        facts = _facts(context, provider)
        if facts is None or facts.flavors is None:
            continue
        for entry in provider.flavors.values():
            name = entry.config.get('flavor-name')
            if isinstance(name, str) and name not in facts.flavors:
                yield entry.stanza.source.finding(
                    entry.node, code, severity,
                    f'zuul-launcher provider {provider.name} flavor '
                    f'{entry.name} has flavor-name {name}, which is not a '
                    f'flavor of {facts.where}',
                    key='flavor-name' if entry.node is not
                    entry.stanza.body else None)


def limits_above_quota(configset, context, code, severity):
    for provider in configset.zuul_launcher.effective():
        limits = provider.body.get('resource-limits')
        instances = limits.get('instances') if isinstance(
            limits, dict) else None
        if not isinstance(instances, int):
            continue  # zuul-launcher then keeps to the cloud's own quota
        facts = _facts(context, provider)
        if facts is None or facts.quota is None:
            continue
        known = facts.flavors or {}
        flavors = {e.config.get('flavor-name'): known[e.config['flavor-name']]
                   for e in provider.flavors.values()
                   if e.config.get('flavor-name') in known}
        try:
            size = sizing.allowed_servers(facts.quota, flavors.values(),
                                          facts.reserved)
        except ValueError:
            continue
        if instances <= size.max_servers:
            continue
        stanza = next(s for s in reversed(provider.path)
                      if isinstance(s.body.get('resource-limits'), dict) and
                      'instances' in s.body['resource-limits'])
        yield stanza.source.finding(
            stanza.body['resource-limits'], code, severity,
            f'zuul-launcher provider {provider.name} resource-limits '
            f'instances {instances} is above the {size.max_servers} servers '
            f'the quota of {facts.where} allows (bound by {size.binding})',
            key='instances')


def provider_mixes_arch(configset, code, severity):
    """A cloud region has one CPU architecture: a provider offering
    Arm64 labels and labels evidently for x86 cannot boot both."""
    for provider in configset.zuul_launcher.effective():
        arches = {item.name: label_arch(provider, item)
                  for item in provider.labels.values()}
        arm = sorted(n for n, a in arches.items() if a == model.ARM64)
        other = sorted(n for n, a in arches.items()
                       if a == archinfo.X86_64)
        if arm and other:
            stanza = provider.stanza
            yield stanza.source.finding(
                stanza.body, code, severity,
                f'zuul-launcher provider {provider.name} offers Arm64 '
                f'labels ({", ".join(arm)}) and x86 labels '
                f'({", ".join(other)})', key='name')
