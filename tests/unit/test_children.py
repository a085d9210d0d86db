"""children: a child never outlives the process that started it.

A small Python program starts children through the module and is then
killed with SIGKILL, so that nothing of it can run any more: the child
must die by its parent-death signal, and what the child started in turn
must be stopped by the guardian.
"""

import os
import signal
import subprocess
import sys
import textwrap
import time

from nodepool_aarch64 import children
from tests import base
from tests import cliprocess

PARENT = textwrap.dedent('''
    import sys
    from nodepool_aarch64 import children
    # A child that starts a grandchild in its own process group, as git
    # starts a hook.
    proc = children.spawn(['sh', '-c', 'sleep ' + sys.argv[1] + ' & '
                           'exec sleep ' + sys.argv[2]])
    print(proc.pid, children._guardian.pid, flush=True)
    sys.stdin.read()
''')


def _gone(pids, within=15):
    end = time.monotonic() + within
    while time.monotonic() < end:
        if not [p for p in pids if cliprocess.alive(p)]:
            return True
        time.sleep(0.1)
    return False


class TestChildren(base.TestCase):

    def unique(self):
        # Sleep lengths no other process on the machine uses.
        base_ = 3000 + os.getpid() % 1000
        return f'{base_}.{time.monotonic_ns() % 997}'

    def parent(self):
        grand, child = self.unique(), self.unique()
        proc = subprocess.Popen(
            [sys.executable, '-c', PARENT, grand, child],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.addCleanup(proc.wait)
        self.addCleanup(proc.kill)
        pid, self.guardian = map(int, proc.stdout.readline().split())
        end = time.monotonic() + 15
        while not (cliprocess.naming('sleep ' + grand)
                   and cliprocess.naming('sleep ' + child)):
            self.assertLess(time.monotonic(), end, 'children never ran')
            time.sleep(0.05)
        return proc, pid, grand, child

    def test_the_child_and_its_group_die_with_a_killed_parent(self):
        proc, pid, grand, child = self.parent()
        pids = cliprocess.naming('sleep ' + grand) + [pid]
        self.assertEqual(pid, os.getpgid(pid))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        self.assertTrue(_gone(pids), cliprocess.naming('sleep ' + grand))
        self.assertEqual([], cliprocess.in_groups({pid}))

    def test_the_death_signal_alone_kills_the_child(self):
        # With the guardian gone first, only the parent-death signal
        # can stop the child.
        proc, pid, grand, child = self.parent()
        guardian = self.guardian
        self.assertEqual(proc.pid, cliprocess.parent(guardian))
        # Popen returns once the exec is past its point of no return; its
        # command line is readable a moment later, on a busy machine.
        end = time.monotonic() + 15
        while children.GUARDIAN_MARK not in cliprocess.cmdline(guardian):
            self.assertLess(time.monotonic(), end, 'the guardian never ran')
            time.sleep(0.05)
        os.kill(guardian, signal.SIGKILL)
        self.assertTrue(_gone([guardian]))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        self.assertTrue(_gone([pid]), cliprocess.naming('sleep ' + child))
        # The grandchild was the guardian's to stop: it is left, and is
        # why the guardian exists.
        left = cliprocess.naming('sleep ' + grand)
        self.assertNotEqual([], left)
        for p in left:
            os.kill(p, signal.SIGKILL)

    def test_stop_and_running(self):
        proc = children.spawn(['sleep', self.unique()])
        self.assertEqual(proc.pid, os.getpgid(proc.pid))
        self.assertIn(proc, children.running())
        self.assertEqual(-signal.SIGTERM, children.stop(proc))
        self.assertNotIn(proc, children.running())

    def test_stop_reaches_the_whole_group(self):
        grand = self.unique()
        proc = children.spawn(['sh', '-c', f'sleep {grand} & wait'])
        end = time.monotonic() + 15
        while not cliprocess.naming('sleep ' + grand):
            self.assertLess(time.monotonic(), end)
            time.sleep(0.05)
        pids = cliprocess.naming('sleep ' + grand)
        children.stop(proc)
        self.assertTrue(_gone(pids, within=1))

    def test_run_stops_the_group_when_its_wait_is_cut_short(self):
        grand = self.unique()
        self.assertRaises(
            subprocess.TimeoutExpired, children.run,
            ['sh', '-c', f'sleep {grand} & wait'], timeout=1)
        self.assertEqual([], cliprocess.naming('sleep ' + grand))
        self.assertEqual([], [p for p in children.running()
                              if p.args[0] == 'sh'])

    def test_run_captures_like_subprocess_run(self):
        proc = children.run(['sh', '-c', 'cat; echo err >&2; exit 3'],
                            input=b'in')
        self.assertEqual((3, b'in', b'err\n'),
                         (proc.returncode, proc.stdout, proc.stderr))

    def test_spawn_sets_the_session_itself(self):
        self.assertRaises(TypeError, children.spawn, ['true'],
                          start_new_session=False)

    def test_a_killed_parent_leaves_no_temporary_directory(self):
        tmp = self.tempdir()
        program = textwrap.dedent('''
            import os, sys
            from nodepool_aarch64 import children
            with children.temporary_directory() as path:
                open(os.path.join(path, 'named'), 'w').close()
                print(path, flush=True)
                sys.stdin.read()
        ''')
        proc = subprocess.Popen(
            [sys.executable, '-c', program], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, text=True,
            env=dict(os.environ, TMPDIR=tmp))
        self.addCleanup(proc.wait)
        self.addCleanup(proc.kill)
        path = proc.stdout.readline().strip()
        self.assertTrue(os.path.exists(os.path.join(path, 'named')))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        end = time.monotonic() + 10
        while os.listdir(tmp) and time.monotonic() < end:
            time.sleep(0.1)
        self.assertEqual([], os.listdir(tmp))
