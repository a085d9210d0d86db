"""Names that point at nothing: labels, diskimages, cloud-images.

These are the mistakes that pass ``nodepool config-validate`` file by
file and then end as NODE_FAILURE, or crash a launcher on restart.
"""

from nodepool_aarch64.check.rules import ERROR, WARNING, rule


@rule('NPA010', ERROR, 'a Zuul nodeset or job asks for a label that no '
      'launcher pool in the config set (or the tenant, when given) serves')
def nodeset_label_not_served(configset, context):
    tenant = context.tenant
    served = configset.served_labels() | (tenant.labels if tenant else set())
    elsewhere = f' and {tenant.source} does not list' if tenant else ''
    for ref in _first_per_owner(configset.node_refs()):
        if ref.label in served or not _checkable(configset, tenant, ref):
            continue
        yield ref.source.finding(
            ref.data, 'NPA010', ERROR,
            f'{ref.owner} asks for label {ref.label}, which no launcher '
            f'pool in this config set serves{elsewhere}; its jobs can only '
            f'end in NODE_FAILURE', key='label')


def _checkable(configset, tenant, ref):
    """Without the tenant's label list, only labels the given launchers
    could be expected to serve are judged."""
    if tenant is not None:
        return True
    return configset.has_servers and configset.within_reach(ref.label)


def _first_per_owner(refs):
    """One node per nodeset and label: a five-node nodeset with one
    unserved label is one mistake."""
    seen = set()
    for ref in refs:
        key = (ref.source.path, ref.owner, ref.label)
        if key not in seen:
            seen.add(key)
            yield ref


def unchecked_labels(configset, tenant):
    """Labels NPA010 could not judge: no launcher could be expected to
    serve them and nobody said what the tenant serves."""
    if tenant is not None:
        return []
    served = configset.served_labels()
    return sorted({ref.label for ref in configset.node_refs()
                   if ref.label not in served and
                   not _checkable(configset, tenant, ref)})


@rule('NPA016', WARNING, 'a job asks for a nodeset by a name that no '
      'nodeset of the config set (or of the tenant, when given) defines')
def nodeset_undefined(configset, context):
    defined = {body.get('name') for f in configset.zuul
               for body in f.bodies('nodeset')
               if isinstance(body.get('name'), str)}
    tenant = context.nodesets
    if not defined and tenant is None:
        return  # nodesets come from elsewhere: nothing to compare
    elsewhere = ''
    if tenant is not None:
        # A consumer repo uses the tenant's nodesets (ubuntu-noble from
        # the tenant's base jobs repo) as much as its own.
        defined |= tenant.nodesets
        elsewhere = f' nor in {tenant.source}'
    for f in configset.zuul:
        for name, node in f.nodeset_names():
            if name not in defined:
                yield f.finding(
                    node, 'NPA016', WARNING,
                    f'nodeset {name} is defined nowhere in this config '
                    f'set{elsewhere}; Zuul rejects the job unless another '
                    f'repo of the tenant defines it', key='nodeset')


@rule('NPA017', WARNING, 'a launcher declares a top-level label that no '
      'pool of it serves (min-ready above 0 is NPA031)')
def declared_label_unserved(configset, context):
    for f in configset.launchers:
        # A pool switched off with max-servers: 0 still serves the label
        # in the admin's mind; that is not this mistake.
        served = {label.name for label in f.all_pool_labels()}
        for entry in f.labels:
            ready = entry.get('min-ready', 0)
            if isinstance(ready, int) and ready > 0:
                continue  # NPA031 says it, with the idle nodes it costs
            if entry['name'] not in served:
                yield f.finding(
                    entry, 'NPA017', WARNING,
                    f'label {entry["name"]} is declared in {f.name} but no '
                    f'pool of it serves the label; requests this launcher '
                    f'takes for it are declined, and a label meant to be '
                    f'added to a pool never was', key='name')


@rule('NPA011', ERROR, 'a pool label is not declared in the top-level '
      'labels of its file')
