"""The inventory model: immutable objects every renderer and check shares.

The Arm64 defaults live here, in one place: an arm64 diskimage always
carries the UEFI boot metadata Nova and libvirt need, is built with the
``block-device-efi`` element and boots with a config drive; Arm64
providers get the longer boot and launch timeouts that emulated-firmware
boots on Linaro's clouds needed.
"""

import dataclasses
import datetime
import types

from nodepool_aarch64 import timeutil

# The architecture as the inventory, diskimage-builder's ARCH and Debian
# name it; the other names it goes by (the kernel's and Glance's), which
# labels, jobs and hosts use as often.
ARM64 = 'arm64'
AMD64 = 'amd64'
ARM64_NAMES = (ARM64, 'aarch64')

# The image property that picks the guest firmware; an AArch64 guest has
# no BIOS, so it must be UEFI.
FIRMWARE_KEY = 'hw_firmware_type'
UEFI = 'uefi'

# Image properties Nova reads to boot an AArch64 guest: UEFI firmware,
# a virtio-scsi disk and the PL011 serial console, so the console log is
# readable.
UEFI_METADATA = types.MappingProxyType({
    FIRMWARE_KEY: UEFI,
    'hw_disk_bus': 'scsi',
    'hw_scsi_model': 'virtio-scsi',
    'os_command_line': 'console=ttyAMA0',
})
EFI_ELEMENT = 'block-device-efi'


@dataclasses.dataclass(frozen=True)
class UefiBoot:
    """How Nova boots a guest from an image's properties.

    Read from the same metadata the renderers upload, so a boot check
    (``nodepool_aarch64.imagecheck``) boots the image the way the cloud
    will: ``firmware`` is ``hw_firmware_type``, ``disk_bus`` and
    ``scsi_model`` are ``hw_disk_bus`` and ``hw_scsi_model`` (``None``
    unless the bus is scsi), and ``console`` is the serial console named
    by ``console=`` in ``os_command_line``, whose output Nova's console
    log records.
    """

    firmware: str
    disk_bus: str
    scsi_model: str | None
    console: str


def uefi_boot(metadata=UEFI_METADATA):
    """The UefiBoot an image with ``metadata`` gets from Nova.

    Raises ValueError naming the property when the metadata does not
    describe a UEFI boot that an AArch64 cloud can do.
    """
    firmware = metadata.get(FIRMWARE_KEY)
    if firmware != UEFI:
        raise ValueError(f'{FIRMWARE_KEY} is {firmware!r}; an AArch64 '
                         f'guest boots only with {UEFI!r}')
    bus = metadata.get('hw_disk_bus', 'virtio')
    if bus not in ('scsi', 'virtio'):
        raise ValueError(f'hw_disk_bus {bus!r} is not scsi or virtio')
    model = None
    if bus == 'scsi':
        model = metadata.get('hw_scsi_model')
        if model != 'virtio-scsi':
            raise ValueError(f'hw_scsi_model is {model!r}; scsi disks on '
                             "AArch64 need 'virtio-scsi'")
    consoles = [word.split('=', 1)[1].split(',')[0] for word in
                str(metadata.get('os_command_line', '')).split()
                if word.startswith('console=')]
    # The PL011 UART of the virt machine, where Nova's console log reads.
    console = consoles[-1] if consoles else 'ttyAMA0'
    return UefiBoot(firmware, bus, model, console)


# Seconds.  Arm64 guests boot through UEFI firmware and were observed to
# take several minutes on the donated clouds; x86 used 120 / 600.
ARM64_BOOT_TIMEOUT = 600
ARM64_LAUNCH_TIMEOUT = 800

# diskimage-builder elements for a minimal cloud image of each distro.
DISTRO_ELEMENTS = types.MappingProxyType({
    'ubuntu': ('ubuntu-minimal', 'vm', 'simple-init', 'growroot'),
    'debian': ('debian-minimal', 'vm', 'simple-init', 'growroot'),
    'centos': ('centos', 'vm', 'simple-init', 'growroot'),
    'fedora': ('fedora', 'vm', 'simple-init', 'growroot'),
})

