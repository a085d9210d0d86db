"""zuul-launcher objects: every name resolves, every label can boot.

Zuul's parser checks each stanza alone; a label whose flavor no section
configures, or a section listing an image nobody defined, loads fine and
fails when a node is requested.
"""

from nodepool_aarch64.check.zuul_launcher_objects import entry_name
from nodepool_aarch64.check.rules import ERROR, WARNING, rule


@rule('NPA070', ERROR, 'a zuul-launcher label names an image, flavor or '
      'alias that no stanza defines')
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
        aliases = label.body.get('aliases')
        for alias in aliases if isinstance(aliases, list) else [aliases]:
            if isinstance(alias, str) and \
                    alias not in objects.defs['label']:
                yield label.source.finding(
                    label.body, 'NPA070', ERROR,
                    f'zuul-launcher label {label.name} has alias {alias}, '
                    'which no label stanza defines', key='aliases')


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
    """Judged on the provider Zuul builds: a section's or provider's
    label entry may override the label's image or flavor, and that is
    what boots.  A name no stanza defines is NPA070's or NPA071's, and
    fixing that one cause is what makes the label bootable."""
    objects = configset.zuul_launcher
    for provider in objects.effective():
        for key in ('image', 'flavor'):
            offered = provider.entries(key + 's')
            if _lists_undefined(objects, provider, key):
                continue
            for name, item in sorted(provider.labels.items()):
                if name not in objects.defs['label']:
                    continue
                needed = item.config.get(key)
                if not isinstance(needed, str) or needed in offered or \
                        needed not in objects.defs[key]:
                    continue
                node = item.node
                yield item.stanza.source.finding(
                    node, 'NPA072', ERROR,
                    f'provider {provider.name} offers label {name}, '
                    f'but no section of it configures its {key} '
                    f'{needed}; the label cannot boot there',
                    key='name' if node is not item.stanza.body else None)


def _lists_undefined(objects, provider, key):
    """Whether the provider's chain lists a {key} nobody defines, or
    lists them in a shape Zuul refuses: the cause to fix first."""
    for stanza in provider.path:
        entries = stanza.body.get(key + 's')
        if entries is not None and not isinstance(entries, list):
            return True
        for entry in entries or []:
            name = entry_name(entry)
            if name is not None and name not in objects.defs[key]:
                return True
    return False


@rule('NPA074', WARNING, 'a zuul-launcher image of type zuul that no job '
      'of the set builds (no job has its image-build-name; judged when '
      'the set has image-build jobs)')
def image_build_job(configset, context):
    """zuul-launcher uploads only what an image-build job returns, and
    Zuul lets only the project that defines the image attach its build
    job: with none in the set, no provider ever gets the image."""
    built = set()
    for f in configset.zuul:
        for body in f.bodies('job'):
            name = body.get('image-build-name')
            if isinstance(name, str):
                built.add(name)
    if not built:
        # The site's image-build jobs are not in the set (a render of
        # the objects alone, or their jobs live elsewhere): nothing to
        # judge by.
        return
    for image in configset.zuul_launcher.defs['image'].values():
        if image.body.get('type') == 'zuul' and image.name not in built:
            yield image.source.finding(
                image.body, 'NPA074', WARNING,
                f'zuul-launcher image {image.name} is type zuul, but no '
                'job in the set has image-build-name: '
                f'{image.name}; nothing builds it, so no provider gets it',
                key='type')
