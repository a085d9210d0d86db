"""Findings as text (one per line, compiler style) or as JSON."""

import json


def summary(result):
    text = (f'{len(result.errors)} error(s), {len(result.warnings)} '
            f'warning(s) in {result.files} file(s)')
    if result.skipped:
        text += (f'; skipped without --inventory: '
                 f'{", ".join(result.skipped)}')
    return text


def text(result, verbose=False):
    lines = [str(f) for f in result.findings]
    notes = [f'note: {n}' for n in result.notes] if verbose else []
    return lines, notes + [summary(result)]


def as_json(result):
    return json.dumps({
        'findings': [f.as_dict() for f in result.findings],
        'notes': result.notes,
        'skipped': result.skipped,
        'summary': {'errors': len(result.errors),
                    'warnings': len(result.warnings),
                    'files': result.files},
    }, indent=2, sort_keys=True)