QUOTA_KEYS = ('instances', 'cores', 'ram', 'floating-ips', 'addresses')


@dataclasses.dataclass(frozen=True)
class Quota:
    """Cloud limits, or amounts reserved out of them (None: no limit).

    ``ram`` is in MiB, as Nova reports it; ``addresses`` is the number of
    usable addresses on the node subnet.
    """

    instances: int | None = None
    cores: int | None = None
    ram: int | None = None
    floating_ips: int | None = None
    addresses: int | None = None

    def get(self, key):
        return getattr(self, key.replace('-', '_'))


@dataclasses.dataclass(frozen=True)
class Flavor:
    name: str
    vcpus: int
    ram: int  # MiB


@dataclasses.dataclass(frozen=True)
class Diskimage:
    name: str
    distro: str
    release: str
    arch: str
    elements: tuple
    env_vars: types.MappingProxyType
    metadata: types.MappingProxyType
    config_drive: bool

    @property
    def is_arm64(self):
        return self.arch == ARM64


@dataclasses.dataclass(frozen=True)
class Label:
    name: str
    diskimage: str
    flavor: str
    min_ready: int
    providers: tuple


class UnmappedFlavor(LookupError):
    """A provider was asked for the cloud's name of a flavor it does not
    map."""


@dataclasses.dataclass(frozen=True)
class Provider:
    """One cloud region as one Nodepool provider with one pool."""

    name: str
    cloud: str
    region: str
    # Every host that runs this provider: Nodepool shares its max-servers
    # among them through ZooKeeper, and any one of them serves a request.
    # Empty (and no builder): no Nodepool; zuul-launcher serves it.
    launchers: tuple
    builder: str | None
    quota: Quota
    reserved: Quota
    max_servers: int | None
    network: str | None
    key_name: str | None
    executor_zone: str | None
    mirror: str | None
    boot_timeout: int
    launch_timeout: int
    launch_retries: int
    flavor_names: types.MappingProxyType

    @property
    def reserved_servers(self):
        return self.reserved.instances or 0

    def flavor_name(self, flavor):
        """The cloud's own name for a logical flavor.

        There is no fallback to the logical name: that would write a
        flavor-name the cloud may not have, and nodes that never launch.
        The loader refuses a provider that serves a label whose flavor
        it does not map (mapping a flavor to its own name says the cloud
        calls it that); a model built otherwise raises UnmappedFlavor.
        """
        try:
            return self.flavor_names[flavor]
        except KeyError:
            raise UnmappedFlavor(f'provider {self.name} has no mapping for '
                                 f'flavor {flavor}') from None


WEEKDAYS = timeutil.WEEKDAYS


def _seconds(t):
    return t.hour * timeutil.HOUR + t.minute * 60 + t.second


