"""Read Nodepool and Zuul files into one graph, with positions.

Files are told apart by content, not by name: a Nodepool config is one
mapping with Nodepool's top-level keys, a Zuul config is one list of
single-key stanzas.  Every graph node keeps the YAML mapping it came from,
so a rule can point at the file, line and column of what it reports.
Anchors and aliases need no special care: an aliased mapping is the same
object wherever it is used, and its position is where it was written.
"""

import os
import re

from nodepool_aarch64.engines import nodepool
from nodepool_aarch64.errors import InputError
from nodepool_aarch64.formats import findings
from nodepool_aarch64.formats import yamlutil

# Top-level diskimage keys that only make sense where the image is built:
# a launcher's file names its images and nothing more.
BUILD_KEYS = frozenset(('elements', 'dib-cmd', 'parent', 'env-vars'))
# What Zuul reads from a project (zuul.configloader.ZuulSafeLoader's
# zuul_node_types) and the tenant config's "tenant".  Zuul is not a
# requirement at run time, so this copy is pinned by a test instead.
ZUUL_STANZAS = frozenset((
    'job', 'nodeset', 'project', 'project-template', 'pipeline', 'secret',
    'semaphore', 'queue', 'pragma', 'tenant', 'image', 'flavor', 'label',
    'section', 'provider'))


def built_here(entry):
    """Whether a top-level diskimage entry is built by the file it is in.

    The one answer to the question: a builder is a file that builds an
    image, and a rule asking who builds an image asks the same thing.
    """
    return isinstance(entry, dict) and bool(BUILD_KEYS & set(entry))


def _items(value):
    """The mapping items of a list; anything else (schema errors) is
    Nodepool's validator's to report, not the graph's to crash on."""
    if not isinstance(value, list):
        return []
    return [x for x in value if isinstance(x, dict)]


def _list(value):
    return value if isinstance(value, list) else []


def _name(value):
    name = value.get('name') if isinstance(value, dict) else None
    return name if isinstance(name, str) else None


def _str(value):
    return value if isinstance(value, str) else None


def _int(value, default=None):
    return value if isinstance(value, int) and \
        not isinstance(value, bool) else default


class Source:
    """One YAML file and the means to turn its nodes into positions."""

    kind = None

    def __init__(self, path, text, data, duplicates):
        self.path = path
        self.lines = text.splitlines()
        self.data = data
        self.duplicates = duplicates

    def position(self, node, key=None):
        """(line, column) of a mapping, or of one of its keys."""
        line = None
        if key is not None and isinstance(node, yamlutil.Mapping):
            line = node.line_of(key)
        if line is None:
            line = getattr(node, 'line', None) or 1
        return line, self.column(line, key)

    def column(self, line, key=None):
        text = self.lines[line - 1] if 0 < line <= len(self.lines) else ''
        if key is not None:
            match = re.search(r'(?<![\w-])["\']?%s["\']?\s*:'
                              % re.escape(str(key)), text)
            if match:
                return match.start() + 1
        match = re.match(r'[\s-]*', text)
        return (match.end() if match else 0) + 1

    def finding(self, node, code, severity, message, key=None):
        line, col = self.position(node, key)
        return findings.Finding(self.path, line, col, code, severity,
                                message)

    def finding_at(self, line, key, code, severity, message):
        return findings.Finding(self.path, line, self.column(line, key),
                                code, severity, message)


class PoolLabel:
    def __init__(self, pool, data, name=None):
        self.pool = pool
        self.data = data
        self.name = name or _name(data)
        # Values of the wrong type are NPA001's to report; to the graph
        # they are absent.
        self.diskimage = _str(data.get('diskimage'))
        self.cloud_image = _str(data.get('cloud-image'))
        self.flavor_name = _str(data.get('flavor-name'))
        self.min_ram = _int(data.get('min-ram'))

    @property
    def provider(self):
        return self.pool.provider

    @property
    def source(self):
        return self.pool.provider.source

    def where(self):
        return (f'provider {self.provider.name} pool {self.pool.name} '
                f'label {self.name}')


