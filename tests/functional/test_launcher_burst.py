"""A burst larger than max-servers, as a busy gate sends it.

The launcher must never hold more nodes in a provider than its rendered
max-servers, and must fulfil the requests it could not serve at once as
soon as earlier nodes come back.
"""

import collections
import itertools
import time

import testtools
from nodepool.zk import zookeeper as zk

from tests.functional.harness import benchmark
from tests.functional.harness import deployment
from tests.functional.harness import fake_cloud

# How long a "job" keeps its node before returning it.
HOLD_SECONDS = 1.0
EXTRA_REQUESTS = 8
FILL_TIMEOUT = 90
# With every node held, nothing more may be fulfilled for this long.
FULL_SECONDS = 3.0
DRAIN_TIMEOUT = 90


class TestBurst(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.dep = self.useFixture(deployment.LauncherDeployment(self))
        self.requestor = self.dep.requestor
        self.peak = collections.Counter()

    def _sample(self, limits):
        """Count nodes per provider; none may exceed its max-servers."""
        counts = collections.Counter(
            n.provider for n in self.requestor.nodes())
        for provider, count in counts.items():
            self.assertLessEqual(
                count, limits[provider],
                '%s holds %d nodes, max-servers is %d'
                % (provider, count, limits[provider]))
            self.peak[provider] = max(self.peak[provider], count)
        return counts

    def _take_fulfilled(self, waiting, serving):
        """Accept every fulfilled request; returns (still waiting, nodes)."""
        still, taken = [], []
        for request in waiting:
            current = self.requestor.refresh(request)
            if current.state in (zk.REQUESTED, zk.PENDING):
                still.append(request)
                continue
            self.assertEqual(zk.FULFILLED, current.state)
            for node in self.requestor.accept(current):
                self.assertIn((node.provider, node.pool),
                              serving[node.type[0]])
                taken.append(node)
        return still, taken

    def test_burst_never_exceeds_max_servers(self):
        rendered = self.dep.rendered
        limits = {provider: sum(by_pool.values()) for provider, by_pool
                  in fake_cloud.max_servers(rendered).items()}
        # The fake cloud's own quota can bind before max-servers does;
        # capacity is whichever is lower, and the burst must exceed it.
        capacity = {p: min(n, fake_cloud.fake_servers_limit())
                    for p, n in limits.items()}
        total = sum(capacity.values())
        serving = fake_cloud.pool_labels(rendered)
        everywhere = sorted(label for label, pools in serving.items()
                            if {p for p, _ in pools} == set(limits))
        self.assertTrue(everywhere)
        burst = total + EXTRA_REQUESTS

        start = time.monotonic()
        waiting = [self.requestor.submit([label]) for label, _ in
                   zip(itertools.cycle(everywhere), range(burst))]

        # 1. Jobs keep every node: the fleet fills up to capacity.
        held = []
        deadline = start + FILL_TIMEOUT
        while True:
            counts = self._sample(limits)
            waiting, taken = self._take_fulfilled(waiting, serving)
            held += taken
            if len(held) >= total and counts == collections.Counter(
                    capacity):
                break
            self.assertLess(time.monotonic(), deadline,
                            'fleet not full: %s nodes, %d held'
                            % (dict(counts), len(held)))
            time.sleep(0.2)
        filled = time.monotonic() - start
        self.assertEqual(total, len(held))
        self.assertEqual(EXTRA_REQUESTS, len(waiting))

        # 2. Full: the rest must wait rather than push past max-servers.
        until = time.monotonic() + FULL_SECONDS
        while time.monotonic() < until:
            self._sample(limits)
            waiting, taken = self._take_fulfilled(waiting, serving)
            self.assertEqual([], taken, 'fulfilled beyond capacity')
            time.sleep(0.2)

        # 3. Jobs finish and return nodes as Zuul would; the waiting
        # requests are fulfilled from the capacity that comes back.
        self.requestor.release(held)
        returned_at = time.monotonic()
        held = []           # (release time, nodes)
        late = 0
        deadline = returned_at + DRAIN_TIMEOUT
        while waiting or held:
            self.assertLess(time.monotonic(), deadline,
                            '%d requests still waiting' % len(waiting))
            self._sample(limits)
            waiting, taken = self._take_fulfilled(waiting, serving)
            late += len(taken)
            held += [(time.monotonic() + HOLD_SECONDS, [n]) for n in taken]
            now = time.monotonic()
            for item in [h for h in held if h[0] <= now]:
                self.requestor.release(item[1])
                held.remove(item)
            time.sleep(0.2)
        drained = time.monotonic() - returned_at

        self.assertEqual(EXTRA_REQUESTS, late)
        self.assertEqual(capacity, dict(self.peak))
        benchmark.record(
            'burst', {'requests': burst, 'fill_s': round(filled, 1),
                      'drain_s': round(drained, 1),
                      'peak': dict(self.peak), 'max_servers': limits},
            'burst of %d requests over max-servers %s: fleet full in '
            '%.1f s (peak nodes %s), the other %d fulfilled %.1f s after '
            'nodes were returned' % (burst, limits, filled,
                                     dict(self.peak), EXTRA_REQUESTS,
                                     drained))
