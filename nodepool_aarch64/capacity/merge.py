"""A plan's windows merged into the inventory it was made from.

``plan --write-inventory`` must give a file that can go live as it is:
the input inventory's text with its weekly windows replaced by the
plan's, and everything else as written -- comments, the labels' own
min-ready, headroom, and one-off windows such as a region's maintenance.
One-off windows are listed after the plan's, so where they overlap they
still win (later windows win).  The text is edited, not re-dumped, so a
reviewer's diff shows only the windows.
"""

import os
import tempfile

from nodepool_aarch64 import sizing
from nodepool_aarch64.capacity import plan as pl
from nodepool_aarch64.errors import InputError
from nodepool_aarch64.formats import yamlutil
from nodepool_aarch64.inventory import load_inventory


def merged_inventory(inv, plan):
    """(text, inventory, replaced window names) for a plan merged into
    the inventory it was made from, loaded back so it is known to be
    valid."""
    with open(inv.path, encoding='utf-8') as f:
        text = f.read()
    planned = pl.windows(plan.schedule, sizing.max_servers(inv),
                         plan.min_ready,
                         {label.name: label.min_ready for label in inv.labels})
    merged, replaced = merge(inv.path, text, planned)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, os.path.basename(inv.path))
        with open(path, 'w', encoding='utf-8') as f:
            f.write(merged)
        try:
            again = load_inventory(path)
        except InputError as e:
            raise InputError(inv.path, None, '', f'the plan does not merge '
                             f'into this inventory: {e}')
    return merged, again, replaced


def merge(path, text, planned):
    """(new text, names of the weekly windows replaced).

    ``planned`` is a list of window mappings (``plan.windows``).
    """
    data, _ = yamlutil.load_single(path, text)
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith('\n'):
        lines[-1] += '\n'
    capacity = data.get('capacity') if isinstance(data, dict) else None
    if not capacity:
        if 'capacity' in (data or {}):
            # "capacity:" with nothing under it (or {}): replace the line.
            del lines[data.line_of('capacity') - 1]
        block = ['capacity:\n', '  windows:\n'] + _lines(planned, '    ')
        return ''.join(lines + block), []
    windows = capacity.get('windows')
    key_line = capacity.line_of('windows')
    if windows is None and 'windows' not in capacity:
        at = data.line_of('capacity')
        indent = _indent(lines[capacity.line - 1]) \
            if capacity.line and capacity.line > at else 2
        block = [' ' * indent + 'windows:\n'] + \
            _lines(planned, ' ' * (indent + 2))
        return ''.join(lines[:at] + block + lines[at:]), []
    indent = _indent(lines[key_line - 1])
    if not windows:
        # "windows: []" or "windows:" with nothing: a block list instead.
        block = [' ' * indent + 'windows:\n'] + \
            _lines(planned, ' ' * (indent + 2))
        return ''.join(lines[:key_line - 1] + block + lines[key_line:]), []
    if windows.line_of(0) == key_line:
        raise InputError(path, key_line, 'capacity.windows',
                         'written as a flow list; write it as a block list '
                         '("- name: ...") to merge a plan into it')
    starts = [_with_comments(lines, windows.line_of(i))
              for i in range(len(windows))]
    end = _list_end(lines, key_line, indent)
    kept, replaced = [], []
    for i, window in enumerate(windows):
        stop = starts[i + 1] if i + 1 < len(windows) else end
        if 'from' in window or 'until' in window:
            kept += lines[starts[i] - 1:stop - 1]
        else:
            replaced.append(str(window.get('name')))
    item = lines[windows.line_of(0) - 1]
    dash = ' ' * (len(item) - len(item.lstrip(' ')))
    block = _lines(planned, dash) + kept
    return ''.join(lines[:starts[0] - 1] + block + lines[end - 1:]), \
        replaced


def _lines(planned, indent):
    return [line + '\n' for line in pl.window_lines(planned, indent)]


def _indent(line):
    return len(line) - len(line.lstrip(' '))


def _with_comments(lines, line):
    """The first line of an item, counting the comments just above it."""
    while line > 1 and lines[line - 2].strip().startswith('#'):
        line -= 1
    return line


def _list_end(lines, key_line, indent):
    """The 1-based line after the windows list (its trailing blank and
    comment lines belong to what follows)."""
    end = len(lines) + 1
    for n in range(key_line, len(lines)):
        stripped = lines[n].strip()
        if stripped and not stripped.startswith('#') and \
                _indent(lines[n]) <= indent and \
                not lines[n].lstrip(' ').startswith('-'):
            end = n + 1
            break
    while end - 1 > key_line and (
            not lines[end - 2].strip() or
            lines[end - 2].strip().startswith('#')):
        end -= 1
    return end


def section(path, text, key='capacity'):
    """The text of one top-level section of a YAML document ('' if
    absent)."""
    data, _ = yamlutil.load_single(path, text)
    if not isinstance(data, dict) or key not in data:
        return ''
    lines = text.splitlines(keepends=True)
    start = data.line_of(key)
    later = [data.line_of(k) for k in data if data.line_of(k) > start]
    end = min(later) if later else len(lines) + 1
    while end - 1 > start and (not lines[end - 2].strip() or
                               lines[end - 2].startswith('#')):
        end -= 1
    return ''.join(lines[start - 1:end - 1])
