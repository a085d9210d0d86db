"""One PNG per job: pass rate and node wait per day of the window.

The thresholds the verdict used are drawn on the same axes, so a
reviewer sees how far a job is from moving on, and since when.
"""

import io
import os
import re

import matplotlib

matplotlib.use('Agg')  # files only; no display on servers or in CI
import matplotlib.pyplot as plt  # noqa: E402

from nodepool_aarch64.formats.write import write_files  # noqa: E402


def file_name(job):
    return re.sub(r'[^A-Za-z0-9._-]', '_', job) + '.png'


def plot_job(job, thresholds, window_start, path):
    daily = job['metrics']['daily']
    days = [d['day'] for d in daily]
    rates = [d['pass-rate'] * 100 if d['pass-rate'] is not None else None
             for d in daily]
    waits = [d['node-wait-p95-seconds'] / 60
             if d['node-wait-p95-seconds'] is not None else None
             for d in daily]
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(10, 6), dpi=100,
                                      sharex=True)
    top.plot(days, [r if r is not None else float('nan') for r in rates],
             marker='o', color='tab:blue', label='pass rate')
    # Pass rate can stay high while infra failures eat runs; the line
    # marks the pass rate the two failure thresholds together still allow.
    floor = 100 * (1 - thresholds.max_arm64_failure_rate -
                   thresholds.max_infra_failure_rate)
    top.axhline(floor, color='tab:red', linestyle='--',
                label=f'{floor:.0f}% (failure thresholds)')
    top.set_ylim(0, 105)
    top.set_ylabel('pass rate (%)')
    top.grid(alpha=0.3)
    top.legend(loc='upper left', bbox_to_anchor=(1.01, 1), fontsize='small')
    bottom.bar(days, [w if w is not None else 0 for w in waits],
               color='tab:orange', label='node wait p95')
    bottom.axhline(thresholds.slo_minutes, color='tab:red', linestyle='--',
                   label=f'gate SLO p{thresholds.slo_quantile} '
                         f'{thresholds.slo_minutes:g} min')
    bottom.set_ylabel('node wait p95 (min)')
    bottom.set_xlabel(f'day of the window (day 0 = '
                      f'{window_start[:10]})')
    bottom.grid(alpha=0.3)
    bottom.legend(loc='upper left', bbox_to_anchor=(1.01, 1),
                  fontsize='small')
    fig.suptitle(f'{job["job"]}: {job["verdict"]}'
                 + (f' (failed: {", ".join(job["failed"])})'
                    if job['failed'] else ''), fontsize='medium')
    if not any(d['runs'] for d in daily):
        top.text(0.5, 0.5, 'no runs in the window', ha='center',
                 va='center', transform=top.transAxes)
    fig.tight_layout()
    fig.savefig(path, format='png')
    plt.close(fig)


def write(directory, jobs, thresholds, window_start):
    """Replace the job's PNGs in ``directory`` as one set.

    Each plot is drawn in memory and the set is written the way
    ``render`` writes its files: staged under unpredictable names, then
    renamed all or none, a link planted in the directory replaced rather
    than followed.
    """
    files = {}
    for job in jobs:
        out = io.BytesIO()
        plot_job(job, thresholds, window_start, out)
        files[file_name(job['job'])] = out.getvalue()
    write_files(directory, files)
    return [os.path.join(directory, name) for name in files]
