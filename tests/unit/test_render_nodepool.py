"""Rendered Nodepool config, judged by Nodepool 11's validator and loader."""

import dataclasses
import datetime
import glob
import logging
import os
import re

import fixtures
import yaml
from nodepool.cmd.config_validator import ConfigValidator
import nodepool.config

from nodepool_aarch64 import model
from nodepool_aarch64.formats.write import write_files
from nodepool_aarch64.inventory import DEFAULT_INVENTORY, load_inventory
from nodepool_aarch64.model import UnmappedFlavor
from nodepool_aarch64.render import render_all
from nodepool_aarch64.render.nodepool import launcher_config
from tests import base

UTC = datetime.timezone.utc
# Every hour of one week, plus the shipped one-off maintenance window.
INSTANTS = [datetime.datetime(2026, 11, 30, tzinfo=UTC)
            + datetime.timedelta(hours=h) for h in range(7 * 24)] + [
    datetime.datetime(2026, 12, 5, 4, tzinfo=UTC)]


class TestRenderedNodepool(base.TestCase):

    def setUp(self):
        super().setUp()
        self.inv = load_inventory()
        self.out = self.tempdir()
        write_files(self.out, render_all(self.inv))
        clouds = base.write_clouds_yaml(self.tempdir(), self.inv)
        self.useFixture(fixtures.EnvironmentVariable(
            'OS_CLIENT_CONFIG_FILE', clouds))
        self.files = sorted(glob.glob(os.path.join(self.out, 'nodepool',
                                                   '*.yaml')))

    def load(self, path):
        with open(path) as f:
            return yaml.safe_load(f)

    def test_one_file_per_launcher_and_builder(self):
        names = {os.path.basename(f) for f in self.files}
        self.assertEqual({'nl03.opendev.org.yaml', 'nl04.opendev.org.yaml',
                          'nb03.opendev.org.yaml'}, names)

    def test_every_label_served_by_two_launchers(self):
        # Either launcher host serves every provider, with the same pools
        # and max-servers (Nodepool shares them through ZooKeeper).
        nl03, nl04 = (self.load(os.path.join(self.out, 'nodepool', name))
                      for name in ('nl03.opendev.org.yaml',
                                   'nl04.opendev.org.yaml'))
        self.assertEqual(nl03['providers'], nl04['providers'])
        for label in self.inv.labels:
            self.assertEqual(2, len(self.inv.label_launchers(label)),
                             label.name)

    def test_min_ready_is_kept_by_one_launcher(self):
        # Each launcher tops min-ready up on its own; two would keep
        # twice the warm nodes.
        peak = datetime.datetime(2026, 12, 8, 14, tzinfo=UTC)
        bionic = self.inv.label('ubuntu-bionic-arm64')
        self.assertEqual(1, self.inv.min_ready_at(bionic, peak))
        min_ready = {}
        for host in self.inv.launchers:
            config = launcher_config(self.inv, host, at=peak)
            min_ready[host] = {x['name']: x['min-ready']
                               for x in config['labels']}
        self.assertEqual(1, min_ready['nl03.opendev.org'][bionic.name])
        self.assertEqual(0, min_ready['nl04.opendev.org'][bionic.name])

    def test_nodepool_validator_accepts_every_file(self):
        logger = self.useFixture(fixtures.FakeLogger(level=logging.ERROR))
        for path in self.files:
            self.assertEqual(0, ConfigValidator(path).validate(),
                             f'{path}: {logger.output}')

    def test_nodepool_loader_builds_typed_config(self):
        launcher = nodepool.config.loadConfig(
            os.path.join(self.out, 'nodepool', 'nl03.opendev.org.yaml'))
        self.assertEqual({p.name for p in self.inv.providers},
                         set(launcher.providers))
        cn1 = launcher.providers['linaro-cn1']
        self.assertEqual(600, cn1.boot_timeout)
        self.assertEqual(800, cn1.launch_timeout)
        self.assertEqual({'executor-zone': 'linaro-cn1'},
                         cn1.pools['main'].node_attributes)
        for image in cn1.diskimages.values():
            self.assertTrue(image.config_drive)
            self.assertEqual(dict(model.UEFI_METADATA), image.meta)
        builder = nodepool.config.loadConfig(
            os.path.join(self.out, 'nodepool', 'nb03.opendev.org.yaml'))
        for image in builder.diskimages.values():
            self.assertIn('block-device-efi', image.elements)
            self.assertEqual('arm64', image.env_vars['ARCH'])

    def test_served_labels_equal_nodeset_labels(self):
        served = set()
        for path in self.files:
            for provider in self.load(path).get('providers', []):
                for pool in provider.get('pools', []):
                    served |= {label['name'] for label in pool['labels']}
        nodesets = self.load(os.path.join(self.out, 'zuul.d',
                                          'nodesets.yaml'))
        wanted = {node['label'] for item in nodesets
                  for node in item['nodeset']['nodes']}
        self.assertEqual(wanted, served)
        self.assertEqual({label.name for label in self.inv.labels}, served)

    def test_every_arm64_diskimage_carries_uefi_metadata(self):
        arm64 = {d.name for d in self.inv.diskimages.values() if d.is_arm64}
        self.assertTrue(arm64)
        for path in self.files:
            for provider in self.load(path)['providers']:
                for image in provider['diskimages']:
                    if image['name'] in arm64:
                        for key, value in model.UEFI_METADATA.items():
                            self.assertEqual(value, image['meta'][key])
                        self.assertIs(True, image['config-drive'])

    def test_max_servers_within_quota_at_every_hour(self):
        for at in INSTANTS:
            config = launcher_config(self.inv, 'nl03.opendev.org', at=at)
            for provider in config['providers']:
                p = self.inv.provider(provider['name'])
                flavors = self.inv.flavors_for(p)
                q, r = p.quota, p.reserved
                servers = provider['pools'][0]['max-servers']
                if q.instances is not None:
                    self.assertLessEqual(servers, q.instances
                                         - (r.instances or 0))
                if q.floating_ips is not None:
                    self.assertLessEqual(servers, q.floating_ips
                                         - (r.floating_ips or 0))
                if q.addresses is not None:
                    self.assertLessEqual(servers, q.addresses
                                         - (r.addresses or 0))
                self.assertLessEqual(
                    servers * max(f.vcpus for f in flavors),
                    q.cores - (r.cores or 0))
                self.assertLessEqual(
                    servers * max(f.ram for f in flavors),
                    q.ram - (r.ram or 0))

    def test_windows_change_the_rendered_capacity(self):
        def servers(at):
            config = launcher_config(self.inv, 'nl03.opendev.org', at=at)
            return {p['name']: p['pools'][0]['max-servers']
                    for p in config['providers']}
        quiet = servers(datetime.datetime(2026, 11, 29, 3, tzinfo=UTC))
        peak = servers(datetime.datetime(2026, 12, 1, 14, tzinfo=UTC))
        maintenance = servers(datetime.datetime(2026, 12, 5, 4, tzinfo=UTC))
        self.assertGreater(peak['linaro-us'], quiet['linaro-us'])
        self.assertEqual(0, maintenance['linaro-cn1'])
        self.assertEqual(quiet['linaro-london'], peak['linaro-london'])