class Pool:
    def __init__(self, provider, data):
        self.provider = provider
        self.data = data
        self.name = _name(data)
        self.max_servers = _int(data.get('max-servers'))
        self.labels = [PoolLabel(self, x) for x in _items(data.get('labels'))
                       if _name(x)]
        # The static driver lists hosts, each with its labels.
        for node in _items(data.get('nodes')):
            names = node.get('labels')
            for name in names if isinstance(names, list) else [names]:
                if isinstance(name, str):
                    self.labels.append(PoolLabel(self, node, name))

    @property
    def enabled(self):
        """max-servers: 0 is how sites switch a pool off; Nodepool then
        declines every request it gets."""
        return self.max_servers != 0


class Provider:
    def __init__(self, source, data):
        self.source = source
        self.data = data
        self.name = _name(data)
        self.driver = nodepool.provider_driver(data)
        self.cloud = _str(data.get('cloud'))
        self.region = _str(data.get('region-name'))
        self.diskimage_list = [x for x in _items(data.get('diskimages'))
                               if _name(x)]
        self.diskimages = {_name(x): x for x in self.diskimage_list}
        self.cloud_images = {_name(x): x
                             for x in _items(data.get('cloud-images'))
                             if _name(x)}
        self.pools = [Pool(self, x) for x in _items(data.get('pools'))]
        self.boot_timeout = _int(data.get('boot-timeout'),
                                 nodepool.DEFAULT_BOOT_TIMEOUT)
        self.launch_timeout = _int(data.get('launch-timeout'),
                                   nodepool.DEFAULT_LAUNCH_TIMEOUT)
        self.launch_retries = _int(data.get('launch-retries'),
                                   nodepool.DEFAULT_LAUNCH_RETRIES)

    @property
    def is_openstack(self):
        return self.driver in ('openstack', 'fake')

    @property
    def enabled(self):
        """Whether any pool of the provider serves: a cloud being retired
        keeps its provider with every pool at max-servers: 0."""
        return any(pool.enabled for pool in self.pools)

    @property
    def pool_labels(self):
        return [label for pool in self.pools for label in pool.labels]


class NodepoolFile(Source):
    kind = 'nodepool'

    def __init__(self, path, text, data, duplicates):
        super().__init__(path, text, data, duplicates)
        self.name = os.path.basename(path)
        for suffix in ('.yaml', '.yml'):
            if self.name.endswith(suffix):
                self.name = self.name[:-len(suffix)]
        self.labels = [x for x in _items(data.get('labels')) if _name(x)]
        self.diskimages = [x for x in _items(data.get('diskimages'))
                           if _name(x)]
        # The first entry of a name wins, as a linear search found it.
        self._diskimage_index = {}
        for x in reversed(self.diskimages):
            self._diskimage_index[_name(x)] = x
        self.providers = [Provider(self, x)
                          for x in _items(data.get('providers'))
                          if _name(x)]

    @property
    def label_names(self):
        return {_name(x) for x in self.labels}

    @property
    def diskimage_names(self):
        return {_name(x) for x in self.diskimages}

    def diskimage(self, name):
        try:
            return self._diskimage_index.get(name)
        except TypeError:  # an unhashable name from a broken file
            return None

    def builds(self, name):
        """Whether this file builds the diskimage ``name``."""
        return built_here(self.diskimage(name))

    @property
    def is_launcher(self):
        """A launcher is what has pools: that is what nodepool-launcher
        reads; a builder only reads diskimages and providers."""
        return any(p.pools for p in self.providers)

    @property
    def is_builder(self):
        return any(built_here(d) for d in self.diskimages)

    def all_pool_labels(self, openstack=False):
        """Every pool label of the file; with ``openstack``, only those of
        providers that boot images Nodepool manages (a static or
        Kubernetes provider has no diskimages to check)."""
        return [label for p in self.providers
                if p.is_openstack or not openstack
                for label in p.pool_labels]

    @property
    def served_pool_labels(self):
        return [label for p in self.providers for pool in p.pools
                if pool.enabled for label in pool.labels]

    @property
    def served_labels(self):
        return {label.name for label in self.served_pool_labels}


