"""Print a boot check's result as text or JSON."""

import json

from nodepool_aarch64.imagecheck import criteria


def text(result):
    lines = []
    failure = result.first_failure
    if failure is None:
        lines.append(f'image-check: PASS in {result.elapsed:.1f}s '
                     f'(hostname {result.hostname})')
    else:
        lines.append(f'image-check: FAIL {failure.name}: '
                     f'{failure.evidence}')
    for outcome in result.outcomes:
        at = '' if outcome.at is None else f'{outcome.at:6.1f}s'
        lines.append(f'  {outcome.name:<20} {outcome.status:<11} {at:>7}  '
                     f'{outcome.evidence}'.rstrip())
    if result.verdict != criteria.PASS:
        lines.append('last console lines:')
        lines.extend(f'  | {line}' for line in result.tail)
    return lines


def as_json(result):
    return json.dumps(result.as_dict(), indent=2)
