"""Zuul config: nodesets, and zuul-launcher objects (Zuul 14)."""

from nodepool_aarch64 import sizing

BASE_SECTION = 'linaro-arm64'


def nodesets(inv):
    """One single-node nodeset per label, named after the label."""
    return [{'nodeset': {
        'name': label.name,
        'nodes': [{'name': label.name, 'label': label.name}],
    }} for label in inv.labels]


def _section(inv, provider, at):
    section = {
        'name': provider.name,
        'parent': BASE_SECTION,
        'connection': provider.cloud,
        'region': provider.region,
        # zuul-launcher checks quota itself; these keep it below what the
        # inventory sizes, reserved hosts included.
        'resource-limits': {
            'instances': sizing.sizing_at(inv, provider, at).max_servers},
        'flavors': [
            {'name': flavor.name,
             'flavor-name': provider.flavor_name(flavor.name)}
            for flavor in inv.flavors_for(provider)],
        'images': [
            {'name': image.name, 'config-drive': image.config_drive,
             # Uploaded as Glance image properties.
             'tags': dict(image.metadata)}
            for image in inv.diskimages_for(provider)],
        'labels': [],
    }
    for label in inv.labels_for(provider):
        entry = {'name': label.name}
        if provider.key_name:
            entry['key-name'] = provider.key_name
        if provider.network:
            entry['networks'] = [provider.network]
        if provider.executor_zone:
            entry['executor-zone'] = provider.executor_zone
        section['labels'].append(entry)
    return section


def base_timeouts(inv):
    """(boot, launch) timeouts most providers share, for the base section."""
    pairs = [(p.boot_timeout, p.launch_timeout) for p in inv.providers]
    return max(pairs, key=lambda pair: (pairs.count(pair),
                                        -pairs.index(pair)))


def launcher_objects(inv, at=None):
    """image, flavor, label, section and provider stanzas."""
    objects = []
    for image in inv.diskimages.values():
        objects.append({'image': {
            'name': image.name, 'type': 'zuul',
            'description': f'{image.distro} {image.release} {image.arch}, '
                           'built with diskimage-builder'}})
    for flavor in inv.flavors.values():
        objects.append({'flavor': {
            'name': flavor.name,
            'description': f'{flavor.vcpus} vCPUs, {flavor.ram} MiB RAM'}})
    for label in inv.labels:
        objects.append({'label': {
            'name': label.name, 'image': label.diskimage,
            'flavor': label.flavor,
            'min-ready': inv.min_ready_at(label, at)}})
    boot, launch = base_timeouts(inv)
    objects.append({'section': {
        'name': BASE_SECTION,
        'abstract': True,
        'launch-timeout': launch,
        'label-defaults': {'boot-timeout': boot},
    }})
    for provider in inv.providers:
        section = _section(inv, provider, at)
        # A provider whose timeouts differ from the base section's says
        # so in its own section, which zuul-launcher lets override.
        if provider.launch_timeout != launch:
            section['launch-timeout'] = provider.launch_timeout
        if provider.boot_timeout != boot:
            section['label-defaults'] = {
                'boot-timeout': provider.boot_timeout}
        objects.append({'section': section})
    for provider in inv.providers:
        # Labels, images and flavors come from the section: re-listing an
        # inherited image here would drop its attributes.
        objects.append({'provider': {
            'name': provider.name, 'section': provider.name}})
    return objects


# The abstract job in zuul.d/image-build.yaml that builds, boot-checks
# and returns an Arm64 image.
IMAGE_BUILD_JOB = 'nodepool-aarch64-image-build'
IMAGE_BUILD_PIPELINE = 'image-build'
IMAGE_BUILD_TEMPLATE = f'{BASE_SECTION}-image-build'


def image_build_job_name(image):
    return f'{image.name}-image-build'


def image_build_objects(inv):
    """A build job per Arm64 image, and the template for image-build.

    They go next to the image objects: Zuul lets an image's build job be
    attached only by the project that defines the image.
    """
    images = [image for image in inv.diskimages.values() if image.is_arm64]
    objects = [{'job': {
        'name': image_build_job_name(image),
        'parent': IMAGE_BUILD_JOB,
        'description': f'Build {image.name} with diskimage-builder, boot '
                       'it under UEFI and return it to zuul-launcher.',
        'image-build-name': image.name,
        'vars': {
            'nodepool_aarch64_image_name': image.name,
            'nodepool_aarch64_image_elements': list(image.elements),
            'nodepool_aarch64_image_env': dict(image.env_vars),
        },
    }} for image in images]
    objects.append({'project-template': {
        'name': IMAGE_BUILD_TEMPLATE,
        'description': 'Build every Arm64 image of the inventory, '
                       'boot-checked under UEFI, in the image-build '
                       'pipeline.',
        IMAGE_BUILD_PIPELINE: {
            'jobs': [image_build_job_name(image) for image in images]},
    }})
    return objects