class NodeRef:
    """A node a Zuul nodeset asks for: the label a launcher must serve."""

    def __init__(self, source, data, label, owner):
        self.source = source
        self.data = data
        self.label = label
        self.owner = owner  # e.g. "nodeset ubuntu-bionic-arm64"


class ZuulFile(Source):
    kind = 'zuul'

    def __init__(self, path, text, data, duplicates):
        super().__init__(path, text, data, duplicates)
        self.stanzas = []
        for item in data:
            (stanza, body), = item.items()
            self.stanzas.append((stanza, body, item))

    def bodies(self, stanza):
        return [body for kind, body, _ in self.stanzas
                if kind == stanza and isinstance(body, dict)]

    def job_bodies(self):
        """(owner, job body) for job stanzas and project pipeline jobs."""
        for body in self.bodies('job'):
            yield f'job {_name(body)}', body
        for stanza in ('project', 'project-template'):
            for project in self.bodies(stanza):
                name = _name(project) or stanza
                for pipeline, config in project.items():
                    if not isinstance(config, dict):
                        continue
                    for job in _list(config.get('jobs')):
                        if isinstance(job, dict) and len(job) == 1:
                            (job_name, body), = job.items()
                            if isinstance(body, dict):
                                yield (f'{stanza} {name} {pipeline} job '
                                       f'{job_name}', body)

    def node_refs(self):
        refs = []
        for body in self.bodies('nodeset'):
            refs += self._nodeset_refs(body, f'nodeset {_name(body)}')
        for owner, body in self.job_bodies():
            refs += self._nodeset_refs(body.get('nodeset'), owner)
        return refs

    def nodeset_names(self):
        """(name, node) for each nodeset a job asks for by name."""
        found = []
        for _, body in self.job_bodies():
            nodeset = body.get('nodeset')
            if isinstance(nodeset, str):
                found.append((nodeset, body))
            elif isinstance(nodeset, dict):
                found += [(x, nodeset)
                          for x in _list(nodeset.get('alternatives'))
                          if isinstance(x, str)]
        return found

    def _nodeset_refs(self, nodeset, owner):
        refs = []
        if not isinstance(nodeset, dict):
            return refs  # a nodeset name: resolved where it is defined
        nodes = nodeset.get('nodes', [])
        if isinstance(nodes, dict):
            nodes = [nodes]
        for node in _items(nodes):
            labels = node.get('label')
            for label in labels if isinstance(labels, list) else [labels]:
                if isinstance(label, str):
                    refs.append(NodeRef(self, node, label, owner))
        for alternative in _list(nodeset.get('alternatives')):
            refs += self._nodeset_refs(alternative, owner)
        return refs


class ConfigSet:
    """The files read, by kind, and what they hold.

    The checker's graph (``check.configset``) adds what rules derive from
    the whole set; a reader that only needs the files (readiness reading
    a project's zuul.d) takes this one.
    """

    def __init__(self):
        self.nodepool = []
        self.zuul = []
        self.notes = []
        self._defining = None

    @property
    def sources(self):
        return self.nodepool + self.zuul

    @property
    def launchers(self):
        return [f for f in self.nodepool if f.is_launcher]

    @property
    def builders(self):
        return [f for f in self.nodepool if f.is_builder]

    @property
    def providers(self):
        return [p for f in self.nodepool for p in f.providers]

    @property
    def pool_labels(self):
        return [label for p in self.providers for label in p.pool_labels]

    def files_defining(self, diskimage):
        """The Nodepool files with a top-level diskimage of that name.

        Indexed once: rules ask this for every label of every file, and
        a scan of every file per question is quadratic in the set.
        """
        if self._defining is None:
            self._defining = {}
            for f in self.nodepool:
                for name in f.diskimage_names:
                    self._defining.setdefault(name, []).append(f)
        try:
            return self._defining.get(diskimage, [])
        except TypeError:
            return []

    def node_refs(self):
        return [ref for f in self.zuul for ref in f.node_refs()]


