"""Named pass criteria, decided from the serial console as it grows.

A boot passes each stage in order; the console shows each one:

``firmware-boots-disk``
    The firmware starts the disk's own boot entry (``BdsDxe: starting
    Boot000N "UEFI QEMU QEMU HARDDISK ..."``).  Falling back to the UEFI
    shell, ``startup.nsh``, network boot or the setup menu fails it: a
    cloud has nothing else to boot.
``kernel-console``
    The kernel prints on the serial console Nova logs.  GRUB stopping at
    its prompt fails it.
``root-filesystem``
    The initramfs finds and mounts the root filesystem; its "ALERT! ...
    does not exist" and its rescue shell fail it.
``init``
    An init runs from the root; a kernel panic fails it.
``config-drive``
    The booted system read the config drive: the hostname from its
    ``meta_data.json`` appears on the console (a login prompt under that
    name does).  A login prompt under another name fails it.

A later stage passing implies the earlier ones passed.  The first
failure seen ends the boot.  Each stage has its own deadline
(``DEADLINES``), counted from the moment the stage before it passed (the
first from the start of the boot): a boot that stops showing progress
fails the stage it is stuck in as soon as that stage's time is up, not
when the whole boot's time is.
"""

import dataclasses
import re

NAMES = ('firmware-boots-disk', 'kernel-console', 'root-filesystem', 'init',
         'config-drive')
PASS, FAIL, NOT_REACHED = 'pass', 'fail', 'not-reached'

# Seconds each stage may take once the one before it passed, under TCG
# on a loaded 2-core host (doc/source/imagecheck.rst has the
# measurements): the firmware reaches the disk in about 10 s and a
# kernel prints within about 8 s of the handover; the initramfs waits
# 30 s for a missing root before it says so; a full init (systemd,
# cloud-init) takes minutes under TCG.
DEADLINES = {
    'firmware-boots-disk': 120,
    'kernel-console': 60,
    'root-filesystem': 240,
    'init': 180,
    'config-drive': 300,
}

# Escape sequences edk2 and GRUB paint the screen with.
_ESCAPES = re.compile(r'\x1b(\[[0-9;?=<>]*[ -/]*[@-~]|[()][0-9A-Za-z]|[=>78])')
_BOOT_ENTRY = re.compile(r'BdsDxe: starting Boot[0-9A-Fa-f]{4} "([^"]*)"')
_LOAD_FAILED = re.compile(
    r'BdsDxe: failed to load (Boot[0-9A-Fa-f]{4} "[^"]*").*: (.*)$')
_FALLBACK_ENTRY = re.compile(r'PXE|HTTP|Shell|UiApp', re.I)
# The kernel's first lines, or any line with a printk timestamp (a
# kernel booted with "quiet" still prints its warnings).
_KERNEL = re.compile(r'Booting Linux on physical CPU|Linux version \d+\.\d+'
                     r'|^\[ *\d+\.\d{6}\] ')
# The root is mounted: by the kernel itself, or the filesystem's own
# line when an initramfs mounts it.
_ROOT = re.compile(r'VFS: Mounted root \(|EXT4-fs \([^)]*\): mounted '
                   r'filesystem|XFS \([^)]*\): Ending clean mount'
                   r'|BTRFS info \(device [^)]*\): (use|enabling|disk)')
# An init from the root runs: systemd, sysvinit, or the kernel starting
# one without an initramfs.
_INIT = re.compile(r'systemd\[1\]: |Welcome to (?!GRUB).*!|INIT: version'
                   r'|Run /(s?bin|etc)/\S+ as init process')
_LOGIN = re.compile(r'^(\S+) login: *$')
_PROMPT = re.compile(r'(>|login:|\(initramfs\)) *$')

# (criterion, pattern, what it means), checked in this order on each
# line, so "Kernel panic - not syncing: VFS: Unable to mount root fs"
# names the root, not init.
_FAILURES = (
    ('firmware-boots-disk',
     re.compile(r'UEFI Interactive Shell|startup\.nsh|^Shell> *$'),
     'the firmware fell back to the UEFI shell'),
    ('firmware-boots-disk',
     re.compile(r'No bootable option or device was found'),
     'the firmware found nothing to boot'),
    ('kernel-console', re.compile(r'^grub( rescue)?> *$'),
     'GRUB stopped at its prompt without loading a kernel'),
    ('root-filesystem',
     re.compile(r'ALERT! .* does not exist|Gave up waiting for root'
                r'|VFS: Unable to mount root fs|^\(initramfs\) *$'),
     'the root filesystem was not found or not mounted'),
    ('init', re.compile(r'No init found|No working init found'),
     'there is no init to run on the root filesystem'),
    ('init', re.compile(r'Kernel panic - not syncing'),
     'the kernel panicked'),
)


@dataclasses.dataclass
class Outcome:
    name: str
    status: str = NOT_REACHED
    at: float | None = None
    evidence: str = ''

    def as_dict(self):
        return dataclasses.asdict(self)


