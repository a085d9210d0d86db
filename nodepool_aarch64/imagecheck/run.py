"""Drive one boot: config drive, firmware variables, qemu, the console.

The image is attached with ``snapshot=on``: a check never writes to the
image it checks, so the image that passed is the image that is uploaded.
"""

import dataclasses
import os
import shutil
import stat
import subprocess
import tempfile
import time
import uuid

from nodepool_aarch64 import children
from nodepool_aarch64.formats.write import atomic_write
from nodepool_aarch64.imagecheck import configdrive
from nodepool_aarch64.imagecheck import criteria
from nodepool_aarch64.imagecheck import qemu

QCOW2_MAGIC = b'QFI\xfb'
POLL_SECONDS = 0.25
STOP_GRACE = 5


class UnusableImage(Exception):
    """The image cannot be booted at all (missing, wrong format)."""


class ConsoleLogUnwritable(Exception):
    """The boot ended, but the console could not be kept where asked."""

    def __init__(self, path, error):
        super().__init__(f'cannot write: {error.strerror}')
        self.path = path


@dataclasses.dataclass
class Result:
    verdict: str
    outcomes: list
    elapsed: float
    hostname: str
    tail: list
    command: list

    @property
    def first_failure(self):
        return next((o for o in self.outcomes
                     if o.status == criteria.FAIL), None)

    def as_dict(self):
        return {'verdict': self.verdict,
                'elapsed': round(self.elapsed, 1),
                'hostname': self.hostname,
                'criteria': [o.as_dict() for o in self.outcomes],
                'console_tail': self.tail,
                'command': self.command}


def image_format(path, requested=None):
    """The image's format from its header, checked against ``requested``.

    Only a regular file is an image: a device would be read without end
    and a FIFO would block, so the file is opened without blocking and
    checked before anything is read from it.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as e:
        raise UnusableImage(f'cannot read the image: {e.strerror}')
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise UnusableImage('not a regular file (a device, FIFO or '
                                'directory is no disk image)')
        magic = os.read(fd, 4)
    except OSError as e:
        raise UnusableImage(f'cannot read the image: {e.strerror}')
    finally:
        os.close(fd)
    found = 'qcow2' if magic == QCOW2_MAGIC else 'raw'
    if requested and requested != found:
        raise UnusableImage(f'--disk-format {requested} given, but the '
                            f'image is {found}')
    if info.st_size < 512 * 34:
        raise UnusableImage('too small to hold a partition table')
    return found


def _unnamed():
    """A temporary file with no name (O_TMPFILE where the filesystem has
    it): nothing is left behind, even if this process is killed."""
    return tempfile.TemporaryFile(prefix='image-check-')


def _path(f):
    # What qemu opens to reach a file passed to it by descriptor.
    return f'/dev/fd/{f.fileno()}'


def check(image, boot, timeout, requested_format=None, accel=None,
          memory=1024, cpus=1, console_log=None, acpi=True, deadlines=None):
    """Boot ``image`` once and return a Result.

    The firmware variables, config drive and console live in unnamed
    files that qemu reaches through inherited descriptors.  The console
    is copied to ``console_log`` (replaced atomically) only once the
    boot has a verdict: an unusable image or a stop leaves it as it was.
    """
    fmt = image_format(image, requested_format)
    code, vars_template = qemu.firmware()
    hostname = 'image-check-' + uuid.uuid4().hex[:10]
    with _unnamed() as vars_file, _unnamed() as drive, \
            _unnamed() as serial, _unnamed() as qemu_log:
        with open(vars_template, 'rb') as template:
            # A fresh variable store per boot, as Nova gives each guest:
            # no boot entry left by an earlier boot can hide a missing
            # one.
            shutil.copyfileobj(template, vars_file)
        vars_file.flush()
        configdrive.build(drive, hostname, str(uuid.uuid4()))
        guest = qemu.Guest(
            image=os.path.abspath(image), image_format=fmt, code=code,
            vars=_path(vars_file), config_drive=_path(drive),
            console_log=_path(serial), memory=memory, cpus=cpus,
            accel=accel or qemu.best_accel(), acpi=acpi)
        argv = qemu.command(boot, guest)
        console = criteria.Console(hostname, qemu.boot_entry_pattern(boot),
                                   deadlines=deadlines)
        fds = tuple(f.fileno() for f in (vars_file, drive, serial))
        # qemu names the overlay of snapshot=on in its TMPDIR for the
        # moment it takes to open it: a directory of its own, which the
        # guardian removes if this process is killed in that moment.
        with children.temporary_directory(prefix='image-check-') as tmp:
            elapsed = _boot(argv, fds, serial, console, timeout, qemu_log,
                            dict(os.environ, TMPDIR=tmp))
        if console_log is not None:
            serial.seek(0)
            try:
                atomic_write(console_log, serial.read())
            except OSError as e:
                raise ConsoleLogUnwritable(console_log, e)
    return Result(console.verdict, list(console.outcomes.values()),
                  elapsed, hostname, console.tail(), argv)


def _boot(argv, fds, serial, console, timeout, qemu_log, env):
    start = time.monotonic()
    proc = children.spawn(argv, stdin=subprocess.DEVNULL, stdout=qemu_log,
                          stderr=subprocess.STDOUT, pass_fds=fds, env=env)
    try:
        serial.seek(0)
        while console.verdict is None:
            now = time.monotonic() - start
            console.feed(serial.read().decode('utf-8', 'replace'), now)
            if console.verdict is not None:
                break
            if proc.poll() is not None:
                console.feed(serial.read().decode('utf-8', 'replace'), now)
                _exited(proc, qemu_log, console, now)
                break
            if console.overdue(now):
                break
            if now >= timeout:
                console.finish(now, f'not seen within {timeout}s')
                break
            time.sleep(POLL_SECONDS)
    finally:
        children.stop(proc, grace=STOP_GRACE)
    return time.monotonic() - start


def _exited(proc, qemu_log, console, now):
    qemu_log.seek(0)
    errors = ' '.join(qemu_log.read().decode(errors='replace').split())
    if proc.returncode != 0 and not console.lines and not console.tail():
        raise UnusableImage(f'qemu-system-aarch64 exited with '
                            f'{proc.returncode}: {errors[-500:]}')
    console.finish(now, 'the guest stopped before this stage')
