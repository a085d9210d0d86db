"""zuul-launcher objects: every name resolves, every label can boot.

Zuul's parser checks each stanza alone; a label whose flavor no section
configures, or a section listing an image nobody defined, loads fine and
fails when a node is requested.
"""

from nodepool_aarch64.check.launcherobjects import entry_name
from nodepool_aarch64.check.rules import ERROR, rule


@rule('NPA070', ERROR, 'a zuul-launcher label names an image or flavor '
      'that no stanza defines')
def label_refs(configset, context):
    objects = configset.zuul_launcher
    for label in objects.defs['label'].values():
        for key in ('image', 'flavor'):
            name = label.body.get(key)
            if isinstance(name, str) and name not in objects.defs[key]:
                yield label.source.finding(
                    label.body, 'NPA070', ERROR,
                    f'zuul-launcher label {label.name} uses {key} {name}, '
                    f'which no {key} stanza defines', key=key)


@rule('NPA071', ERROR, 'a zuul-launcher provider or section names a '
      'section, parent, label, image or flavor that is not defined')
def section_refs(configset, context):
    objects = configset.zuul_launcher
    stanzas = list(objects.defs['section'].values()) + objects.providers
    for stanza in stanzas:
        link = 'section' if stanza.kind == 'provider' else 'parent'
        target = stanza.body.get(link)
        if isinstance(target, str) and target not in objects.defs['section']:
            yield stanza.source.finding(
                stanza.body, 'NPA071', ERROR,
                f'{stanza.kind} {stanza.name} names {link} {target}, which '
                f'no section stanza defines', key=link)
        for key in ('labels', 'images', 'flavors'):
            kind = key[:-1]
            entries = stanza.body.get(key)
            for entry in entries if isinstance(entries, list) else []:
                name = entry_name(entry)
                if name is not None and name not in objects.defs[kind]:
                    node = entry if isinstance(entry, dict) else stanza.body
                    yield stanza.source.finding(
                        node, 'NPA071', ERROR,
                        f'{stanza.kind} {stanza.name} lists {kind} {name}, '
                        f'which no {kind} stanza defines',
                        key='name' if isinstance(entry, dict) else key)


@rule('NPA072', ERROR, 'a zuul-launcher provider offers a label whose '
      'image or flavor its sections do not configure')
def label_bootable(configset, context):
    objects = configset.zuul_launcher
    for provider in objects.providers:
        labels = objects.offered(provider, 'labels')
        for key in ('image', 'flavor'):
            offered = objects.offered(provider, key + 's')
            for name, (stanza, entry) in sorted(labels.items()):
                label = objects.defs['label'].get(name)
                needed = label.body.get(key) if label else None
                if isinstance(needed, str) and needed not in offered:
                    node = entry if isinstance(entry, dict) else stanza.body
                    yield stanza.source.finding(
                        node, 'NPA072', ERROR,
                        f'provider {provider.name} offers label {name}, '
                        f'but no section of it configures its {key} '
                        f'{needed}; the label cannot boot there',
                        key='name' if isinstance(entry, dict) else None)
