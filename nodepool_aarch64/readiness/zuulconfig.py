"""What a project's zuul.d says about a job: its stage, timeout, nodes.

Files are read by the one reader of Zuul config
(``formats.configset``), the checker's too, so a zuul.d or a
``.zuul.yaml`` is parsed once, the same way, with lines.

A job's stage is where a project runs it: ``experimental``,
``check-arm64`` (the non-voting pipeline, or non-voting in check), or
``gate``.  Projects usually reach a stage through a project-template
(``kolla-aarch64-check-arm64``), so moving on is one changed template
name; the change printed is that name, at the line that holds it when
the project stanza is among the files read.
"""

from nodepool_aarch64.formats import configset

STAGES = ('experimental', 'check-arm64', 'gate')
UNKNOWN = 'unknown'


def stage_rank(stage):
    return STAGES.index(stage) if stage in STAGES else -1


def pipeline_stage(pipeline, voting=True):
    """The stage a job listed in ``pipeline`` is at."""
    if pipeline == 'experimental':
        return 'experimental'
    if pipeline == 'check-arm64' or (pipeline == 'check' and not voting):
        return 'check-arm64'
    if pipeline in ('check', 'gate'):
        return 'gate'
    return None


class ZuulConfig:
    """Jobs, nodesets and project pipelines from Zuul config files."""

    def __init__(self, paths):
        loaded = configset.load(paths)
        self.jobs = {}        # name -> [job body, ...] (variants)
        self.nodesets = {}    # name -> [label, ...]
        self.templates = {}   # name -> {job: stage}
        self.projects = []    # (source, project body)
        for f in loaded.zuul:
            for kind, body, _ in f.stanzas:
                if not isinstance(body, dict):
                    continue
                name = body.get('name')
                if kind == 'job' and isinstance(name, str):
                    self.jobs.setdefault(name, []).append(body)
                elif kind == 'nodeset' and isinstance(name, str):
                    self.nodesets[name] = _labels(body)
                elif kind == 'project-template' and isinstance(name, str):
                    self.templates[name] = _stages(body)
                elif kind == 'project':
                    self.projects.append((f, body))

    def _variant(self, job):
        variants = self.jobs.get(job) or []
        # The variant without a branch matcher is the one master runs.
        plain = [v for v in variants if 'branches' not in v]
        return (plain or variants or [None])[0]

    def attribute(self, job, key):
        """A job attribute, inherited through parents as Zuul does."""
        seen = set()
        # Hand-written config may hold anything; a parent that is not a
        # name ends the walk instead of the run.
        while isinstance(job, str) and job not in seen:
            seen.add(job)
            body = self._variant(job)
            if body is None:
                return None
            if key in body:
                return body[key]
            job = body.get('parent', 'base')
        return None

    def timeout(self, job):
        value = self.attribute(job, 'timeout')
        return value if isinstance(value, int) else None

    def labels(self, job):
        nodeset = self.attribute(job, 'nodeset')
        if isinstance(nodeset, dict):
            return _labels(nodeset)
        if isinstance(nodeset, str):
            return self.nodesets.get(nodeset, [nodeset])
        return []

    def stage(self, job):
        """(stage, where) from the project stanzas read, or (None, None).

        ``where`` is (source, line, template or None).
        """
        best = (None, None)
        for source, project in self.projects:
            templates = project.get('templates')
            if not isinstance(templates, list):
                templates = []
            for i, template in enumerate(templates):
                if not isinstance(template, str):
                    continue
                stage = self.templates.get(template, {}).get(job)
                if stage_rank(stage) > stage_rank(best[0]):
                    best = (stage, (source, templates.line_of(i),
                                    template))
            direct = _stages(project).get(job)
            if stage_rank(direct) > stage_rank(best[0]):
                best = (direct, (source, project.line, None))
        return best

    def template_for(self, job, stage, like=None):
        """The template that runs ``job`` at ``stage``; with ``like``, the
        one sharing most jobs with that template (its sibling)."""
        siblings = set(self.templates.get(like, {}))
        found = [(len(siblings & set(jobs)), name)
                 for name, jobs in self.templates.items()
                 if jobs.get(job) == stage]
        return max(found)[1] if found else None


def _labels(nodeset):
    nodes = nodeset.get('nodes') or []
    if isinstance(nodes, dict):
        nodes = [nodes]
    out = []
    for node in nodes:
        if isinstance(node, dict):
            label = node.get('label')
            out += label if isinstance(label, list) else [label]
    return [label for label in out if isinstance(label, str)]


def _stages(body):
    """{job: highest stage} for the pipelines of a project or template."""
    out = {}
    for pipeline, config in body.items():
        if not isinstance(config, dict):
            continue
        for entry in config.get('jobs') or []:
            voting = True
            if isinstance(entry, dict) and len(entry) == 1:
                (name, attrs), = entry.items()
                if isinstance(attrs, dict):
                    voting = attrs.get('voting', True) is not False
            else:
                name = entry
            stage = pipeline_stage(pipeline, voting)
            if isinstance(name, str) and stage and \
                    stage_rank(stage) > stage_rank(out.get(name)):
                out[name] = stage
    return out


def change_line(config, job, current, target, where):
    """The one-line change that moves ``job`` from ``current`` to
    ``target``, or None when there is nothing to change."""
    if current == target or target == UNKNOWN:
        return None
    if where is not None and where[2] is not None:
        source, line, template = where
        new = config.template_for(job, target, like=template)
        if new:
            return f'{source.path}:{line}: templates: {template} -> {new}'
    old = config.template_for(job, current) if current in STAGES else None
    new = config.template_for(job, target, like=old)
    if old and new:
        return (f"in the project's templates: {old} -> {new}")
    if where is not None:
        source, line, _ = where
        return (f'{source.path}:{line}: move {job} from its {current} '
                f'pipeline to {target}')
    return None
