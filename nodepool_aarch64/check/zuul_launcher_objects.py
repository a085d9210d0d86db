"""zuul-launcher objects (Zuul 14) across every Zuul file of a set.

``image``, ``flavor`` and ``label`` stanzas define things by name;
``section`` stanzas (with ``parent`` chains) and ``provider`` stanzas
(with one ``section``) list which of them a cloud region offers.  A label
is served only when some provider's section chain lists it.
"""

from nodepool_aarch64.check import effective

KINDS = ('image', 'flavor', 'label', 'section', 'provider')


class Stanza:
    def __init__(self, source, kind, body):
        self.source = source
        self.kind = kind
        self.body = body
        self.name = body.get('name') if isinstance(
            body.get('name'), str) else None


def entry_name(entry):
    if isinstance(entry, str):
        return entry
    if isinstance(entry, dict) and isinstance(entry.get('name'), str):
        return entry['name']
    return None


class LauncherObjects:
    def __init__(self, zuul_files):
        self.defs = {kind: {} for kind in KINDS}
        for f in zuul_files:
            for kind in KINDS:
                for body in f.bodies(kind):
                    stanza = Stanza(f, kind, body)
                    if stanza.name:
                        self.defs[kind].setdefault(stanza.name, stanza)
        self._effective = None

    @property
    def providers(self):
        return list(self.defs['provider'].values())

    def effective(self):
        """Each provider as zuul-launcher builds it (effective.Provider);
        providers whose sections do not resolve are left out."""
        if self._effective is None:
            self._effective = [p for p in (effective.flatten(self, x)
                                           for x in self.providers)
                               if p is not None]
        return self._effective

    def chain(self, stanza):
        """The stanza, then its section (for a provider), then parents.

        Names that resolve to nothing end the chain (NPA071 reports them);
        a parent loop ends it too.
        """
        result = [stanza]
        link = 'section' if stanza.kind == 'provider' else 'parent'
        seen = {id(stanza)}
        while True:
            name = result[-1].body.get(link)
            link = 'parent'
            nxt = self.defs['section'].get(name) if isinstance(
                name, str) else None
            if nxt is None or id(nxt) in seen:
                return result
            seen.add(id(nxt))
            result.append(nxt)

    def offered(self, provider, key):
        """Names listed under ``key`` anywhere in a provider's chain."""
        names = {}
        for stanza in self.chain(provider):
            entries = stanza.body.get(key)
            for entry in entries if isinstance(entries, list) else []:
                name = entry_name(entry)
                if name is not None:
                    names.setdefault(name, (stanza, entry))
        return names

    def served_labels(self):
        served = set()
        for provider in self.providers:
            served |= {name for name in self.offered(provider, 'labels')
                       if name in self.defs['label']}
        return served
