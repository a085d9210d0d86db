"""The controller's own metrics, as a Prometheus text file.

node_exporter's textfile collector (or any scraper of a file) reads the
file; it is replaced atomically, so a scrape never sees half of it.
Names carry the ``nodepool_aarch64_control_`` prefix:

- ``forecast_nodes{hours_ahead="H"}``: busy nodes forecast H hours on;
- ``budget_left_ratio`` and ``burn_rate``: the error budget;
- ``max_servers{provider="P"}``, ``min_ready{label="L"}``: in force;
- ``actions_total``: actions in the audit log (this mode's);
- ``last_action_timestamp_seconds``;
- ``last_error_timestamp_seconds`` and ``last_error_info{error="..."}``:
  the last step that failed (0 and absent when none has).
"""

PREFIX = 'nodepool_aarch64_control_'


def _escape(value):
    return str(value).replace('\\', '\\\\').replace('"', '\\"').replace(
        '\n', ' ')


def _line(name, value, **labels):
    where = ','.join(f'{k}="{_escape(v)}"' for k, v in labels.items())
    return f'{PREFIX}{name}{{{where}}} {value:.15g}' if where else \
        f'{PREFIX}{name} {value:.15g}'


def text(decision=None, state=None, actions=0, last_action=None,
         error=None, error_time=None):
    """The file's text.  ``decision`` and ``state`` may be None (a step
    that failed before deciding)."""
    out = []

    def gauge(name, help_text, lines):
        out.append(f'# HELP {PREFIX}{name} {help_text}')
        out.append(f'# TYPE {PREFIX}{name} gauge')
        out.extend(lines)

    if decision is not None:
        gauge('forecast_nodes', 'Busy nodes forecast for a coming hour.',
              [_line('forecast_nodes', v, hours_ahead=h)
               for h, v in enumerate(decision.forecast)])
        gauge('budget_left_ratio', 'Share of the error budget not spent.',
              [_line('budget_left_ratio', decision.budget_left)])
        gauge('burn_rate', 'Rate recent hours spend the budget at.',
              [_line('burn_rate', decision.burn)])
    if state is not None:
        gauge('max_servers', 'Max-servers in force per provider.',
              [_line('max_servers', v, provider=k)
               for k, v in sorted(state.max_servers.items())])
        gauge('min_ready', 'Min-ready in force per label.',
              [_line('min_ready', v, label=k)
               for k, v in sorted(state.min_ready.items())])
    out.append(f'# HELP {PREFIX}actions_total Actions taken.')
    out.append(f'# TYPE {PREFIX}actions_total counter')
    out.append(_line('actions_total', actions))
    gauge('last_action_timestamp_seconds', 'When the last action was taken.',
          [_line('last_action_timestamp_seconds', last_action or 0)])
    gauge('last_error_timestamp_seconds', 'When a step last failed.',
          [_line('last_error_timestamp_seconds', error_time or 0)])
    if error:
        gauge('last_error_info', 'The last failure.',
              [_line('last_error_info', 1, error=error)])
    return '\n'.join(out) + '\n'


def previous_error(path):
    """(error, time) a metrics file written before recorded, so a
    step that succeeds keeps telling of the last one that failed."""
    error, when = None, None
    try:
        with open(path, encoding='utf-8') as f:
            lines = f.read(1024 * 1024).splitlines()
    except (OSError, UnicodeDecodeError):
        return None, None
    for line in lines:
        if line.startswith(PREFIX + 'last_error_timestamp_seconds '):
            try:
                when = float(line.split()[-1]) or None
            except ValueError:
                when = None
        elif line.startswith(PREFIX + 'last_error_info{error="'):
            inner = line[len(PREFIX + 'last_error_info{error="'):]
            error = inner.rsplit('"}', 1)[0].replace('\\"', '"').replace(
                '\\\\', '\\')
    return (error, when) if when else (None, None)