@dataclasses.dataclass(frozen=True)
class Window:
    """A capacity window: weekly hours, or a one-off period.

    Weekly windows hold when the weekday is in ``days`` and the UTC time
    of day is in [start, end); an end at or before the start wraps past
    midnight.  One-off windows (``starts``/``ends`` set) hold in
    [starts, ends).  Later windows in the inventory win over earlier ones
    (``in_force``).  ``intervals`` is the one place that says when a
    window holds; everything else asks it.
    """

    name: str
    days: frozenset
    start: datetime.time
    end: datetime.time
    starts: datetime.datetime | None
    ends: datetime.datetime | None
    max_servers: types.MappingProxyType
    min_ready: types.MappingProxyType

    def intervals(self, week0=None):
        """[a, b) seconds of the week (``timeutil.week_start``) when the
        window holds.

        A weekly window whose end is not after its start runs past
        midnight into the next day, and past Sunday into Monday 00:00.
        One-off windows are clipped to the week that begins at ``week0``
        (exactly, so bounds may be fractions of a second); without
        ``week0`` they are left out, since a recurring week cannot hold
        them.
        """
        week = timeutil.WEEK
        if self.starts is not None:
            if week0 is None:
                return []
            lo = max(0.0, (self.starts - week0).total_seconds())
            hi = min(week, (self.ends - week0).total_seconds())
            return [(lo, hi)] if lo < hi else []
        start, end = _seconds(self.start), _seconds(self.end)
        # Wrapping midnight: the part after it belongs to the day before,
        # so "fri 22:00-06:00" covers Saturday early morning.
        length = end - start if end > start else end + timeutil.DAY - start
        intervals = []
        for day in sorted(self.days):
            a = day * timeutil.DAY + start
            b = a + length
            if b <= week:
                intervals.append((a, b))
            else:
                intervals.append((a, week))
                intervals.append((0, b - week))
        return intervals

    def matches(self, at):
        """Whether the window holds at an instant."""
        at = timeutil.as_utc(at)
        second = timeutil.second_of_week(at)
        return any(a <= second < b
                   for a, b in self.intervals(timeutil.week_start(at)))


def in_force(base, windows, field):
    """``base`` (name -> value) with the windows' ``field`` laid over it.

    ``field`` is ``'max_servers'`` (provider names) or ``'min_ready'``
    (label names); each window sets the names it lists, in order, so
    where windows overlap the one listed later wins.  Names that are not
    in ``base`` are ignored.
    """
    current = dict(base)
    for window in windows:
        for name, value in getattr(window, field).items():
            if name in current:
                current[name] = value
    return current


@dataclasses.dataclass(frozen=True)
class Zookeeper:
    servers: tuple  # of (host, port)
    tls_ca: str | None
    tls_cert: str | None
    tls_key: str | None


@dataclasses.dataclass(frozen=True)
class Inventory:
    path: str
    zookeeper: Zookeeper
    images_dir: str
    build_log_dir: str
    providers: tuple
    flavors: types.MappingProxyType
    diskimages: types.MappingProxyType
    labels: tuple
    headroom: float
    windows: tuple

    def provider(self, name):
        return next(p for p in self.providers if p.name == name)

    def label(self, name):
        return next(label for label in self.labels if label.name == name)

    @property
    def launchers(self):
        return tuple(dict.fromkeys(host for p in self.providers
                                   for host in p.launchers))

    @property
    def builders(self):
        return tuple(dict.fromkeys(p.builder for p in self.providers
                                   if p.builder is not None))

    def labels_for(self, provider):
        return tuple(label for label in self.labels
                     if provider.name in label.providers)

    def label_launchers(self, label):
        """The launcher hosts that serve a label, in inventory order."""
        return tuple(dict.fromkeys(
            host for p in self.providers if p.name in label.providers
            for host in p.launchers))

    def flavors_for(self, provider):
        names = dict.fromkeys(label.flavor
                              for label in self.labels_for(provider))
        return tuple(self.flavors[name] for name in names)

    def diskimages_for(self, provider):
        names = dict.fromkeys(label.diskimage
                              for label in self.labels_for(provider))
        return tuple(self.diskimages[name] for name in names)

    def active_windows(self, at):
        return tuple(w for w in self.windows if w.matches(at))

    def windows_at(self, at=None):
        """The windows in force at ``at``, in order (none without it)."""
        return self.active_windows(at) if at is not None else ()

    def max_servers_at(self, provider, at=None):
        """The max-servers cap an admin set for a provider, in force at
        ``at`` (None: no cap, the quota alone decides; ``sizing`` turns
        it into servers)."""
        return in_force({provider.name: provider.max_servers},
                        self.windows_at(at), 'max_servers')[provider.name]

    def min_ready_at(self, label, at=None):
        """A label's min-ready in force at ``at``."""
        return in_force({label.name: label.min_ready},
                        self.windows_at(at), 'min_ready')[label.name]
