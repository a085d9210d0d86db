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

from tests.functional import benchmark
from tests.functional import deployment
from tests.functional import fake_cloud

# How long a "job" keeps its node before returning it.
HOLD_SECONDS = 1.0
EXTRA_REQUESTS = 8
BURST_TIMEOUT = 150


class TestBurst(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.dep = self.useFixture(deployment.LauncherDeployment(self))

    def test_burst_never_exceeds_max_servers(self):
        rendered = self.dep.rendered
        limits = {provider: sum(by_pool.values()) for provider, by_pool
                  in fake_cloud.max_servers(rendered).items()}
        # The fake cloud's own quota can bind before max-servers does;
        # capacity is whichever is lower, and the burst must exceed it.
        capacity = {p: min(n, fake_cloud.fake_servers_limit())
                    for p, n in limits.items()}
        serving = fake_cloud.pool_labels(rendered)
        everywhere = sorted(label for label, pools in serving.items()
                            if {p for p, _ in pools} == set(limits))
        self.assertTrue(everywhere)
        burst = sum(capacity.values()) + EXTRA_REQUESTS

        requestor = self.dep.requestor
        start = time.monotonic()
        waiting = [requestor.submit([label]) for label, _ in
                   zip(itertools.cycle(everywhere), range(burst))]
        held = []           # (release time, nodes)
        peak = collections.Counter()
        saturated_with_waiting = False
        fulfilled_after_saturation = 0
        fulfilled = 0
        deadline = start + BURST_TIMEOUT
        while waiting or held:
            self.assertLess(time.monotonic(), deadline,
                            '%d requests still waiting' % len(waiting))
            counts = collections.Counter(
                n.provider for n in requestor.nodes())
            for provider, count in counts.items():
                self.assertLessEqual(
                    count, limits[provider],
                    '%s holds %d nodes, max-servers is %d'
                    % (provider, count, limits[provider]))
                peak[provider] = max(peak[provider], count)
            if waiting and counts == collections.Counter(capacity):
                saturated_with_waiting = True

            still_waiting = []
            for request in waiting:
                current = requestor.refresh(request)
                if current.state == zk.REQUESTED or \
                        current.state == zk.PENDING:
                    still_waiting.append(request)
                    continue
                self.assertEqual(zk.FULFILLED, current.state)
                nodes = requestor.accept(current)
                for node in nodes:
                    self.assertIn((node.provider, node.pool),
                                  serving[node.type[0]])
                held.append((time.monotonic() + HOLD_SECONDS, nodes))
                fulfilled += 1
                if saturated_with_waiting:
                    fulfilled_after_saturation += 1
            waiting = still_waiting

            now = time.monotonic()
            for item in [h for h in held if h[0] <= now]:
                requestor.release(item[1])
                held.remove(item)
            time.sleep(0.2)
        elapsed = time.monotonic() - start

        self.assertEqual(burst, fulfilled)
        self.assertTrue(saturated_with_waiting,
                        'the burst never filled every provider; peak %s'
                        % dict(peak))
        self.assertGreater(fulfilled_after_saturation, 0)
        self.assertEqual(capacity, dict(peak))
        benchmark.record(
            'burst', {'requests': burst, 'seconds': round(elapsed, 1),
                      'peak': dict(peak), 'max_servers': limits},
            'burst of %d requests over max-servers %s fulfilled in %.1f s '
            '(peak nodes %s)' % (burst, limits, elapsed, dict(peak)))
