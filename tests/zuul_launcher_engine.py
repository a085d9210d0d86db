"""Zuul 14.3's own zuul-launcher parsers and flattenConfig, as an oracle.

Loads image, flavor, label, section and provider stanzas with Zuul's
parser classes and builds a provider with ``ProviderConfig.flattenConfig``
over a layout that holds just those objects; the connection carries the
real driver.  Nothing else of a scheduler is needed.
"""

import copy
import types

from zuul import configloader
from zuul import model
from zuul.driver.openstack import OpenstackDriver
from zuul.driver.static import StaticDriver

DRIVERS = {'openstack': OpenstackDriver, 'static': StaticDriver}
# What flattenConfig adds for the launcher's own bookkeeping.
INTERNAL = ('config_hash', 'zuul_config_hash', 'project_canonical_name',
            'branch', 'min-ready', 'max-nodes')


def _marked(body):
    conf = copy.deepcopy(dict(body))
    conf['_source_context'] = model.SourceContext(
        'example.org/site', 'site', 'example.org', 'master',
        'zuul.d/x.yaml')
    mark = types.SimpleNamespace(name='x.yaml', line=0, column=0, index=0)
    conf['_start_mark'] = model.ZuulMark(mark, mark, '')
    return conf


def load(stanzas):
    """A layout of the stanzas ([{kind: body}]); raises what Zuul raises."""
    pcontext = types.SimpleNamespace()
    layout = types.SimpleNamespace(images={}, flavors={}, labels={},
                                   sections={}, providers={})
    parsers = {
        'image': (configloader.ImageParser, layout.images),
        'flavor': (configloader.FlavorParser, layout.flavors),
        'label': (configloader.LabelParser, layout.labels),
        'section': (configloader.SectionParser, layout.sections),
        'provider': (configloader.ProviderParser, layout.providers),
    }
    for stanza in stanzas:
        (kind, body), = stanza.items()
        parser, into = parsers[kind]
        obj = parser(pcontext).fromYaml(_marked(body))
        into[obj.name] = obj
    return layout


def flatten(stanzas, provider, driver='openstack'):
    """Zuul's effective config of one provider, without its bookkeeping."""
    layout = load(stanzas)
    connections = {s.connection: types.SimpleNamespace(
        driver=DRIVERS[driver]()) for s in layout.sections.values()
        if s.connection}
    config = layout.providers[provider].flattenConfig(layout, connections)
    for key in ('images', 'flavors', 'labels'):
        for entry in config.get(key, []):
            for internal in INTERNAL:
                entry.pop(internal, None)
    return config
