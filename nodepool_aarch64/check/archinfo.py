"""What architecture a label, diskimage, cloud-image or flavor is for.

Config files rarely say so directly, so the evidence is collected from
every place it shows: the naming convention (``-arm64``), the
diskimage-builder ``ARCH`` variable, and Glance's ``architecture`` image
property.  Unknown is an answer: rules compare only what is known.
"""

import re

from nodepool_aarch64.model import AMD64, ARM64, ARM64_NAMES

X86_64 = 'x86_64'
_X86_64_NAMES = (AMD64, X86_64, 'x86-64')


def _word(names):
    alternatives = '|'.join(re.escape(n) for n in names)
    return re.compile(rf'(?<![a-z0-9])({alternatives})(?![a-z0-9])')


_NAME_PATTERNS = (
    (_word(ARM64_NAMES), ARM64),
    (_word(_X86_64_NAMES), X86_64),
)
_VALUES = {**dict.fromkeys(ARM64_NAMES, ARM64),
           **dict.fromkeys(_X86_64_NAMES, X86_64)}
_ARCH_VARS = ('ARCH', 'DIB_ARCH')
_ARCH_PROPERTIES = ('architecture', 'hw_architecture')


def of_name(name):
    if not isinstance(name, str):
        return None
    lowered = name.lower()
    for pattern, arch in _NAME_PATTERNS:
        if pattern.search(lowered):
            return arch
    return None


def name_arch(name):
    """The architecture a label name implies, x86 when it names none:
    the ``-arm64`` suffix is how sites mark the exception."""
    return of_name(name) or X86_64


def of_value(value):
    return _VALUES.get(str(value).lower()) if value is not None else None


def resolved(nodepool_file, name):
    """A top-level diskimage with its parents' settings merged in, as
    Nodepool does: (env-vars, metadata, elements).

    The parent chain is walked in a loop, not by recursion: a chain of a
    few thousand generations is valid YAML and must not exhaust the
    stack.  A name met twice ends the chain (a loop of parents).
    """
    chain, seen = [], set()
    while isinstance(name, str) and name not in seen:
        entry = nodepool_file.diskimage(name)
        if entry is None:
            break
        seen.add(name)
        chain.append(entry)
        name = entry.get('parent')
    env, meta, elements = {}, {}, []
    for entry in reversed(chain):  # the oldest ancestor first
        if isinstance(entry.get('env-vars'), dict):
            env.update(entry['env-vars'])
        if isinstance(entry.get('metadata'), dict):
            meta.update(entry['metadata'])
        if isinstance(entry.get('elements'), list):
            elements.extend(entry['elements'])
    return env, meta, elements


def image_evidence(configset, name, provider_entry=None):
    """[(arch, why)] for a diskimage, from every file that defines it."""
    evidence = list(_defined_evidence(configset, name))
    if provider_entry is not None and \
            isinstance(provider_entry.get('meta'), dict):
        evidence += _values(provider_entry['meta'], _ARCH_PROPERTIES,
                            lambda k, v: f'meta {k}')
    return evidence


def _defined_evidence(configset, name):
    """What the diskimage's name and definitions say, worked out once
    per name: every label of every file asks, and a diskimage that a
    thousand launcher files define would make that quadratic.  Each
    architecture is given once per key (the first file that says it)."""
    memo = configset.memo.setdefault('image-evidence', {})
    try:
        return memo[name]
    except KeyError:
        pass
    except TypeError:  # an unhashable name from a broken file
        return ()
    evidence, said = [], set()
    arch = of_name(name)
    if arch:
        evidence.append((arch, f'diskimage name {name}'))
    for f in configset.files_defining(name):
        env, meta, _ = resolved(f, name)
        found = (_values(env, _ARCH_VARS,
                         lambda k, v, f=f: f'{k}={v} in {f.name}') +
                 _values(meta, _ARCH_PROPERTIES,
                         lambda k, v: f'metadata {k}={v}'))
        for arch, why in found:
            key = (arch, why.split('=', 1)[0])
            if key not in said:
                said.add(key)
                evidence.append((arch, why))
    memo[name] = tuple(evidence)
    return memo[name]


def _values(mapping, keys, why):
    """[(arch, why(key, value))] for the ``keys`` of ``mapping`` whose
    value names an architecture."""
    found = []
    for key in keys:
        arch = of_value(mapping.get(key))
        if arch:
            found.append((arch, why(key, mapping[key])))
    return found


def image_arch(configset, name, provider_entry=None):
    arches = {a for a, _ in image_evidence(configset, name, provider_entry)}
    return arches.pop() if len(arches) == 1 else None


def label_arch(configset, label):
    """The architecture a pool label evidently boots, or None."""
    evidence = label_evidence(configset, label)
    arches = {a for a, _ in evidence}
    return arches.pop() if len(arches) == 1 else None


def label_evidence(configset, label):
    evidence = []
    arch = of_name(label.name)
    if arch:
        evidence.append((arch, f'label name {label.name}'))
    if isinstance(label.diskimage, str):
        evidence += image_evidence(
            configset, label.diskimage,
            label.provider.diskimages.get(label.diskimage))
    if isinstance(label.cloud_image, str):
        arch = of_name(label.cloud_image)
        if arch:
            evidence.append((arch, f'cloud-image {label.cloud_image}'))
        entry = label.provider.cloud_images.get(label.cloud_image) or {}
        for key in ('image-name', 'image-id'):
            arch = of_name(entry.get(key))
            if arch:
                evidence.append((arch, f'{key} {entry[key]}'))
    arch = of_name(label.flavor_name)
    if arch:
        evidence.append((arch, f'flavor-name {label.flavor_name}'))
    return evidence
