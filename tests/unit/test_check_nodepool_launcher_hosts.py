"""NPA080: a label that one launcher host alone serves."""

import copy

from tests.unit.test_check_rules import CheckCase, inventory_facts


class TestSingleLauncher(CheckCase):

    def second_launcher(self, labels=None, max_servers=10):
        """nl02: the baseline provider again, serving ``labels``."""
        other = copy.deepcopy(self.launcher)
        pool = other['providers'][0]['pools'][0]
        pool['max-servers'] = max_servers
        if labels is not None:
            pool['labels'] = [x for x in pool['labels']
                              if x['name'] in labels]
            other['labels'] = [x for x in other['labels']
                               if x['name'] in labels]
        return self.write('nodepool/nl02.yaml', other)

    def test_every_label_on_two_launchers_is_clean(self):
        result = self.check(extra=[self.second_launcher()])
        self.assertEqual([], result.findings)

    def test_label_left_on_one_launcher(self):
        other = self.second_launcher(labels=['ubuntu-noble-arm64'])
        found = self.only(self.check(extra=[other]), 'NPA080')
        self.assertEqual(1, len(found))
        finding = found[0]
        self.assertEqual('warning', finding.severity)
        self.assertTrue(finding.path.endswith('nodepool/nl01.yaml'))
        self.assertIn('label debian-bookworm-arm64 is served by launcher '
                      'nl01 alone', finding.message)
        # It points at the pool label that serves it.
        with open(finding.path) as f:
            line = f.read().splitlines()[finding.line - 1]
        self.assertIn('debian-bookworm-arm64', line)

    def test_disabled_pool_is_not_a_second_host(self):
        other = self.second_launcher(max_servers=0)
        found = self.only(self.check(extra=[other]), 'NPA080')
        self.assertEqual(['debian-bookworm-arm64', 'ubuntu-noble-arm64'],
                         sorted(f.message.split()[1] for f in found))

    def test_second_host_through_another_provider(self):
        other = copy.deepcopy(self.launcher)
        provider = other['providers'][0]
        provider['name'] = provider['cloud'] = 'linaro-london'
        provider['region-name'] = 'London'
        self.builder['providers'].append(dict(
            copy.deepcopy(self.builder['providers'][0]),
            name='linaro-london', cloud='linaro-london',
            **{'region-name': 'London'}))
        path = self.write('nodepool/nl02.yaml', other)
        self.assertNotIn('NPA080', self.codes(self.check(extra=[path])))

    def test_one_launcher_file_is_not_judged(self):
        # The baseline: one launcher, whose site may run others.
        self.assertNotIn('NPA080', self.codes(self.check()))


class TestQuotaAcrossLaunchers(CheckCase):
    """NPA004 and NPA060 on a provider that two launcher hosts run."""

    def setUp(self):
        super().setUp()
        # The inventory facts allow 40 servers in linaro-us.
        self.pool['max-servers'] = 30

    def test_same_pool_in_two_launchers_is_one_cap(self):
        other = self.write('nodepool/nl02.yaml', self.launcher)
        result = self.check(facts=inventory_facts(), extra=[other])
        self.assertEqual([], result.findings)

    def test_other_pool_names_add_up(self):
        launcher = copy.deepcopy(self.launcher)
        launcher['providers'][0]['pools'][0]['name'] = 'second'
        other = self.write('nodepool/nl02.yaml', launcher)
        result = self.check(facts=inventory_facts(), extra=[other])
        found = self.only(result, 'NPA060')
        self.assertIn('(2 pools together: 60) is above the 40 servers',
                      found[0].message)
        self.assertIn('NPA004', self.codes(result))
