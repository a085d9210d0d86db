"""Mirror facts for the configure-region-mirror role.

Each provider's nodes try, in order: the mirror its inventory entry
declares, then the other regions' mirrors in inventory order, then
``DEFAULT_MIRROR``.  The role looks a node up by Zuul's
``nodepool.provider`` host variable, or by ``nodepool.cloud`` plus
``nodepool.region`` when the provider name is not known (zuul-launcher
names providers differently), so no mirror name is typed twice.
"""

# Any OpenDev mirror serves the same AFS-backed content (Ubuntu ports,
# Debian, PyPI proxy, Arm64 wheels); this one is the last resort when no
# Arm64 region's mirror answers.
DEFAULT_MIRROR = 'https://mirror.dfw.rax.opendev.org'
DEFAULT_SCHEME = 'https'


def mirror_url(mirror):
    """A mirror as the role takes it: a host name gets https://."""
    if '://' in mirror:
        return mirror.rstrip('/')
    return f'{DEFAULT_SCHEME}://{mirror}'.rstrip('/')


def region_mirrors(inv):
    """{provider name: {cloud, region, mirrors}} in inventory order."""
    declared = [(p.name, mirror_url(p.mirror)) for p in inv.providers
                if p.mirror]
    result = {}
    for provider in inv.providers:
        own = [url for name, url in declared if name == provider.name]
        others = [url for name, url in declared if name != provider.name]
        order = []
        for url in own + others + [DEFAULT_MIRROR]:
            if url not in order:
                order.append(url)
        result[provider.name] = {
            'cloud': provider.cloud,
            'region': provider.region,
            'mirrors': order,
        }
    return result
