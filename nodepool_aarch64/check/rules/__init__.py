"""The rule registry: one small function per stable finding code.

A rule is ``func(configset, context)`` yielding Findings; ``context``
carries the cloud facts (None without ``--facts``/``--inventory``), the
tenant's label list (None without ``--zuul-url``/``--labels-file``) and
options.
Rules that need facts are skipped, and say so, when there are none.
Codes are stable: a code is never reused for a different check.
"""

import dataclasses

from nodepool_aarch64.check import validate
from nodepool_aarch64.formats import findings

ERROR = findings.ERROR
WARNING = findings.WARNING


@dataclasses.dataclass(frozen=True)
class Rule:
    code: str
    severity: str
    doc: str
    func: object = None
    needs_facts: bool = False


RULES = {}


def rule(code, severity, doc, needs_facts=False):
    def register(func):
        if code in RULES:
            raise RuntimeError(f'rule code {code} registered twice')
        RULES[code] = Rule(code, severity, doc, func, needs_facts)
        return func
    return register


@dataclasses.dataclass
class Context:
    facts: object = None
    # Seconds a job will wait for a node before its submitter gives up:
    # a launch that fails only after longer than this looks like a hang.
    patience: int = 3600
    # What the rest of the Zuul tenant serves (tenant.TenantLabels), if
    # the user said.
    tenant: object = None
    # Nodesets the rest of the tenant defines (tenant.TenantNodesets).
    nodesets: object = None


def all_codes():
    """(code, severity, doc) of every finding code, validator included."""
    codes = [(validate.CODE, ERROR, validate.DOC)]
    codes += [(r.code, r.severity, r.doc) for r in RULES.values()]
    return sorted(codes)


# Importing the modules registers their rules, in this order.
from nodepool_aarch64.check.rules import (  # noqa: E402,F401
    arch, max_servers, duplicates, flavors, zuul_launcher,
    zuul_launcher_schema, nodepool_launcher_hosts, readiness, references,
    timeouts)
