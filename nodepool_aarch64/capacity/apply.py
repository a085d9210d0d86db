"""Put the launcher config for an instant in place, safely.

Nodepool reloads its config file when it changes, so the file a launcher
reads must always be complete and valid.  ``apply`` renders the launcher
config with the capacity windows active at an instant, validates the text
with Nodepool's own ConfigValidator, and replaces the file atomically
only when it is valid and different.  An unchanged render does not touch
the file, so its mtime and inode stay the same and Nodepool does not
reload for nothing.
"""

import logging
import os
import tempfile

from nodepool.cmd.config_validator import ConfigValidator

from nodepool_aarch64.render import nodepool as render_nodepool
from nodepool_aarch64.render.write import atomic_write, unchanged
from nodepool_aarch64.render.yamltext import dump

UNCHANGED, REPLACED, INVALID = 'unchanged', 'replaced', 'invalid'


class _Collect(logging.Handler):
    def __init__(self):
        super().__init__(logging.WARNING)
        self.messages = []

    def emit(self, record):
        message = record.getMessage()
        if record.exc_info and record.exc_info[1] is not None:
            message += f': {" ".join(str(record.exc_info[1]).split())}'
        self.messages.append(message)


def validate_text(text):
    """Nodepool's ConfigValidator on ``text``: list of error messages."""
    collect = _Collect()
    logger = logging.getLogger('nodepool.cmd.config_validator')
    logger.addHandler(collect)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, 'nodepool.yaml')
        with open(path, 'w') as f:
            f.write(text)
        try:
            # No environment: the rendered config must not depend on
            # variables of the host that runs apply.
            failed = ConfigValidator(path).validate(env={})
        finally:
            logger.removeHandler(collect)
    if failed and not collect.messages:
        collect.messages.append('Nodepool rejected the config')
    return collect.messages if failed else []


def render(inv, launcher, at):
    source = f'inventory {os.path.basename(inv.path)}'
    return dump(render_nodepool.launcher_config(inv, launcher, at=at),
                source)


def apply(text, output):
    """(status, errors): write ``text`` to ``output`` if valid and new."""
    errors = validate_text(text)
    if errors:
        return INVALID, errors
    if unchanged(output, text):
        return UNCHANGED, []
    atomic_write(output, text)
    return REPLACED, []
