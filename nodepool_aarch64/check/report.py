"""Findings as text (one per line, compiler style) or as JSON."""

import json

TENANT_OPTIONS = ('say what the tenant serves with --zuul-url/--tenant or '
                  '--labels-file')


def summary(result):
    text = (f'{len(result.errors)} error(s), {len(result.warnings)} '
            f'warning(s) in {result.files} file(s)')
    if result.skipped:
        text += (f'; skipped without cloud facts: '
                 f'{", ".join(result.skipped)}')
    if not result.labels_checked:
        text += ('; labels NOT checked: no launcher config given (add '
                 f'one, or {TENANT_OPTIONS})')
    elif result.unchecked_labels:
        text += (f'; not checked, as no given launcher serves their '
                 f'architecture: {", ".join(result.unchecked_labels)} '
                 f'({TENANT_OPTIONS})')
    return text


def text(result, verbose=False):
    lines = [str(f) for f in result.findings]
    notes = [f'note: {n}' for n in result.notes] if verbose else []
    for crash in result.crashes:
        notes.append(str(crash))
        if verbose:
            notes.append(crash.traceback.rstrip())
    return lines, notes + [summary(result)]


def as_json(result):
    return json.dumps({
        'findings': [f.as_dict() for f in result.findings],
        'notes': result.notes,
        'skipped': result.skipped,
        'internal-errors': [{'rule': c.code, 'error': c.error}
                            for c in result.crashes],
        'summary': {'errors': len(result.errors),
                    'warnings': len(result.warnings),
                    'files': result.files,
                    'labels_checked': result.labels_checked,
                    'unchecked_labels': result.unchecked_labels},
    }, indent=2, sort_keys=True)
