"""The config set as the checker walks it: the files, and what rules
derive from all of them at once.

The files are read by the one reader of Nodepool and Zuul config
(``formats.configset``); what is added here is the checker's own
knowledge: which labels the set serves, which it could be expected to
serve (by architecture), and the zuul-launcher objects it defines.
"""

from nodepool_aarch64.check import archinfo
from nodepool_aarch64.check import zuul_launcher_objects
from nodepool_aarch64.formats import configset as reader


class ConfigSet(reader.ConfigSet):

    def __init__(self):
        super().__init__()
        self._zuul_launcher = None
        self._reach = None
        # Facts rules derive from the whole set, worked out once: asked
        # per label of every file, they would make a check quadratic.
        self.memo = {}

    def served_labels(self):
        served = set()
        for f in self.launchers:
            served |= f.served_labels
        return served | self.zuul_launcher.served_labels()

    def within_reach(self, label):
        """Whether the set's launchers could be expected to serve a label.

        A launcher knows the labels its file declares and the kind of
        machine its clouds run: an Arm64 launcher set says nothing about
        ``centos-8``, which the tenant's x86 launchers serve.  A label's
        architecture is read from its name; a name without one is taken
        for x86, as OpenDev names labels.
        """
        if self._reach is None:
            declared = set(self.zuul_launcher.defs['label'])
            arches = set()
            for f in self.launchers:
                declared |= f.label_names
                for served in f.served_pool_labels:
                    arches.add(archinfo.label_arch(self, served) or
                               archinfo.name_arch(served.name))
            for name in self.zuul_launcher.served_labels():
                arches.add(archinfo.name_arch(name))
            self._reach = (declared, arches)
        declared, arches = self._reach
        return label in declared or archinfo.name_arch(label) in arches

    @property
    def zuul_launcher(self):
        if self._zuul_launcher is None:
            self._zuul_launcher = zuul_launcher_objects.LauncherObjects(
                self.zuul)
        return self._zuul_launcher

    @property
    def has_servers(self):
        """Whether the set holds anything that serves labels at all."""
        return bool(self.launchers) or any(
            f.bodies('provider') for f in self.zuul)


def load(paths):
    """Read PATHs (files or directories) into the checker's ConfigSet."""
    return reader.load(paths, ConfigSet())
