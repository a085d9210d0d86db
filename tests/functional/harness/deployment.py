"""The rendered inventory served by a real launcher on the fake cloud.

The flow mirrors a site's deployment with one extra step the harness
owns:

1. ``nodepool-aarch64`` (the project's CLI, run as a separate process:
   ``render`` first, ``capacity apply`` for changes) writes the launcher
   config into a staging directory, as it would on the launcher host;
2. ``deploy()`` switches that file to the fake cloud and installs it with
   the project's atomic writer over the file the running launcher reads,
   only when the result differs (Nodepool reloads on a new mtime);
3. the launcher, on a TLS ZooKeeper, serves node requests that a
   Zuul-like requestor submits through ZooKeeper.

So whatever the CLI writes (or refuses to write) is exactly what reaches
the launcher.
"""

import os
import sys
import time

import fixtures
import yaml

from nodepool_aarch64.formats.write import atomic_write
from tests import base
from tests.functional.harness import artefacts
from tests.functional.harness import fake_cloud
from tests.functional.harness import launcher as launcher_mod
from tests.functional.harness import requestor as requestor_mod
from tests.functional.harness import zookeeper as zookeeper_mod

LAUNCHER_HOST = 'nl03.opendev.org'
READY_TIMEOUT = 60


run_cli = base.run_cli_process


def load_yaml(path):
    with open(path) as f:
        return yaml.safe_load(f)


class LauncherDeployment(fixtures.Fixture):
    """ZooKeeper, launcher and requestor for one test.

    The first config comes from ``render``, with the capacity windows
    active at ``at`` (ISO 8601 UTC) if given: the same text ``capacity
    apply --at`` writes, without loading Nodepool's validator (seconds
    on a busy machine).  ``test`` gets the logs and configs as artefacts
    if it fails.
    """

    def __init__(self, test, at=None):
        super().__init__()
        self.test = test
        self.at = at

    def _setUp(self):
        self.base = self.useFixture(fixtures.TempDir()).path
        self.staging = os.path.join(self.base, 'rendered')
        self.staged_config = os.path.join(
            self.staging, 'nodepool', LAUNCHER_HOST + '.yaml')
        self.zookeeper = None
        self.launcher = None
        save = artefacts.keep_on_failure(self.test, self._artefacts)
        try:
            self._start()
        except Exception:
            # Our cleanups (and the temporary directory's) run before the
            # test sees this exception: keep the logs now.
            save(sys.exc_info())
            raise

    def _start(self):
        self.zookeeper = self.useFixture(
            zookeeper_mod.TLSZooKeeper(self.base))
        args = ['render', '--output-dir', self.staging]
        if self.at:
            args += ['--at', self.at]
        result = run_cli(*args)
        if result.returncode != 0:
            raise AssertionError('the first config did not render: %s'
                                 % result.stderr)
        self.rendered = load_yaml(self.staged_config)
        fake = fake_cloud.fake_launcher_config(self.rendered, self.zookeeper)
        self.launcher = self.useFixture(launcher_mod.NodepoolLauncher(
            os.path.join(self.base, 'launcher'), fake,
            fake_cloud.clouds_yaml(fake)))
        self.requestor = self.useFixture(
            requestor_mod.Requestor(self.zookeeper))
        self.wait_for_pools(fake_cloud.max_servers(self.rendered))

    def _artefacts(self):
        paths = [self.staged_config]
        if self.zookeeper is not None:
            paths += [self.zookeeper.log_path, self.zookeeper.config_path]
        if self.launcher is not None:
            paths += [self.launcher.log_path, self.launcher.config_path]
        return paths

    def apply_capacity(self, at, inventory=None):
        """``capacity apply --at AT`` into staging, then ``deploy()``.

        Returns (CompletedProcess, whether the launcher's file changed).
        """
        args = ['capacity', 'apply', '--at', at,
                '--output', self.staged_config, '--launcher', LAUNCHER_HOST]
        if inventory:
            args += ['--inventory', inventory]
        result = run_cli(*args)
        return result, self.deploy()

    def deploy(self):
        """Install the staged config on the launcher; True if it changed."""
        staged = load_yaml(self.staged_config)
        text = yaml.safe_dump(
            fake_cloud.fake_launcher_config(staged, self.zookeeper),
            default_flow_style=False)
        with open(self.launcher.config_path) as f:
            if f.read() == text:
                return False
        atomic_write(self.launcher.config_path, text)
        return True

    def wait_for_pools(self, pools, timeout=READY_TIMEOUT):
        """Wait until the launcher registered every (provider, pool)."""
        wanted = {(provider, pool) for provider, by_pool in pools.items()
                  for pool in by_pool}
        deadline = time.monotonic() + timeout
        while True:
            seen = {(p.provider_name, p.name)
                    for p in self.requestor.zk.getRegisteredPools()}
            if wanted <= seen:
                return
            if not self.launcher.alive():
                raise launcher_mod.LauncherError(
                    'nodepool-launcher exited with %s'
                    % self.launcher.proc.returncode)
            if time.monotonic() > deadline:
                raise launcher_mod.LauncherError(
                    'pools %s not registered within %ss'
                    % (sorted(wanted - seen), timeout))
            time.sleep(0.2)