class Console:
    """Feed it console output; it decides each criterion as it can."""

    def __init__(self, hostname, boot_entry='QEMU HARDDISK', keep=400,
                 deadlines=None):
        self.hostname = hostname
        self.deadlines = dict(DEADLINES, **(deadlines or {}))
        # The whole name, not a part of a longer word or host name.
        self._hostname = re.compile(
            r'(?<![\w.-])' + re.escape(hostname) + r'(?![\w-])')
        self.boot_entry = boot_entry
        self.outcomes = {name: Outcome(name) for name in NAMES}
        self.lines = []
        self.keep = keep
        self._partial = ''
        self._load_failure = ''

    @property
    def verdict(self):
        """PASS, FAIL, or None while the boot is still undecided."""
        if any(o.status == FAIL for o in self.outcomes.values()):
            return FAIL
        if self.outcomes[NAMES[-1]].status == PASS:
            return PASS
        return None

    @property
    def first_failure(self):
        return next((o for o in self.outcomes.values()
                     if o.status == FAIL), None)

    def feed(self, text, at):
        """Read more console output, seen ``at`` seconds into the boot."""
        text = _ESCAPES.sub('', self._partial + text).replace('\r\n', '\n')
        *complete, self._partial = re.split(r'[\r\n]', text)
        for line in complete:
            self._remember(line)
            self._read(line, at)
        # Prompts wait for input without ending their line; anything else
        # is read once it is complete.
        if _PROMPT.search(self._partial):
            self._read(self._partial, at)

    def finish(self, at, why):
        """Nothing more will come: fail the first stage not yet passed."""
        if self.verdict is not None:
            return
        if self._partial.strip():
            self._remember(self._partial)
            self._partial = ''
        pending = next(o for o in self.outcomes.values()
                       if o.status != PASS)
        self._decide(pending.name, FAIL, at, why)

    @property
    def pending(self):
        """The first stage not yet decided, or None."""
        return next((o for o in self.outcomes.values()
                     if o.status == NOT_REACHED), None)

    def overdue(self, at):
        """Fail the pending stage if its deadline passed by ``at``
        seconds into the boot; True if it did."""
        pending = self.pending
        if self.verdict is not None or pending is None:
            return False
        index = NAMES.index(pending.name)
        since = self.outcomes[NAMES[index - 1]].at if index else 0.0
        limit = self.deadlines[pending.name]
        if at - since < limit:
            return False
        after = f'after {NAMES[index - 1]} passed' if index else \
            'of the start'
        self.finish(at, f'not seen within {limit}s {after}')
        return True

    def tail(self, count=25):
        lines = self.lines + ([self._partial] if self._partial else [])
        return [line for line in lines if line.strip()][-count:]

    def _remember(self, line):
        self.lines.append(line)
        del self.lines[:-self.keep]

    def _read(self, line, at):
        if self.verdict is not None:
            return
        line = line.strip()
        entry = _BOOT_ENTRY.search(line)
        if entry:
            if self.boot_entry in entry.group(1):
                self._decide('firmware-boots-disk', PASS, at, line)
            elif _FALLBACK_ENTRY.search(entry.group(1)):
                self._decide('firmware-boots-disk', FAIL, at,
                             f'the firmware started "{entry.group(1)}" '
                             f'instead of the disk{self._load_failure}')
            return
        failed = _LOAD_FAILED.search(line)
        if failed:
            self._load_failure = (f' (it failed to load {failed.group(1)}: '
                                  f'{failed.group(2)})')
            return
        for name, pattern, meaning in _FAILURES:
            if pattern.search(line):
                self._decide(name, FAIL, at, f'{meaning}: {line}')
                return
        if _KERNEL.search(line):
            self._decide('kernel-console', PASS, at, line)
        if _ROOT.search(line):
            self._decide('root-filesystem', PASS, at, line)
        if _INIT.search(line):
            self._decide('init', PASS, at, line)
        login = _LOGIN.match(line)
        if login and login.group(1) != self.hostname:
            self._decide('config-drive', FAIL, at,
                         f'booted to a login prompt as {login.group(1)!r}, '
                         f'not as the config drive\'s {self.hostname!r}: '
                         f'{line}')
        elif self._hostname.search(line):
            self._decide('config-drive', PASS, at, line)

    def _decide(self, name, status, at, evidence):
        if status == FAIL and self.outcomes[name].status == PASS:
            # E.g. the firmware's shell after the disk's loader ran and
            # returned: the stage that did not happen is the one to fail.
            name = next(o.name for o in self.outcomes.values()
                        if o.status == NOT_REACHED)
        outcome = self.outcomes[name]
        if outcome.status != NOT_REACHED:
            return
        outcome.status, outcome.at, outcome.evidence = status, at, evidence
        # Reaching a stage, even to fail it, means the earlier ones passed.
        for earlier in NAMES[:NAMES.index(name)]:
            if self.outcomes[earlier].status == NOT_REACHED:
                self._decide(earlier, PASS, at, f'implied: {name} was reached')
