"""Run Nodepool's own validator on each Nodepool file, as findings.

The validator is run through ``nodepool_aarch64.engines.nodepool``, which
captures what it logs.  Schema errors arrive as a voluptuous exception
whose path is relative to the provider being checked; the provider is
recovered from the validator's frame so the finding can point at the
right line.
"""

import re

from nodepool_aarch64.engines import nodepool
from nodepool_aarch64.formats import findings
from nodepool_aarch64.formats import yamlutil

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


def validate(source):
    """Findings from Nodepool's validator for one NodepoolFile."""
    outcome = nodepool.validate(source.path)
    if outcome.crash is not None:
        # The validator trusts cross-references it has not checked yet
        # (e.g. a diskimage entry without a name); a crash is a finding.
        return [source.finding(source.data, CODE, findings.ERROR,
                               nodepool.crash_message(outcome.crash))]
    result = []
    for record in outcome.records:
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
