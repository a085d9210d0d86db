"""A tenant in the middle of a move from Nodepool to zuul-launcher.

Nodepool still serves one region's labels, zuul-launcher already serves
another's, and some labels are served by both while a region moves.
Checked together, a label either one serves is served; a label neither
serves is still NPA010; a min-ready set in both adds up (NPA032).
"""

from nodepool_aarch64.check import runner
from tests import base

NODEPOOL = """\
labels:
  - name: ubuntu-noble-arm64
    min-ready: {min_ready}
  - name: debian-bookworm-arm64
diskimages:
  - name: ubuntu-noble-arm64
  - name: debian-bookworm-arm64
providers:
  - name: linaro-us
    cloud: linaro-us
    boot-timeout: 600
    launch-timeout: 800
    launch-retries: 3
    diskimages:
      - name: ubuntu-noble-arm64
        meta: {{hw_firmware_type: uefi}}
      - name: debian-bookworm-arm64
        meta: {{hw_firmware_type: uefi}}
    pools:
      - name: main
        max-servers: 30
        labels:
          - name: ubuntu-noble-arm64
            diskimage: ubuntu-noble-arm64
            flavor-name: os.large
          - name: debian-bookworm-arm64
            diskimage: debian-bookworm-arm64
            flavor-name: os.large
"""

ZUUL_LAUNCHER = """\
- image: {{name: ubuntu-noble-arm64, type: zuul}}
- image: {{name: ubuntu-resolute-arm64, type: zuul}}
- flavor: {{name: large}}
- label:
    name: ubuntu-noble-arm64
    image: ubuntu-noble-arm64
    flavor: large
    min-ready: {min_ready}
- label:
    name: ubuntu-resolute-arm64
    image: ubuntu-resolute-arm64
    flavor: large
- section:
    name: osuosl
    connection: osuosl
    region: RegionOne
    launch-timeout: 800
    label-defaults: {{boot-timeout: 600}}
    image-defaults: {{tags: {{hw_firmware_type: uefi}}}}
    flavors:
      - {{name: large, flavor-name: opendev.large}}
    images: [ubuntu-noble-arm64, ubuntu-resolute-arm64]
    labels: [ubuntu-noble-arm64, ubuntu-resolute-arm64]
- provider: {{name: osuosl-regionone, section: osuosl}}
"""

NODESETS = """\
- nodeset:
    name: ubuntu-noble-arm64
    nodes: [{name: n, label: ubuntu-noble-arm64}]
- nodeset:
    name: debian-bookworm-arm64
    nodes: [{name: n, label: debian-bookworm-arm64}]
- nodeset:
    name: ubuntu-resolute-arm64
    nodes: [{name: n, label: ubuntu-resolute-arm64}]
- nodeset:
    name: centos-10-arm64
    nodes: [{name: n, label: centos-10-arm64}]
"""


class TestMigration(base.TestCase):

    def check(self, nodepool_min_ready=0, launcher_min_ready=0):
        root = self.tempdir()
        self.write(root, 'project-config/nodepool/nl03.yaml',
                   NODEPOOL.format(min_ready=nodepool_min_ready))
        self.write(root, 'zuul-providers/zuul.d/launcher.yaml',
                   ZUUL_LAUNCHER.format(min_ready=launcher_min_ready))
        self.write(root, 'project-config/zuul.d/nodesets.yaml', NODESETS)
        return runner.run([root])

    def test_either_launcher_serves(self):
        result = self.check()
        (missing,) = result.findings
        self.assertEqual('NPA010', missing.code)
        self.assertIn('label centos-10-arm64', missing.message)
        self.assertEqual([], result.unchecked_labels)

    def test_min_ready_in_both_adds_up(self):
        result = self.check(nodepool_min_ready=1, launcher_min_ready=1)
        found = [f for f in result.findings if f.code == 'NPA032']
        self.assertEqual(1, len(found), [str(f) for f in result.findings])
        self.assertIn('in zuul-launcher and 1 in Nodepool',
                      found[0].message)
        self.assertTrue(found[0].path.endswith('launcher.yaml'))

    def test_min_ready_in_one_of_them(self):
        result = self.check(nodepool_min_ready=0, launcher_min_ready=1)
        self.assertEqual([], [f for f in result.findings
                              if f.code == 'NPA032'])
