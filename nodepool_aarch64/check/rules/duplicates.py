"""Things said twice: YAML keys, names in one list, providers."""

from nodepool_aarch64.check.rules import ERROR, WARNING, rule

# Zuul objects whose names must be unique in a tenant (jobs are not:
# a second job stanza with the same name is a variant).
_UNIQUE_ZUUL = ('nodeset', 'secret', 'semaphore', 'pipeline', 'image',
                'flavor', 'label', 'section', 'provider', 'queue')


@rule('NPA002', ERROR, 'a mapping repeats a key; YAML silently keeps '
      'only the last value')
def duplicate_keys(configset, context):
    for source in configset.sources:
        for dup in source.duplicates:
            dropped = dup.dropped_text()
            if dropped:
                what = f'drops {dropped}'
            elif dup.dropped in (None, '', [], {}):
                what = 'drops the first, which is empty'
            else:
                what = 'drops everything under the first'
            yield source.finding_at(
                dup.line, dup.key, 'NPA002', ERROR,
                f'key {dup.key!r} repeated (first at line '
                f'{dup.first_line}); YAML keeps only this one and {what}')


def _repeats(items):
    """(item, first item) for each entry whose name was seen before."""
    seen = {}
    for item in items:
        name = item.get('name')
        if not isinstance(name, str):
            continue  # a schema error, reported by NPA001
        if name in seen:
            yield item, seen[name]
        else:
            seen[name] = item


@rule('NPA003', ERROR, 'a name is defined twice (label, diskimage, '
      'provider, pool, pool label, nodeset, ...)')
def duplicate_names(configset, context):
    for f in configset.nodepool:
        # (what, owner, items); owner names the provider for lists that
        # an anchor may share between providers.
        lists = [('label', None, f.labels), ('diskimage', None, f.diskimages),
                 ('provider', None, [p.data for p in f.providers])]
        for p in f.providers:
            lists += [('pool of provider', p.name,
                       [pool.data for pool in p.pools]),
                      ('diskimage of provider', p.name, p.diskimage_list),
                      ('cloud-image of provider', p.name,
                       list(_cloud_image_items(p)))]
            for pool in p.pools:
                lists.append((f'label of pool {pool.name} in provider',
                              p.name, [x.data for x in pool.labels]))
        # One anchored list shared by several providers is one mistake,
        # written once: one finding naming every provider.
        repeats = {}
        for what, owner, items in lists:
            for item, first in _repeats(items):
                entry = repeats.setdefault((what, id(item)),
                                           (item, first, []))
                if owner is not None and owner not in entry[2]:
                    entry[2].append(owner)
        for (what, _), (item, first, owners) in repeats.items():
            if owners:
                plural = 's' if len(owners) > 1 else ''
                what = f'{what}{plural} {", ".join(owners)}'
            yield f.finding(item, 'NPA003', ERROR,
                            f'{what} {item.get("name")!r} defined '
                            f'twice (first at line {first.line})',
                            key='name')
    for stanza in _UNIQUE_ZUUL:
        seen = {}
        for f in configset.zuul:
            for body in f.bodies(stanza):
                name = body.get('name')
                if not isinstance(name, str):
                    continue
                if name in seen:
                    first_file, first = seen[name]
                    yield f.finding(body, 'NPA003', ERROR,
                                    f'{stanza} {name!r} defined twice '
                                    f'(first at {first_file.path}:'
                                    f'{first.line})', key='name')
                else:
                    seen[name] = (f, body)


def _cloud_image_items(provider):
    items = provider.data.get('cloud-images')
    return [x for x in items or [] if isinstance(x, dict)] \
        if isinstance(items, list) else []


def _caps(provider):
    return sorted((str(pool.name), str(pool.max_servers))
                  for pool in provider.pools)


@rule('NPA004', WARNING, 'the same provider has other pools, or other '
      'max-servers, in another launcher; each launcher applies its own '
      'max-servers to one cloud')
def provider_in_two_launchers(configset, context):
    # The same pools with the same max-servers in several launchers is
    # how a provider outlives a launcher host: Nodepool counts a pool's
    # nodes in ZooKeeper whichever launcher made them.
    first = {}
    for f in configset.launchers:
        for p in f.providers:
            if not p.pools:
                continue
            other = first.get(p.name)
            if other is not None and other.source is not f and \
                    _caps(other) != _caps(p):
                yield f.finding(p.data, 'NPA004', WARNING,
                                f'provider {p.name} also has pools in '
                                f'{other.source.path}:{other.data.line} '
                                f'with other names or max-servers; both '
                                f'launchers will fill the same quota',
                                key='name')
            first.setdefault(p.name, p)


@rule('NPA005', ERROR, 'the same provider has a different cloud or '
      'region-name in a launcher and a builder: images upload to one '
      'region, nodes launch in another')
def provider_region_differs(configset, context):
    uploads = {}
    for f in configset.builders:
        for p in f.providers:
            if p.diskimage_list:
                uploads.setdefault(p.name, p)
    for f in configset.launchers:
        for p in f.providers:
            built = uploads.get(p.name)
            if not p.pools or built is None or built.source is f:
                continue
            for key, here, there in (('cloud', p.cloud, built.cloud),
                                     ('region-name', p.region,
                                      built.region)):
                if here is not None and there is not None and \
                        here != there:
                    yield f.finding(
                        p.data, 'NPA005', ERROR,
                        f'provider {p.name} has {key} {here} here but '
                        f'{there} in builder {built.source.path}:'
                        f'{built.data.line}; images are uploaded to '
                        f'{there} and nodes launched in {here}, where '
                        f'the images are missing', key=key)