def classify(data):
    """'nodepool', 'zuul' or None for a loaded document."""
    if isinstance(data, dict) and nodepool.TOP_LEVEL_KEYS & set(data):
        return 'nodepool'
    if isinstance(data, list) and data and all(
            isinstance(x, dict) and len(x) == 1 and
            next(iter(x)) in ZUUL_STANZAS for x in data):
        return 'zuul'
    return None


def _walk(directory):
    for root, dirs, files in os.walk(directory):
        dirs[:] = sorted(d for d in dirs if d not in ('.git', '.tox'))
        for name in sorted(files):
            if name.endswith('.yaml') or name.endswith('.yml'):
                yield os.path.join(root, name)


def load(paths, configset=None):
    """Read PATHs (files or directories) into ``configset`` (a new
    ConfigSet by default) and return it.

    A file named on the command line must be a Nodepool or Zuul config;
    files found by walking a directory that are neither (a clouds.yaml,
    a playbook) are skipped with a note.  Unreadable or hostile YAML is
    unusable input wherever it was found.
    """
    configset = ConfigSet() if configset is None else configset
    seen = set()
    for path in paths:
        if os.path.isdir(path):
            candidates = [(p, False) for p in _walk(path)]
        elif os.path.exists(path):
            candidates = [(path, True)]
        else:
            raise InputError(path, None, '', 'no such file or directory')
        for candidate, explicit in candidates:
            real = os.path.realpath(candidate)
            if real in seen:
                continue
            seen.add(real)
            _load_file(configset, candidate, explicit)
    if not configset.sources:
        raise InputError(' '.join(paths), None, '',
                         'no Nodepool or Zuul config files found')
    return configset


def _zuul_config_path(path):
    """Whether Zuul reads the file as config: zuul.yaml, zuul.d/ and
    their dotted forms."""
    parts = os.path.normpath(path).split(os.sep)
    return parts[-1] in ('zuul.yaml', '.zuul.yaml') or \
        any(p in ('zuul.d', '.zuul.d') for p in parts[:-1])


def _load_file(configset, path, explicit):
    if not os.path.isfile(path):
        # A device or FIFO (or a link to one) never ends or never
        # answers: /dev/zero reports size 0 and reads forever.
        if explicit:
            raise InputError(path, None, '', 'not a regular file')
        configset.notes.append(f'{path}: not a regular file, skipped')
        return
    text = yamlutil.read_text(path)
    try:
        documents, duplicates = yamlutil.load_documents(path, text)
    except yamlutil.ForeignTag as e:
        # Zuul reads zuul.d/ and .zuul.yaml and refuses such a tag there;
        # anywhere else a walk finds Ansible's !vault or JJB's
        # !include-raw:, files of another application.
        if explicit or _zuul_config_path(path):
            raise
        configset.notes.append(f'{path}: YAML tag {e.tag} of another '
                               'application, not Nodepool or Zuul config; '
                               'skipped')
        return
    if not documents:
        configset.notes.append(f'{path}: empty, skipped')
        return
    kind = classify(documents[0]) if len(documents) == 1 else None
    if kind == 'nodepool':
        configset.nodepool.append(
            NodepoolFile(path, text, documents[0], duplicates))
    elif kind == 'zuul':
        configset.zuul.append(ZuulFile(path, text, documents[0], duplicates))
    elif explicit:
        line = getattr(documents[0], 'line', None) or 1
        raise InputError(path, line, '',
                         'expected a Nodepool config (a mapping with '
                         'providers, labels or diskimages) or a Zuul '
                         'config (a list of single-key stanzas)')
    else:
        configset.notes.append(
            f'{path}: neither Nodepool nor Zuul config, skipped')
