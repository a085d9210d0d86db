"""Architecture: one label, one image, one flavor, one CPU; UEFI on Arm64.

An AArch64 cloud cannot boot an x86 image, and Nova cannot boot an
AArch64 image without UEFI firmware: there is no BIOS on aarch64.
"""

from nodepool_aarch64 import model
from nodepool_aarch64.check import archinfo
from nodepool_aarch64.check.rules import ERROR, WARNING, rule
from nodepool_aarch64.check.rules import zuul_launcher_arm64
from nodepool_aarch64.formats import configset as reader


@rule('NPA020', ERROR, 'architecture mismatch between a label, its '
      'diskimage (name, DIB ARCH, metadata) and its flavor')
def arch_mismatch(configset, context):
    for label in configset.pool_labels:
        evidence = archinfo.label_evidence(configset, label)
        arches = sorted({a for a, _ in evidence})
        if len(arches) > 1:
            why = '; '.join(f'{w} says {a}' for a, w in evidence)
            yield label.source.finding(
                label.data, 'NPA020', ERROR,
                f'{label.where()} mixes architectures: {why}', key='name')
    yield from zuul_launcher_arm64.arch_mismatch(configset, 'NPA020', ERROR)


@rule('NPA021', WARNING, 'a pool serves both Arm64 and non-Arm64 labels; '
      'a cloud region has one CPU architecture')
def pool_mixes_arch(configset, context):
    for p in configset.providers:
        for pool in p.pools:
            arches = {label.name: archinfo.label_arch(configset, label)
                      for label in pool.labels}
            arm = [n for n, a in arches.items() if a == model.ARM64]
            other = [n for n, a in arches.items() if a != model.ARM64]
            if arm and other:
                yield p.source.finding(
                    pool.data, 'NPA021', WARNING,
                    f'provider {p.name} pool {pool.name} serves Arm64 '
                    f'labels ({", ".join(arm)}) and labels with no Arm64 '
                    f'image ({", ".join(other)})', key='name')
    yield from zuul_launcher_arm64.provider_mixes_arch(configset, 'NPA021',
                                                       WARNING)


@rule('NPA022', ERROR, 'an Arm64 diskimage is uploaded without UEFI '
      f'boot metadata ({model.FIRMWARE_KEY}: {model.UEFI})')
def arm64_without_uefi(configset, context):
    for f in configset.builders:
        for p in f.providers:
            for entry in p.diskimage_list:
                name = entry['name']
                if archinfo.image_arch(configset, name, entry) != \
                        model.ARM64:
                    continue
                _, meta, _ = archinfo.resolved(f, name)
                if isinstance(entry.get('meta'), dict):
                    meta = {**meta, **entry['meta']}
                if str(meta.get(model.FIRMWARE_KEY, '')).lower() != \
                        model.UEFI:
                    yield f.finding(
                        entry, 'NPA022', ERROR,
                        f'Arm64 diskimage {name} is uploaded to provider '
                        f'{p.name} without {model.FIRMWARE_KEY}: '
                        f'{model.UEFI}; Nova boots it with BIOS firmware, '
                        f'which aarch64 lacks',
                        key='name')
    yield from zuul_launcher_arm64.arm64_without_uefi(configset, 'NPA022',
                                                      ERROR)


@rule('NPA023', WARNING, 'an Arm64 diskimage is built without the '
      f'{model.EFI_ELEMENT} element')
def arm64_without_efi_element(configset, context):
    for f in configset.builders:
        for entry in f.diskimages:
            name = entry['name']
            if entry.get('abstract') is True or \
                    archinfo.image_arch(configset, name) != model.ARM64:
                continue
            _, _, elements = archinfo.resolved(f, name)
            if not reader.built_here(entry):
                continue
            if not entry.get('elements') and not _uploaded(f, name):
                # A placeholder for another builder's image: OpenDev's
                # builder files declare each other's images this way.
                continue
            if model.EFI_ELEMENT not in elements:
                yield f.finding(
                    entry, 'NPA023', WARNING,
                    f'Arm64 diskimage {name} is built without the '
                    f'{model.EFI_ELEMENT} element; the image has no EFI '
                    f'partition to boot from', key='name')


def _uploaded(builder, name):
    return any(name in p.diskimages for p in builder.providers)
