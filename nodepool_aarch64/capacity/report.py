"""A report people can look at: PNG plots and a Markdown page.

Two plots: node demand against capacity for each hour of the week, and
wait percentiles per pipeline for each capacity scenario simulated.
"""

import io
import math
import os
import textwrap

import matplotlib

matplotlib.use('Agg')  # files only; no display on servers or in CI
import matplotlib.pyplot as plt  # noqa: E402
import matplotlib.ticker  # noqa: E402

from nodepool_aarch64 import timeutil  # noqa: E402
from nodepool_aarch64.formats.write import write_files  # noqa: E402

DEMAND_PNG = 'demand-capacity.png'
WAITS_PNG = 'waits.png'
PAGE = 'index.md'
QUANTILES = (50, 95, 99)
_DAYS = tuple(day.capitalize() for day in timeutil.WEEKDAYS)


def plot_demand(demand, schedules, warning=None):
    """The demand chart as PNG bytes."""
    return _png(demand_figure(demand, schedules, warning))


def plot_waits(results, objectives=()):
    """The waits chart as PNG bytes."""
    return _png(waits_figure(results, objectives))


def _png(fig):
    buf = io.BytesIO()
    try:
        fig.savefig(buf, format='png')
    finally:
        plt.close(fig)
    return buf.getvalue()


def demand_figure(demand, schedules, warning=None):
    """``schedules``: list of (name, Schedule), drawn as steps.

    ``warning`` (a failed plan, say) is written on the chart, so nobody
    reads a missing line as a plan that needs no capacity.
    """
    fig, ax = plt.subplots(figsize=(11, 4.5), dpi=100)
    hours = list(range(168))
    ax.fill_between(hours, demand.hourly_node_demand(), step='post',
                    alpha=0.35, color='tab:blue',
                    label='demand (busy nodes\nif nobody waited)')
    for name, schedule in schedules:
        ax.step(hours, schedule.hourly_totals(), where='post', linewidth=1.6,
                label=f'{name} max-servers')
    ax.set_xticks(range(0, 168, 24), _DAYS)
    ax.set_xlim(0, 168)
    top = max([1.0] + [max(s.hourly_totals()) for _, s in schedules] +
              demand.hourly_node_demand())
    ax.set_ylim(0, top * 1.08)
    ax.set_xlabel('hour of the week (UTC)')
    ax.set_ylabel('nodes')
    ax.set_title('Node demand against capacity over the week')
    ax.grid(alpha=0.3)
    notes = [warning] if warning else []
    if not len(demand):
        notes.append('No node requests in the demand.')
    _say(ax, notes)
    # Outside the axes: over the lines it hides the peak it explains.
    ax.legend(loc='upper left', bbox_to_anchor=(1.01, 1), fontsize='small')
    fig.tight_layout()
    return fig


def _say(ax, notes):
    if notes:
        ax.text(0.5, 0.5, '\n'.join(textwrap.fill(n, 70) for n in notes),
                transform=ax.transAxes, ha='center', va='center',
                fontsize='medium', color='tab:red',
                bbox={'facecolor': 'white', 'alpha': 0.9,
                      'edgecolor': 'tab:red'})


