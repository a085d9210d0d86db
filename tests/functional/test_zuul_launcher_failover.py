"""Losing one of two zuul-launchers in the middle of a burst.

Two real zuul-launchers (Zuul 14.3), one per launcher host of the
shipped inventory, serve the rendered objects (on Zuul's static driver,
every node the emulated aarch64 node) from one TLS ZooKeeper.  A burst
of 50 nodeset requests is sent, and one launcher is SIGKILLed while it
holds the locks of requests it has not served.  ZooKeeper expires its
session, which removes its registration and its locks; the survivor
then scores lowest for every request and node, takes them and serves
them.  Every request must be fulfilled, the dead launcher's by the
survivor, and afterwards ZooKeeper must hold no request and no request
lock, no held node lock, and every static node (and no other) ready and
assigned to nobody.
"""

import testtools

from tests.functional.harness import benchmark
from tests.functional.harness import zuul_failover

BURST = 50


class TestZuulLauncherFailover(testtools.TestCase):

    def test_survivor_serves_the_dead_launchers_requests(self):
        dep = self.useFixture(zuul_failover.TwoZuulLaunchers(self))
        outcome = zuul_failover.burst_and_kill(dep, BURST)

        self.assertEqual(BURST, len(outcome.fulfilled_at))
        self.assertFalse(dep.launchers[outcome.victim].alive())
        # The victim died holding requests, and the survivor served every
        # one of them (its log says so; the victim's process is gone).
        self.assertNotEqual(set(), outcome.orphaned)
        self.assertEqual(set(), outcome.orphaned - outcome.fulfilled_by)
        for request_id in outcome.orphaned:
            self.assertGreater(outcome.fulfilled_at[request_id],
                               outcome.killed_at)
        self.assertIsNotNone(outcome.expired_after,
                             'the dead launcher stayed registered')
        self.assertIsNotNone(outcome.adopted_after)
        # The survivor took them when ZooKeeper ended the dead
        # launcher's session, not before.
        self.assertEqual(set(), outcome.taken_early)

        cleanup = zuul_failover.wait_for_cleanup(dep, outcome.survivor)
        # The survivor is still serving: a leak-free ZooKeeper after a
        # dead launcher is not a dead system.
        self.assertTrue(dep.launchers[outcome.survivor].alive())
        served = [outcome.fulfilled_at[r] - outcome.killed_at
                  for r in outcome.orphaned]
        benchmark.record(
            'zuul_launcher_failover',
            {'requests': BURST, 'orphaned': len(outcome.orphaned),
             'nodes_held': outcome.nodes_held,
             'session_expired_s': round(outcome.expired_after, 1),
             'orphans_taken_s': round(outcome.adopted_after, 1),
             'first_orphan_served_s': round(min(served), 1),
             'last_orphan_served_s': round(max(served), 1),
             'burst_done_s': round(outcome.done_after, 1),
             'cleanup_s': round(cleanup, 1)},
            'zuul-launcher failover: %s killed holding %d of %d requests '
            'and %d node locks; session expired after %.1f s, %s held or '
            'had served all its requests at %.1f s and served them '
            '%.1f-%.1f s after the kill, burst done at %.1f s, ZooKeeper '
            'clean %.1f s later' % (
                outcome.victim, len(outcome.orphaned), BURST,
                outcome.nodes_held, outcome.expired_after,
                outcome.survivor, outcome.adopted_after, min(served),
                max(served),
                outcome.done_after, cleanup))
