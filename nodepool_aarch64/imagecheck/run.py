"""Drive one boot: config drive, firmware variables, qemu, the console.

The image is attached with ``snapshot=on``: a check never writes to the
image it checks, so the image that passed is the image that is uploaded.
"""

import dataclasses
import os
import shutil
import signal
import subprocess
import tempfile
import time
import uuid

from nodepool_aarch64.imagecheck import configdrive
from nodepool_aarch64.imagecheck import criteria
from nodepool_aarch64.imagecheck import qemu

QCOW2_MAGIC = b'QFI\xfb'
POLL_SECONDS = 0.25
STOP_GRACE = 5


class UnusableImage(Exception):
    """The image cannot be booted at all (missing, wrong format)."""


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
    """The image's format from its header, checked against ``requested``."""
    try:
        with open(path, 'rb') as f:
            magic = f.read(4)
    except OSError as e:
        raise UnusableImage(f'{path}: cannot read the image: {e.strerror}')
    found = 'qcow2' if magic == QCOW2_MAGIC else 'raw'
    if requested and requested != found:
        raise UnusableImage(f'{path}: --format {requested} given, but the '
                            f'image is {found}')
    if os.path.getsize(path) < 512 * 34:
        raise UnusableImage(f'{path}: too small to hold a partition table')
    return found


def check(image, boot, timeout, requested_format=None, accel=None,
          memory=1024, cpus=1, console_log=None, acpi=True):
    """Boot ``image`` once and return a Result."""
    fmt = image_format(image, requested_format)
    code, vars_template = qemu.firmware()
    hostname = 'image-check-' + uuid.uuid4().hex[:10]
    with tempfile.TemporaryDirectory(prefix='image-check-') as work:
        guest = qemu.Guest(
            image=os.path.abspath(image), image_format=fmt, code=code,
            vars=os.path.join(work, 'VARS.fd'),
            config_drive=os.path.join(work, 'config-2.iso'),
            console_log=console_log or os.path.join(work, 'console.log'),
            memory=memory, cpus=cpus, accel=accel or qemu.best_accel(),
            acpi=acpi)
        # A fresh variable store per boot, as Nova gives each guest: no
        # boot entry left by an earlier boot can hide a missing one.
        shutil.copyfile(vars_template, guest.vars)
        configdrive.build(guest.config_drive, hostname, str(uuid.uuid4()))
        open(guest.console_log, 'wb').close()
        argv = qemu.command(boot, guest)
        console = criteria.Console(hostname, qemu.boot_entry_pattern(boot))
        elapsed = _boot(argv, guest.console_log, console, timeout,
                        os.path.join(work, 'qemu.log'))
    return Result(console.verdict, list(console.outcomes.values()),
                  elapsed, hostname, console.tail(), argv)


def _boot(argv, console_path, console, timeout, qemu_log):
    start = time.monotonic()
    with open(qemu_log, 'wb') as log:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log,
                                stderr=subprocess.STDOUT,
                                start_new_session=True)
    try:
        with open(console_path, 'rb') as serial:
            while console.verdict is None:
                now = time.monotonic() - start
                console.feed(serial.read().decode('utf-8', 'replace'), now)
                if console.verdict is not None:
                    break
                if proc.poll() is not None:
                    console.feed(serial.read().decode('utf-8', 'replace'),
                                 now)
                    _exited(proc, qemu_log, console, now)
                    break
                if now >= timeout:
                    console.finish(now, f'not seen within {timeout}s')
                    break
                time.sleep(POLL_SECONDS)
    finally:
        _stop(proc)
    return time.monotonic() - start


def _exited(proc, qemu_log, console, now):
    with open(qemu_log, errors='replace') as f:
        errors = ' '.join(f.read().split())[-500:]
    if proc.returncode != 0 and not console.lines and not console.tail():
        raise UnusableImage(f'qemu-system-aarch64 exited with '
                            f'{proc.returncode}: {errors}')
    console.finish(now, 'the guest stopped before this stage')


def _stop(proc):
    if proc.poll() is not None:
        return
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(STOP_GRACE)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
