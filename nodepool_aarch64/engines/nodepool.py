"""Nodepool as the project uses it: its validator, run one way, and the
facts the project borrows from it, kept in one place.

``check`` turns what it reports into findings and ``capacity apply``
refuses a render it rejects; both see the same records, captured the
same way:

- at ERROR, the level of everything the validator counts as a failure;
- kept from the root logger, so nothing reaches the terminal twice;
- with no environment: Nodepool fills ``%(NODEPOOL_*)s`` placeholders
  from it, so a message quoting the value would print a secret, and a
  config must not validate on one host and not another;
- a crash of the validator (it indexes keys it never required) is an
  outcome, not an exception: the input is what is wrong.

Nodepool is imported on first use: the import costs far more than a
validation, and most commands never validate.
"""

import contextlib
import dataclasses
import logging
import os
import re
import tempfile

LOGGER = 'nodepool.cmd.config_validator'

# Facts Nodepool 11 keeps in its code rather than in an API; each has a
# test in tests/unit/test_nodepool_pins.py that runs Nodepool's own code
# and fails when an upgrade disagrees.
#
# The top-level keys that make a YAML mapping a Nodepool config.
TOP_LEVEL_KEYS = frozenset(('providers', 'labels', 'diskimages',
                            'zookeeper-servers'))
# The OpenStack driver's provider defaults, in seconds (and tries).
DEFAULT_BOOT_TIMEOUT = 60
DEFAULT_LAUNCH_TIMEOUT = 3600
DEFAULT_LAUNCH_RETRIES = 3
# Nodepool switches a provider whose name starts with this to its fake
# driver, whatever its ``driver:`` says (a legacy of its own tests).
FAKE_PREFIX = 'fake'


def provider_driver(provider):
    """The driver Nodepool runs a provider mapping with: its ``driver``
    (absent: openstack), unless its name makes it the fake one."""
    name = provider.get('name')
    if isinstance(name, str) and name.startswith(FAKE_PREFIX):
        return 'fake'
    return provider.get('driver', 'openstack')


_validator = None


def validator_class():
    global _validator
    if _validator is None:
        from nodepool.cmd.config_validator import ConfigValidator
        _validator = ConfigValidator
    return _validator


@dataclasses.dataclass
class Outcome:
    failed: bool
    records: list          # logging.LogRecord, in the order logged
    crash: Exception | None = None

    def messages(self):
        """One line per problem, for people rather than for positions."""
        if self.crash is not None:
            return [crash_message(self.crash)]
        result = []
        for record in self.records:
            message = record.getMessage()
            if record.exc_info and record.exc_info[1] is not None:
                message += f': {" ".join(str(record.exc_info[1]).split())}'
            result.append(message)
        if self.failed and not result:
            result.append('Nodepool rejected the config')
        return result


def crash_message(exc):
    return f'Nodepool validator crashed: {type(exc).__name__}: {exc}'


class _Capture(logging.Handler):
    def __init__(self):
        super().__init__(logging.ERROR)
        self.records = []

    def emit(self, record):
        self.records.append(record)


def validate(path):
    """The Outcome of Nodepool's ConfigValidator on the file ``path``."""
    logger = logging.getLogger(LOGGER)
    capture = _Capture()
    propagate = logger.propagate
    logger.addHandler(capture)
    logger.propagate = False
    try:
        failed = bool(validator_class()(path).validate(env={}))
    except Exception as e:
        return Outcome(True, capture.records, e)
    finally:
        logger.removeHandler(capture)
        logger.propagate = propagate
    return Outcome(failed, capture.records)


def validate_text(text):
    """Nodepool's ConfigValidator on ``text``: list of error messages."""
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, 'nodepool.yaml')
        with open(path, 'w') as f:
            f.write(text)
        outcome = validate(path)
    return outcome.messages() if outcome.failed else []


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
    validator_class()
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
