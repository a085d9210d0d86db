"""Labels that outlive the loss of a launcher host.

Several nodepool-launchers share one ZooKeeper; when one dies, its
session expires, its locks and requests are released, and any other
launcher serving the label takes them.  A label that one launcher file
alone serves has no such other launcher: its requests wait until that
host is back.  Each launcher file is one nodepool-launcher, so the files
of the set stand for its hosts.  zuul-launcher is left out: every one of
its processes serves every provider of the tenant, and how many run is
not written in any config.
"""

from nodepool_aarch64.check.rules import WARNING, rule

CODE = 'NPA080'


def label_hosts(configset):
    """label name -> {launcher file path: first pool label serving it}.

    Disabled pools (``max-servers: 0``) serve nothing, so they do not
    count as a second host.
    """
    hosts = {}
    for f in configset.launchers:
        for label in f.served_pool_labels:
            if isinstance(label.name, str):
                hosts.setdefault(label.name, {}).setdefault(f.path, label)
    return hosts


@rule(CODE, WARNING, 'a label only one launcher host serves: when that '
      'host is lost, its requests wait until it returns (judged when the '
      'set holds two or more launcher configs)')
def single_launcher(configset, context):
    # One launcher config alone cannot tell whether the site runs another
    # launcher that was not given.
    if len(configset.launchers) < 2:
        return
    for name, by_file in sorted(label_hosts(configset).items()):
        if len(by_file) != 1:
            continue
        (label,) = by_file.values()
        host = label.source.name
        yield label.source.finding(
            label.data, CODE, WARNING,
            f'label {name} is served by launcher {host} alone (of the '
            f'launcher configs checked); if {host} is lost its requests '
            f'wait until it returns: serve {name} from a second launcher '
            f'host too', key='name')
