"""Losing one of two nodepool-launchers in the middle of a burst.

The shipped inventory names two launcher hosts for every provider.  Both
run on one TLS ZooKeeper; one is SIGKILLed while it holds requests of a
burst of 50.  ZooKeeper expires its session, which releases its locks;
the survivor resets the requests it left (Nodepool's lost-request
cleanup), serves them and deletes the nodes it left behind.  Every
request must be fulfilled, the dead launcher's by the survivor, and
nothing may be left in ZooKeeper afterwards.
"""

import testtools

from tests.functional import benchmark
from tests.functional import failover

BURST = 50


class TestLauncherFailover(testtools.TestCase):

    def test_survivor_serves_the_dead_launchers_requests(self):
        dep = self.useFixture(failover.TwoLaunchers(self))
        outcome = failover.burst_and_kill(dep, BURST)

        self.assertEqual(BURST, len(outcome.fulfilled_at))
        self.assertFalse(dep.launchers[outcome.victim].alive())
        # The victim died holding work, and the survivor, not a restart,
        # served every piece of it.
        self.assertNotEqual(set(), outcome.orphaned)
        self.assertEqual(set(), outcome.orphaned - outcome.fulfilled_by)
        self.assertIsNotNone(outcome.expired_after,
                             'the dead launcher stayed registered')

        cleanup = failover.wait_for_cleanup(dep)
        # The survivor is still serving: a leak-free ZooKeeper after a
        # dead launcher is not a dead system.
        self.assertTrue(dep.launchers[outcome.survivor].alive())

        served = [outcome.fulfilled_at[r] - outcome.killed_at
                  for r in outcome.orphaned]
        benchmark.record(
            'launcher_failover',
            {'requests': BURST, 'orphaned': len(outcome.orphaned),
             'session_expired_s': round(outcome.expired_after, 1),
             'first_orphan_served_s': round(min(served), 1),
             'last_orphan_served_s': round(max(served), 1),
             'burst_done_s': round(outcome.done_after, 1),
             'cleanup_s': round(cleanup, 1)},
            'launcher failover: %s killed holding %d of %d requests; '
            'session expired after %.1f s, its requests served by %s '
            '%.1f-%.1f s after the kill, burst done at %.1f s, ZooKeeper '
            'clean %.1f s later' % (
                outcome.victim, len(outcome.orphaned), BURST,
                outcome.expired_after, outcome.survivor, min(served),
                max(served), outcome.done_after, cleanup))
