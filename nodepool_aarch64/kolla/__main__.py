"""``python -m nodepool_aarch64.kolla ARGS``: ``nodepool-aarch64
kolla-images ARGS`` where only Kolla's own requirements are installed.

The Kolla Arm64 build job runs it on the node from this project's
checkout (``PYTHONPATH``), with the Python of Kolla's virtualenv: the
kolla package imports nothing beyond the standard library, and the
revisions it renders bring their own Kolla.
"""

import sys

from nodepool_aarch64 import cli

KOLLA_IMAGES = 'nodepool_aarch64.kolla.cli'

if __name__ == '__main__':
    sys.exit(cli.main(['kolla-images'] + sys.argv[1:],
                      subcommands=(KOLLA_IMAGES,)))