def pool_label_undeclared(configset, context):
    for f in configset.launchers:
        declared = f.label_names
        for label in f.all_pool_labels():
            if label.name not in declared:
                yield f.finding(
                    label.data, 'NPA011', ERROR,
                    f'{label.where()} is not declared in the top-level '
                    f'labels; Nodepool fails to load the config '
                    f'(KeyError on the label)', key='name')


@rule('NPA012', ERROR, "a pool label boots a diskimage its provider "
      "does not list, so the label is never served there")
def label_image_not_in_provider(configset, context):
    for f in configset.launchers:
        known = f.diskimage_names
        for label in f.all_pool_labels(openstack=True):
            image, p = label.diskimage, label.provider
            if not label.pool.enabled:
                continue  # serves nothing, so needs no image
            # A diskimage missing from the top level too is NPA014.
            if isinstance(image, str) and image in known and \
                    image not in p.diskimages:
                yield f.finding(
                    label.data, 'NPA012', ERROR,
                    f'{label.where()} boots diskimage {image}, which '
                    f'provider {p.name} does not list under diskimages; '
                    f'no image is uploaded there, so the label is '
                    f'advertised but never served', key='diskimage')


@rule('NPA013', ERROR, 'a pool label names a cloud-image its provider '
      'does not define')
def label_cloud_image_missing(configset, context):
    for f in configset.launchers:
        for label in f.all_pool_labels(openstack=True):
            image, p = label.cloud_image, label.provider
            if isinstance(image, str) and image not in p.cloud_images:
                yield f.finding(
                    label.data, 'NPA013', ERROR,
                    f'{label.where()} uses cloud-image {image}, which '
                    f'provider {p.name} does not define under '
                    f'cloud-images; Nodepool refuses the config',
                    key='cloud-image')


@rule('NPA014', ERROR, 'a provider diskimage or pool label diskimage is '
      'missing from the top-level diskimages')
def diskimage_not_top_level(configset, context):
    for f in configset.nodepool:
        known = f.diskimage_names
        for p in f.providers:
            if not p.is_openstack:
                continue
            for image in p.diskimage_list:
                if image['name'] not in known:
                    yield f.finding(
                        image, 'NPA014', ERROR,
                        f'provider {p.name} lists diskimage '
                        f'{image["name"]}, which is not in the top-level '
                        f'diskimages', key='name')
            for label in p.pool_labels:
                image = label.diskimage
                if isinstance(image, str) and image not in known:
                    yield f.finding(
                        label.data, 'NPA014', ERROR,
                        f'{label.where()} boots diskimage {image}, which '
                        f'is not in the top-level diskimages; the '
                        f'launcher fails to load this config',
                        key='diskimage')


@rule('NPA015', ERROR, 'a launcher boots a diskimage in a provider that '
      'no builder of the config set uploads it to')
def diskimage_not_uploaded(configset, context):
    builders = configset.builders
    if not builders:
        return  # images may come from elsewhere; nothing to compare
    for f in configset.launchers:
        for p in f.providers:
            if not p.is_openstack:
                continue
            for image in _used_images(p):
                building = [b for b in builders if b.builds(image)]
                if not building:
                    yield f.finding(
                        p.diskimages[image], 'NPA015', ERROR,
                        f'provider {p.name} boots diskimage {image}, but '
                        f'no builder in this config set builds it',
                        key='name')
                elif not any(_uploads(b, p.name, image) for b in building):
                    names = ', '.join(b.name for b in building)
                    yield f.finding(
                        p.diskimages[image], 'NPA015', ERROR,
                        f'provider {p.name} boots diskimage {image}, but '
                        f'its builder ({names}) has no provider '
                        f'{p.name} uploading it; nodes cannot launch',
                        key='name')


def _used_images(provider):
    used = {label.diskimage for pool in provider.pools if pool.enabled
            for label in pool.labels}
    return [name for name in provider.diskimages if name in used]


def _uploads(builder, provider, image):
    return any(p.name == provider and image in p.diskimages
               for p in builder.providers)
