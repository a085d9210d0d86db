"""Run Nodepool's own validator on each Nodepool file, as findings.

ConfigValidator reports through logging, so its records are captured with
a handler.  Schema errors arrive as a voluptuous exception whose path is
relative to the provider being checked; the provider is recovered from
the validator's frame so the finding can point at the right line.
Nodepool is imported once per process: the import costs far more than a
validation.
"""

import contextlib
import logging
import os
import re

from nodepool_aarch64 import yamlutil
from nodepool_aarch64.check import findings

CODE = 'NPA001'
DOC = "Nodepool's own validator (config-validate) rejects the file"

# Cross-reference errors the validator logs that rules report with a
# precise position (the rule code is given for the reader).
_COVERED = (
    re.compile(r'is not defined in the main diskimages list'),  # NPA014
    re.compile(r'not in top-level labels'),                     # NPA011
    re.compile(r'which is not defined in the main diskimages'),  # NPA014
    re.compile(r'^diskimage \S+ already defined'),              # NPA003
)

_validator = None


def _validator_class():
    global _validator
    if _validator is None:
        from nodepool.cmd.config_validator import ConfigValidator
        _validator = ConfigValidator
    return _validator


@contextlib.contextmanager
def drivers(names):
    """Load only the Nodepool drivers a config set names, for a while.

    Nodepool loads every driver it ships on first use, importing the AWS,
    Azure, GCE, IBM and Kubernetes SDKs: seconds of a check run, spent on
    drivers nobody configured.  Its registry is filled with Nodepool's own
    loader instead, one driver at a time; validation is unchanged, and a
    name Nodepool does not ship stays unknown, as it would be anyway.
    The registry is put back afterwards, so other Nodepool code in the
    same process still finds every driver.
    """
    _validator_class()
    from nodepool import driver
    base = os.path.dirname(driver.__file__)
    registry = driver.Drivers.drivers
    saved = dict(registry)
    try:
        for name in sorted(set(names) - set(registry)):
            path = os.path.join(base, name, '__init__.py')
            if re.fullmatch(r'[a-z0-9_]+', name) and os.path.isfile(path):
                cls = driver.Drivers._load_class(name, path, driver.Driver)
                if cls:
                    registry[name] = cls()
        yield
    finally:
        registry.clear()
        registry.update(saved)


class _Capture(logging.Handler):
    def __init__(self):
        super().__init__(logging.ERROR)
        self.records = []

    def emit(self, record):
        self.records.append(record)


def validate(source):
    """Findings from Nodepool's validator for one NodepoolFile."""
    logger = logging.getLogger('nodepool.cmd.config_validator')
    capture = _Capture()
    propagate = logger.propagate
    logger.addHandler(capture)
    logger.propagate = False
    try:
        # No environment: Nodepool fills %(NODEPOOL_*)s placeholders from
        # it, and a finding quoting the value would print the secret.
        _validator_class()(source.path).validate(env={})
    except Exception as e:
        # The validator trusts cross-references it has not checked yet
        # (e.g. a diskimage entry without a name); a crash is a finding.
        return [source.finding(source.data, CODE, findings.ERROR,
                               f'Nodepool validator crashed: '
                               f'{type(e).__name__}: {e}')]
    finally:
        logger.removeHandler(capture)
        logger.propagate = propagate
    result = []
    for record in capture.records:
        result += _record_findings(source, record)
    return result


def _record_findings(source, record):
    if record.exc_info and record.exc_info[1] is not None:
        return _exception_findings(source, record.exc_info[1])
    message = record.getMessage()
    if any(p.search(message) for p in _COVERED):
        return []
    node, key = _locate(source, message)
    return [source.finding(node, CODE, findings.ERROR,
                           f'Nodepool validator: {message}', key=key)]


def _exception_findings(source, exc):
    errors = getattr(exc, 'errors', None) or [exc]
    prefix = _provider_prefix(exc)
    result = []
    for error in errors:
        path = prefix + tuple(getattr(error, 'path', ()) or ())
        msg = getattr(error, 'msg', None) or str(error)
        line = yamlutil.line_of(source.data, path) or 1
        key = path[-1] if path and isinstance(path[-1], str) else None
        where = f' at {yamlutil.dotted(path)}' if path else ''
        result.append(findings.Finding(
            source.path, line, source.column(line, key), CODE,
            findings.ERROR, f'Nodepool validator: {msg}{where}'))
    return result


def _provider_prefix(exc):
    """('providers', N) when the error came from one provider's schema."""
    tb = exc.__traceback__
    while tb is not None:
        frame = tb.tb_frame
        if frame.f_code.co_name == 'validate' and \
                'provider_dict' in frame.f_locals:
            provider = frame.f_locals['provider_dict']
            config = frame.f_locals.get('config')
            providers = config.get('providers') \
                if isinstance(config, dict) else None
            for i, candidate in enumerate(
                    providers if isinstance(providers, list) else []):
                if candidate is provider:
                    return ('providers', i)
        tb = tb.tb_next
    return ()


def _locate(source, message):
    """Best node for a validator message that names a diskimage."""
    match = re.match(r'diskimage (\S+)', message)
    if match:
        for image in source.diskimages:
            if image.get('name') == match.group(1):
                return image, 'name'
    return source.data, None
