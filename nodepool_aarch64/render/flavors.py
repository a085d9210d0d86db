"""Every flavor a provider boots must be mapped to the cloud's name."""

from nodepool_aarch64.errors import InputError
from nodepool_aarch64.formats import yamlutil


def unmapped(inv):
    """(provider, label) pairs whose flavor the provider does not map.

    A provider names its cloud's flavors under ``flavors:``; falling back
    to the logical name writes a flavor-name the cloud may not have, and
    nodes that never launch.  Mapping a flavor to its own name says the
    cloud calls it that.
    """
    return [(p, label) for p in inv.providers
            for label in inv.labels_for(p)
            if label.flavor not in p.flavor_names]


def refuse_unmapped(inv):
    """InputError (exit 2) naming provider, label and flavor, if any."""
    missing = unmapped(inv)
    if not missing:
        return
    provider, label = missing[0]
    index = inv.providers.index(provider)
    line = None
    try:
        data, _ = yamlutil.load_single(inv.path)
        line = yamlutil.line_of(data, ('providers', index, 'flavors'))
    except InputError:
        pass  # the inventory loaded once; a line is a courtesy
    raise InputError(
        inv.path, line, f'providers[{index}].flavors',
        f'provider {provider.name} serves label {label.name}, whose flavor '
        f'{label.flavor} has no mapping here; add "{label.flavor}: '
        f'<the cloud\'s flavor name>" (the same name if the cloud calls '
        f'it that)')
