"""How the capacity commands show results: text tables and JSON.

Each function takes what a command computed (quota results, a
simulation summary, a plan comparison) and returns the text to print;
the commands themselves only choose which one and print it.
"""

import json

from nodepool_aarch64.formats import texttable
from nodepool_aarch64.model import QUOTA_KEYS


def as_json(data):
    return json.dumps(data, indent=2)


def instant(inv, at):
    """"<time>; windows: <names in force>" for the apply actions."""
    fields = instant_fields(inv, at)
    return (f'{fields["at"]}; windows: '
            f'{", ".join(fields["windows"]) or "none"}')


def instant_fields(inv, at):
    """The apply actions' instant and the windows in force, as data."""
    return {'at': at.isoformat(timespec='minutes'),
            'windows': [w.name for w in inv.active_windows(at)]}


def minutes(values):
    """Measured waits in minutes, as the plan and report print them."""
    return ', '.join(f'{v:g}' for v in values)


def quota_table(results):
    """``capacity quota``: each region's limits and the servers they
    allow, then one line per region that did not answer."""
    rows = [['provider', 'region', 'status'] + list(QUOTA_KEYS)
            + ['binding', 'max-servers']]
    for r in results:
        if r.status != 'ok':
            rows.append([r.provider, r.region, r.status] + ['-'] *
                        (len(QUOTA_KEYS) + 2))
            continue
        rows.append([r.provider, r.region, r.status] + _quota_cells(r)
                    + [r.sizing.binding, str(r.sizing.max_servers)])
    lines = texttable.lines(rows)
    lines.append('')
    lines.append('Each resource: limit (in use) -> servers it allows after '
                 'reserved servers, sized by the largest flavor; '
                 'max-servers applies headroom and any explicit cap.')
    lines += [f'{r.provider}: {r.status}: {r.error}' for r in results
              if r.status != 'ok']
    return '\n'.join(lines)


def _quota_cells(result):
    cells = []
    for resource in QUOTA_KEYS:
        if resource not in result.usage:
            cells.append('-')
            continue
        limit, used = result.usage[resource]
        allowed = result.sizing.limits.get(resource)
        text = 'unlimited' if limit is None else str(limit)
        if used is not None:
            text += f' ({used} used)'
        if allowed is not None:
            text += f' -> {allowed}'
        cells.append(text)
    return cells


def summary_text(summary):
    """``capacity simulate``: totals, then waits per pipeline and
    label."""
    lines = [f'{summary["requests"]} requests, {summary["launches"]} '
             f'launches, {summary["failed"]} failed; utilisation '
             f'{summary["utilisation"]:.2f}; node-hours used '
             f'{summary["used-node-hours"]} (idle ready '
             f'{summary["idle-ready-node-hours"]}), held '
             f'{summary["capacity-node-hours"]}']
    waits = summary['wait-minutes']
    rows = [['', 'requests', 'p50', 'p95', 'p99', 'mean', 'unserved']]
    for kind in ('pipeline', 'label'):
        for name, block in waits[kind].items():
            rows.append([f'{kind} {name}', str(block['requests'])] +
                        [str(block[k]) for k in ('p50', 'p95', 'p99',
                                                 'mean', 'unserved')])
    lines.append('wait in minutes until a node is ready:')
    lines += texttable.lines(rows, indent='  ')
    if summary.get('skipped'):
        lines.append('skipped builds: ' + ', '.join(
            f'{k} ({v})' for k, v in sorted(summary['skipped'].items())))
    return '\n'.join(lines)


PLAN_NOTES = [
    'node-h/wk: max-servers held over a week (warm min-ready nodes sit '
    'inside it);',
    'idle-ready: node-hours a week that warm nodes waited unused;',
    "static N: the smallest static max-servers holding at least the "
    "plan's node-hours."]


def plan_text(out):
    """``capacity plan``: the SLO, how the plan was fitted, one row per
    scenario compared, and what to do with the windows."""
    lines = [f'SLO: {"; ".join(out["slo"])}']
    if not out['feasible']:
        lines.append('not met even with full quota at all times and the '
                     'most warm nodes tried: measured '
                     f'{minutes(out["best-minutes"])} min')
        return '\n'.join(lines)
    p = out['plan']
    held_weeks = out['weeks']['held-out']
    lines.append(
        f'fitted on {out["weeks"]["fitted"]} week(s)' +
        (f', {held_weeks} held out' if held_weeks else '') +
        f'; safety z={p["safety-z"]:g}, warm factor {p["warm-factor"]:g} '
        f'(up to {p["peak-min-ready"]} min-ready nodes), fitted to '
        f'{p["fitted-to"]:.0%} of the SLO')
    lines += _comparison_lines(out['compare'], held_weeks)
    lines += PLAN_NOTES
    if p['replaces-windows']:
        lines.append('The plan replaces the weekly windows '
                     f'{", ".join(p["replaces-windows"])}; one-off windows '
                     'are kept.')
    count = p['windows']
    lines += [f'{count} weekly window(s), plan-1 to plan-{count}: '
              '--write-inventory FILE writes the whole inventory with them,',
              '--windows-output FILE its capacity section, --format json '
              'both.']
    return '\n'.join(lines)


def _comparison_lines(compare, held_weeks):
    lines = [f'{"":<12}{"node-h/wk":>10}{"peak":>6}{"idle-ready":>11}'
             f'{"util":>6}  {"fitted (min)":<14}met' +
             (f'  {"held-out (min)":<15}met  weeks met'
              if held_weeks else '')]
    for name, c in compare.items():
        text = (f'{name:<12}{c["node-hours-per-week"]:>10.0f}'
                f'{c["peak-max-servers"]:>6}'
                f'{c["idle-ready-node-hours-per-week"]:>11.0f}'
                f'{c["utilisation"]:>6.2f}  '
                f'{minutes(c["slo-measured-minutes"]):<14}'
                f'{"yes" if c["slo-met"] else "no":<3}')
        if held_weeks:
            h = c['held-out']
            text += (f'  {minutes(h["slo-measured-minutes"]):<15}'
                     f'{"yes" if h["slo-met"] else "no":<3}  '
                     f'{h["weeks-met"]} of {held_weeks}')
        lines.append(text.rstrip())
    return lines
