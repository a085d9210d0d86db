"""Put a capacity window in force on zuul-launcher: a config change.

zuul-launcher reads its providers from a config project, so a window's
limits reach it as a commit to that project; the scheduler reloads the
tenant when the commit merges and every running launcher follows, with
nothing restarted.  ``apply`` edits a checkout of the config project:

- each inventory provider's ``resource-limits: instances`` (on its
  ``provider`` stanza, or else on the section that stanza names: where
  the renderer puts it) becomes the max-servers in force at the instant;
- each inventory label's ``min-ready`` becomes the value in force.

Only those integers change, in place: the rest of the file (comments,
order, a site's own edits) is kept byte for byte, so the commit's diff
is exactly the capacity change a reviewer needs to see.  An unchanged
file is not touched and nothing is committed.
"""

import dataclasses
import os
import signal

import yaml

from nodepool_aarch64 import children
from nodepool_aarch64 import sizing
from nodepool_aarch64.errors import InputError
from nodepool_aarch64.render.write import atomic_write
from nodepool_aarch64.yamlutil import read_text

UNCHANGED, COMMITTED, WRITTEN = 'unchanged', 'committed', 'written'
_Loader = getattr(yaml, 'CSafeLoader', yaml.SafeLoader)


@dataclasses.dataclass(frozen=True)
class Edit:
    """One integer scalar of the file to set."""
    what: str
    line: int
    old: int
    new: int
    start: int
    end: int

    def __str__(self):
        return f'{self.what}: {self.old} -> {self.new}'


def _mapping_get(node, key):
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            if isinstance(k, yaml.ScalarNode) and k.value == key:
                return v
    return None


def _stanzas(path, text):
    """{kind: {name: mapping node}} of the file's top-level stanzas."""
    try:
        root = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        raise InputError(path, mark.line + 1 if mark else None, '',
                         f'invalid YAML: {e.problem or e.context}')
    if not isinstance(root, yaml.SequenceNode):
        raise InputError(path, None, '', 'expected a list of stanzas')
    found = {}
    for item in root.value:
        if not isinstance(item, yaml.MappingNode) or len(item.value) != 1:
            continue
        kind, body = item.value[0]
        name = _mapping_get(body, 'name')
        if isinstance(name, yaml.ScalarNode):
            found.setdefault(kind.value, {}).setdefault(name.value, body)
    return found


def _int_edit(path, what, node, new):
    if not (isinstance(node, yaml.ScalarNode)
            and node.tag == 'tag:yaml.org,2002:int'):
        raise InputError(path, node.start_mark.line + 1, what,
                         'expected an integer')
    return Edit(what, node.start_mark.line + 1, int(node.value), new,
                node.start_mark.index, node.end_mark.index)


def _limit_node(stanzas, provider_name, path):
    provider = stanzas.get('provider', {}).get(provider_name)
    if provider is None:
        raise InputError(path, None, '', f'no provider stanza named '
                         f'{provider_name} (a provider of the inventory)')
    candidates = [('provider', provider_name, provider)]
    section = _mapping_get(provider, 'section')
    if isinstance(section, yaml.ScalarNode):
        body = stanzas.get('section', {}).get(section.value)
        if body is not None:
            candidates.append(('section', section.value, body))
    for kind, name, body in candidates:
        node = _mapping_get(_mapping_get(body, 'resource-limits'),
                            'instances')
        if node is not None:
            return f'{kind} {name} resource-limits.instances', node
    raise InputError(path, provider.start_mark.line + 1, 'resource-limits',
                     f'provider {provider_name}: neither it nor its '
                     'section sets resource-limits.instances')


def plan(path, text, inv, at):
    """The edits that put the capacity in force at ``at``, in file order."""
    stanzas = _stanzas(path, text)
    edits = []
    for provider in inv.providers:
        what, node = _limit_node(stanzas, provider.name, path)
        servers = sizing.sizing_at(inv, provider, at).max_servers
        edits.append(_int_edit(path, what, node, servers))
    for label in inv.labels:
        body = stanzas.get('label', {}).get(label.name)
        if body is None:
            raise InputError(path, None, '', f'no label stanza named '
                             f'{label.name} (a label of the inventory)')
        want = inv.min_ready_at(label, at)
        node = _mapping_get(body, 'min-ready')
        if node is None:
            if want:
                raise InputError(path, body.start_mark.line + 1,
                                 'min-ready', f'label {label.name} has no '
                                 f'min-ready to set to {want}')
            continue
        edits.append(_int_edit(path, f'label {label.name} min-ready',
                               node, want))
    return sorted((e for e in edits if e.old != e.new),
                  key=lambda e: e.start)


def edited(text, edits):
    for edit in reversed(edits):
        text = text[:edit.start] + str(edit.new) + text[edit.end:]
    return text


def commit_message(at, windows, edits):
    names = ', '.join(windows) or 'none'
    lines = [f'Apply Arm64 capacity for {at.isoformat(timespec="minutes")}',
             '', f'Capacity windows in force: {names}.', '']
    lines += [f'- {edit}' for edit in edits]
    return '\n'.join(lines) + '\n'


def _git(checkout, *args):
    # SIGTERM, not SIGKILL, if this process dies: git then removes its
    # lock files (index.lock) on the way out.
    proc = children.run(['git', '-C', checkout, *args],
                        death_signal=signal.SIGTERM)
    proc.stdout = proc.stdout.decode(errors='replace')
    proc.stderr = proc.stderr.decode(errors='replace')
    return proc


def _require_checkout(checkout):
    proc = _git(checkout, 'rev-parse', '--show-toplevel')
    if proc.returncode != 0:
        raise InputError(checkout, None, '', 'not a git checkout')


def apply(checkout, relpath, inv, at, commit=False):
    """(status, edits): edit ``relpath`` in ``checkout``; maybe commit."""
    path = os.path.join(checkout, relpath)
    if commit:
        _require_checkout(checkout)
    text = read_text(path)
    edits = plan(path, text, inv, at)
    if not edits:
        return UNCHANGED, edits
    try:
        atomic_write(path, edited(text, edits))
    except OSError as e:
        raise InputError(path, None, '', f'cannot write: {e.strerror}')
    if not commit:
        return WRITTEN, edits
    windows = [w.name for w in inv.active_windows(at)]
    try:
        proc = _git(checkout, 'commit', '-q', '-m',
                    commit_message(at, windows, edits), '--', relpath)
    except BaseException:
        # Stopped (a signal) while git ran: git was stopped; the file
        # goes back to what it was, as on a failed commit.
        atomic_write(path, text)
        raise
    if proc.returncode != 0:
        # Nothing half-done: the checkout goes back to what it was.
        atomic_write(path, text)
        raise InputError(path, None, '', 'git commit failed: '
                         + ' '.join(proc.stderr.split())[:300])
    return COMMITTED, edits
