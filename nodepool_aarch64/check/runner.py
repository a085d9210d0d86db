"""One check run: load, validate, apply every rule, collect the result."""

import dataclasses
import traceback

from nodepool_aarch64.check import configset as configset_mod
from nodepool_aarch64.check import facts as facts_mod
from nodepool_aarch64.check import rules
from nodepool_aarch64.check import validate
from nodepool_aarch64.check.rules import references
from nodepool_aarch64.engines import nodepool


@dataclasses.dataclass(frozen=True)
class Crash:
    """A rule that raised instead of returning findings."""
    code: str
    error: str          # "TypeError: ..." on one line
    traceback: str

    def __str__(self):
        return (f'internal error: rule {self.code} failed ({self.error}); '
                'its findings are missing, the other rules ran')


@dataclasses.dataclass
class Result:
    findings: list
    notes: list
    skipped: list       # codes of rules that could not run
    files: int
    configset: object = None
    # Whether NPA010 compared labels at all (it needs launchers or the
    # tenant's label list), and the labels it left alone.
    labels_checked: bool = True
    unchecked_labels: list = dataclasses.field(default_factory=list)
    # Rules that raised: a fault of the checker, not of the files.
    crashes: list = dataclasses.field(default_factory=list)

    @property
    def errors(self):
        return [f for f in self.findings if f.severity == rules.ERROR]

    @property
    def warnings(self):
        return [f for f in self.findings if f.severity == rules.WARNING]


def load_facts(inventory_path=None, facts_path=None):
    if facts_path:
        return facts_mod.from_file(facts_path)
    from nodepool_aarch64.inventory import load_inventory
    return facts_mod.from_inventory(load_inventory(inventory_path))


def run(paths, facts=None, patience=3600, tenant=None, nodesets=None):
    """Check PATHs; ``facts`` is a facts.Facts or None, ``tenant`` a
    tenant.TenantLabels or None, ``nodesets`` a tenant.TenantNodesets or
    None."""
    configset = configset_mod.load(paths)
    context = rules.Context(facts=facts, patience=patience, tenant=tenant,
                            nodesets=nodesets)
    found = []
    names = {p.driver for p in configset.providers
             if isinstance(p.driver, str)} | {'openstack'}
    with nodepool.drivers(names):
        for source in configset.nodepool:
            found += validate.validate(source)
    notes = list(configset.notes)
    skipped = []
    crashes = []
    for code, rule in sorted(rules.RULES.items()):
        if rule.needs_facts and facts is None:
            skipped.append(code)
            notes.append(f'{code} skipped: needs cloud facts '
                         f'(--facts or --inventory)')
            continue
        try:
            found += list(rule.func(configset, context))
        except Exception as e:
            # The checker's fault, not the files': the other rules still
            # report, and the user is not told the input is unusable.
            crashes.append(Crash(
                code, ' '.join(f'{type(e).__name__}: {e}'.split())[:300],
                traceback.format_exc()))
    asked = bool(configset.node_refs())
    labels_checked = not asked or configset.has_servers or \
        tenant is not None
    if not labels_checked:
        notes.append('NPA010 had nothing to compare: no launcher config '
                     'in the set and no tenant label list')
    unchecked = references.unchecked_labels(configset, tenant)
    if not configset.builders:
        notes.append('NPA015 had nothing to compare: no builder config '
                     'in the set')
    return Result(sorted(set(found)), notes, skipped,
                  len(configset.sources), configset, labels_checked,
                  unchecked, crashes)
