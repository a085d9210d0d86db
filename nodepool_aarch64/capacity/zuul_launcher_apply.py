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
import time

import yaml

from nodepool_aarch64 import children
from nodepool_aarch64 import sizing
from nodepool_aarch64.errors import InputError
from nodepool_aarch64.formats.write import atomic_write
from nodepool_aarch64.formats.yamlutil import read_text_and_bom

UNCHANGED, COMMITTED, WRITTEN = 'unchanged', 'committed', 'written'
# An index.lock this old was left by a killed git, not one still
# committing (a commit of one file takes well under a second).
STALE_SECONDS = 300
_Loader = getattr(yaml, 'CSafeLoader', yaml.SafeLoader)
# YAML 1.1's integers as zuul-launcher reads them: 0x1E, 0:30 and 3_0
# are all 30.
_Constructor = yaml.constructor.SafeConstructor()


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
    old = None
    if isinstance(node, yaml.ScalarNode) \
            and node.tag == 'tag:yaml.org,2002:int':
        try:
            old = _Constructor.construct_yaml_int(node)
        except (ValueError, IndexError):
            pass  # "!!int abc", "!!int ''", more digits than int() takes
    if old is None:
        raise InputError(path, node.start_mark.line + 1, what,
                         'expected an integer')
    return Edit(what, node.start_mark.line + 1, old, new,
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
    """The edits that put the capacity in force at ``at``, in file order.

    ``text`` has no byte-order mark: libyaml skips one without counting
    it, so every offset would land one character early.
    """
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


def _require_clean(checkout, relpath):
    # Only the file's own change goes into the commit: edits someone
    # left in it would ride along unreviewed.
    proc = _git(checkout, 'status', '--porcelain', '--', relpath)
    if proc.returncode != 0 or proc.stdout.strip():
        raise InputError(os.path.join(checkout, relpath), None, '',
                         'the file has uncommitted changes; commit or '
                         'discard them first')


def _inside(checkout, relpath):
    """The file's path, refused when it (or a link) leads out of the
    checkout: a commit or a rollback must not touch anything else."""
    path = os.path.join(checkout, relpath)
    real = os.path.realpath(path)
    if os.path.commonpath([real, os.path.realpath(checkout)]) \
            != os.path.realpath(checkout) or os.path.islink(path):
        raise InputError(path, None, '--file', 'outside the checkout (or a '
                         'symlink): only a file of the checkout is edited')
    return path


def _head_text(checkout, relpath):
    """The file as the checkout's HEAD has it, or None."""
    proc = _git(checkout, 'show', f'HEAD:{relpath}')
    return proc.stdout if proc.returncode == 0 else None


def _clear_stale_lock(checkout):
    """Remove an index.lock a killed git left behind: git refuses every
    later commit while it is there.  One younger than ``STALE_SECONDS``
    may belong to a git still running, and is left alone."""
    proc = _git(checkout, 'rev-parse', '--git-path', 'index.lock')
    if proc.returncode != 0:
        return
    lock = os.path.join(checkout, proc.stdout.strip())
    try:
        if time.time() - os.stat(lock).st_mtime > STALE_SECONDS:
            os.unlink(lock)
    except FileNotFoundError:
        pass


def apply(checkout, relpath, inv, at, commit=False):
    """(status, edits): edit ``relpath`` in ``checkout``; maybe commit.

    With ``commit`` only the file's own change is committed: a file with
    uncommitted edits is refused, unless those edits are exactly what
    this run would write from HEAD.  That is a run killed between its
    write and its commit, and the commit is completed (the edits
    reported are those from HEAD's values).
    """
    path = _inside(checkout, relpath)
    if commit:
        _require_checkout(checkout)
        _clear_stale_lock(checkout)
        resumed = _complete_killed_run(checkout, relpath, path, inv, at)
        if resumed is not None:
            return COMMITTED, resumed
        _require_clean(checkout, relpath)
    bom, body = read_text_and_bom(path)
    edits = plan(path, body, inv, at)
    if not edits:
        return UNCHANGED, edits
    if not commit:
        _write(path, bom + edited(body, edits))
        return WRITTEN, edits
    # The file as it was stays linked beside it until the commit is in,
    # so a failed commit puts back the very same file (same inode).
    backup = _link_aside(checkout, path)
    try:
        _write(path, bom + edited(body, edits))
        _commit(checkout, relpath, path, backup, inv, at, edits)
    finally:
        if os.path.lexists(backup):
            os.unlink(backup)
    return COMMITTED, edits


def _complete_killed_run(checkout, relpath, path, inv, at):
    """The edits of a killed run's write, committed now; None when the
    file is not exactly such a write."""
    head = _head_text(checkout, relpath)
    if head is None:
        return None
    bom, current = read_text_and_bom(path)
    head_bom, head_body = (head[:1], head[1:]) if head.startswith(
        '\ufeff') else ('', head)
    if bom + current == head:
        return None
    edits = plan(path, head_body, inv, at)
    if not edits or bom != head_bom or edited(head_body, edits) != current:
        return None
    _commit(checkout, relpath, path, None, inv, at, edits)
    return edits


def _commit(checkout, relpath, path, backup, inv, at, edits):
    """Commit ``relpath``; on failure put ``backup`` (the file as it was)
    back, so nothing is half-done."""
    windows = [w.name for w in inv.active_windows(at)]
    try:
        proc = _git(checkout, 'commit', '-q', '-m',
                    commit_message(at, windows, edits), '--', relpath)
    except BaseException:
        # Stopped (a signal) while git ran: git was stopped; the file
        # goes back to what it was, as on a failed commit.
        _restore(backup, path)
        raise
    if proc.returncode != 0:
        _restore(backup, path)
        raise InputError(path, None, '', 'git commit failed: '
                         + ' '.join(proc.stderr.split())[:300])


def _restore(backup, path):
    # No backup: completing a killed run's write, which stays for the
    # next run to complete.
    if backup is not None:
        os.replace(backup, path)


def _write(path, text):
    try:
        atomic_write(path, text)
    except OSError as e:
        raise InputError(path, None, '', f'cannot write: {e.strerror}')


def _link_aside(checkout, path):
    """A second name for ``path`` in the checkout's git directory, where
    a killed run's leftover shows in no ``git status``."""
    proc = _git(checkout, 'rev-parse', '--absolute-git-dir')
    directory = proc.stdout.strip() if proc.returncode == 0 else \
        os.path.dirname(path)
    for number in range(100):
        backup = os.path.join(directory, f'nodepool-aarch64-{os.getpid()}-'
                              f'{number}.orig')
        try:
            os.link(path, backup)
            return backup
        except FileExistsError:
            continue
        except OSError as e:
            raise InputError(path, None, '', f'cannot write: {e.strerror}')
    raise InputError(path, None, '', 'cannot write: too many stale '
                     'backups in the git directory')
