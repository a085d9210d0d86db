"""Facts borrowed from Zuul 14, checked against Zuul itself.

The checker tells a Zuul config file from any other YAML by its stanza
names, without importing Zuul (a test requirement only).  These tests
give each name to Zuul's own readers and fail when an upgrade adds,
drops or renames one.
"""

import testtools
from zuul import configloader
from zuul import model as zuul_model

from nodepool_aarch64.formats import configset

# The tenant config (main.yaml) is read by another of Zuul's readers than
# a project's zuul.d; the checker knows only its tenant stanza.
TENANT_STANZAS = frozenset(('tenant',))


class TestZuulStanzas(testtools.TestCase):

    def test_project_stanzas_are_the_ones_zuuls_loader_knows(self):
        self.assertEqual(configloader.ZuulSafeLoader.zuul_node_types,
                         configset.ZUUL_STANZAS - TENANT_STANZAS)

    def test_zuul_parses_every_project_stanza(self):
        for name in configset.ZUUL_STANZAS - TENANT_STANZAS:
            config = zuul_model.UnparsedConfig()
            config.extend([{name: {'name': 'x'}}])
            self.assertEqual(1, sum(
                len(v) for v in vars(config).values()
                if isinstance(v, list)), name)

    def test_tenant_stanzas_are_zuuls(self):
        for name in TENANT_STANZAS:
            config = zuul_model.UnparsedAbideConfig()
            config.extend([{name: {'name': 'x'}}])
            self.assertTrue(config.tenants, name)

    def test_unknown_stanzas_are_refused_by_both(self):
        self.assertRaises(zuul_model.ConfigItemUnknownError,
                          zuul_model.UnparsedConfig().extend,
                          [{'jobs': {'name': 'x'}}])
        self.assertNotIn('jobs', configset.ZUUL_STANZAS)