def drop_xlarge(doc):
    """linaro-us serves a label of arm64-xlarge and no longer maps it."""
    us = next(p for p in doc['providers'] if p['name'] == 'linaro-us')
    del us['flavors']['arm64-xlarge']


class TestUnmappedFlavor(base.TestCase):
    """A provider must say what its cloud calls each flavor it boots."""

    def render(self, edit):
        with open(DEFAULT_INVENTORY) as f:
            doc = yaml.safe_load(f)
        edit(doc)
        work = self.tempdir()
        inventory = self.write(work, 'inventory.yaml',
                               yaml.safe_dump(doc, sort_keys=False))
        out = os.path.join(work, 'out')
        code, stdout, err = self.run_cli('render', '--inventory', inventory,
                                         '--output-dir', out)
        return code, err, inventory, out

    def test_unmapped_flavor_is_refused(self):
        code, err, inventory, out = self.render(drop_xlarge)
        self.assertEqual(2, code, err)
        self.assertEqual(1, len(err.splitlines()), err)
        self.assertRegex(err, re.escape(inventory) + r':\d+: '
                         r'providers\[0\]\.flavors: provider linaro-us '
                         r'serves label ubuntu-noble-arm64-large, whose '
                         r'flavor arm64-xlarge has no mapping here')
        self.assertFalse(os.path.exists(out), 'output written on error')

    def test_mapping_a_flavor_to_its_own_name_says_the_cloud_has_it(self):
        def same_name(doc):
            us = next(p for p in doc['providers']
                      if p['name'] == 'linaro-us')
            us['flavors']['arm64-xlarge'] = 'arm64-xlarge'
        code, err, _, out = self.render(same_name)
        self.assertEqual(0, code, err)
        with open(os.path.join(out, 'nodepool', 'nl03.opendev.org.yaml')) \
                as f:
            self.assertIn('flavor-name: arm64-xlarge', f.read())

    def test_every_command_loading_it_refuses_it(self):
        _, _, inventory, _ = self.render(drop_xlarge)
        for argv in (['capacity', 'simulate', '--synthetic', '10'],
                     ['readiness', '--builds', inventory],
                     ['capacity', 'apply', '--output',
                      os.path.join(self.tempdir(), 'nodepool.yaml')]):
            code, _, err = self.run_cli(*argv, '--inventory', inventory)
            self.assertEqual(2, code, argv)
            self.assertIn('flavor arm64-xlarge has no mapping here', err)

    def test_the_model_has_no_fallback_name(self):
        inv = load_inventory()
        us = inv.provider('linaro-us')
        names = dict(us.flavor_names)
        del names['arm64-xlarge']
        broken = dataclasses.replace(
            inv, providers=tuple(
                dataclasses.replace(p, flavor_names=names)
                if p is us else p for p in inv.providers))
        error = self.assertRaises(UnmappedFlavor, launcher_config, broken,
                                  'nl03.opendev.org')
        self.assertEqual('provider linaro-us has no mapping for flavor '
                         'arm64-xlarge', str(error))
        self.assertEqual(us.flavor_names['arm64-large'],
                         us.flavor_name('arm64-large'))


class TestYamlText(base.TestCase):
    """libyaml's output, re-indented, equals PyYAML's indented output."""

    def test_fast_and_reference_emitters_agree_on_every_render(self):
        from nodepool_aarch64.render import nodepool as rn
        from nodepool_aarch64.formats import yamltext
        from nodepool_aarch64.render import zuul as rz
        inv = load_inventory()
        documents = [rz.nodesets(inv), rz.launcher_objects(inv)]
        documents += [rn.launcher_config(inv, host)
                      for host in inv.launchers]
        documents += [rn.builder_config(inv, p.builder)
                      for p in inv.providers]
        documents.append({'a': [[1, 2], {'b': [{'c': ['d', {'e': [3]}]}]}],
                          'long': 'word ' * 40, 'empty': [], 'f': {}})
        for data in documents:
            self.assertEqual(yamltext.python_text(data),
                             yamltext.to_text(data))