def waits_figure(results, objectives=()):
    """``results``: list of (name, simulate.Result); bars per pipeline,
    and each objective as a line over its pipeline's bars."""
    pipelines = sorted({p for _, r in results for p in r.demand.pipelines},
                       key=_pipeline_order)
    quantiles = sorted(set(QUANTILES) | {o.quantile for o in objectives})
    fig, axes = plt.subplots(1, len(quantiles), figsize=(12, 4.6), dpi=100,
                             sharey=True)
    width = 0.8 / max(1, len(results))
    everything = [_finite_minutes(r.percentile(q, pipeline=p))
                  for _, r in results for q in quantiles for p in pipelines]
    everything += [o.minutes for o in objectives]
    positive = [v for v in everything if v > 0] or [1.0]
    # Starved pipelines wait days while served ones wait minutes: only a
    # log scale shows both.
    log = max(positive) > 20 * min(positive)
    for ax, q in zip(axes, quantiles):
        for n, (name, result) in enumerate(results):
            values = [max(0.1, _finite_minutes(
                result.percentile(q, pipeline=p))) for p in pipelines]
            ax.bar([i + n * width for i in range(len(pipelines))], values,
                   width, label=name)
        for o in objectives:
            if o.quantile == q and o.pipeline in pipelines:
                i = pipelines.index(o.pipeline)
                ax.hlines(o.minutes, i - width, i + width * len(results),
                          colors='tab:red', linestyles='dashed',
                          linewidth=1.8, label=f'SLO: {o}')
        ax.set_xticks([i + width * (len(results) - 1) / 2
                       for i in range(len(pipelines))], pipelines,
                      rotation=20)
        ax.set_title(f'p{q:g} wait')
        if log:
            ax.set_yscale('log')
            ax.yaxis.set_major_formatter(
                matplotlib.ticker.FuncFormatter(lambda v, _: f'{v:g}'))
        ax.grid(axis='y', alpha=0.3)
    if not log:
        # Set once, after every bar: the axes share y, and a limit set
        # while drawing the first would cut the others' bars (and the
        # SLO line) off.
        axes[0].set_ylim(0, max(positive) * 1.15)
    axes[0].set_ylabel('minutes until a node is ready')
    if not pipelines:
        _say(axes[len(axes) // 2], ['No node requests: nothing waited.'])
    handles, labels = {}, []
    for ax in axes:
        for h, label in zip(*ax.get_legend_handles_labels()):
            if label not in handles:
                handles[label] = h
                labels.append(label)
    if labels:
        fig.legend([handles[la] for la in labels], labels,
                   loc='lower center', ncol=min(len(labels), 5),
                   fontsize='small', frameon=False)
    fig.suptitle('Node wait per pipeline')
    # Room under the axes for the legend, away from the bars.
    fig.tight_layout(rect=(0, 0.1, 1, 1))
    return fig


def _pipeline_order(name):
    order = {'gate': 0, 'check': 1, 'check-arm64': 2, 'experimental': 3}
    return (order.get(name, 9), name)


def _finite_minutes(seconds):
    # An unserved request has an infinite wait; plot it at a week so
    # the bar is visibly off the scale rather than missing.
    if seconds != seconds:
        return 0.0
    return min(seconds, 7 * 24 * 3600.0) / 60.0


def _fmt(seconds):
    if seconds != seconds:
        return '-'
    if seconds == math.inf:
        return 'never'
    return f'{seconds / 60:.1f}'


def write(directory, demand, schedules, results, notes=(), objectives=(),
          warning=None):
    """Write both PNGs and index.md into ``directory``; returns paths."""
    files = {DEMAND_PNG: plot_demand(demand, schedules, warning),
             WAITS_PNG: plot_waits(results, objectives)}
    lines = [
        '# Arm64 capacity report', '',
        f'{len(demand)} node requests over {demand.weeks()} week(s), '
        f'{demand.node_hours():.0f} node-hours of builds.', '',
    ]
    lines.extend(f'{n}' for n in notes)
    if notes:
        lines.append('')
    lines += ['## Demand and capacity', '',
              f'![Node demand against capacity]({DEMAND_PNG})', '',
              '## Waits', '', f'![Node wait per pipeline]({WAITS_PNG})', '',
              '| capacity | node-hours/week | utilisation | pipeline | '
              + ' | '.join(f'p{q} (min)' for q in QUANTILES) + ' |',
              '|---|---:|---:|---|' + '---:|' * len(QUANTILES)]
    by_name = dict(schedules)
    for name, result in results:
        schedule = by_name.get(name)
        hours = f'{schedule.node_hours():.0f}' if schedule else '-'
        for p in sorted(result.demand.pipelines, key=_pipeline_order):
            lines.append(
                f'| {name} | {hours} | {result.utilisation:.2f} | {p} | '
                + ' | '.join(_fmt(result.percentile(q, pipeline=p))
                             for q in QUANTILES) + ' |')
    files[PAGE] = '\n'.join(lines) + '\n'
    # All three or none, each replaced atomically.
    write_files(directory, files)
    return [os.path.join(directory, name) for name in files]
