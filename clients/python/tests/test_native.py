"""Which implementation answers, and what only the C extension (policyd_native) must add: the GIL
released while it waits, signals let through, a Client used from two threads refused rather than
corrupted, and its arguments checked. The extension's tests are skipped when the client does not
use it (IMPLEMENTATION is not "c"); POLICYD_CLIENT_EXPECT, set by ctest, says which
implementation must answer, so a build whose extension silently fails to import fails here.
"""

from __future__ import annotations

import os
import signal
import threading
import time
import unittest

from fixtures import Daemon, FakeServer, snapshot_path

import policyd_client
from policyd_client import Client, Code, PolicydError


class ImplementationTest(unittest.TestCase):
    def test_the_expected_implementation_answers(self):
        expected = os.environ.get("POLICYD_CLIENT_EXPECT")
        if expected is None:
            self.skipTest("POLICYD_CLIENT_EXPECT is not set")
        self.assertEqual(policyd_client.IMPLEMENTATION, expected)


def needs_extension(test):
    return unittest.skipUnless(
        policyd_client.IMPLEMENTATION == "c", "the C extension is not in use"
    )(test)


class Interrupted(Exception):
    pass


@needs_extension
class ExtensionTest(unittest.TestCase):
    def silent_client(self, timeout=10.0):
        server = FakeServer(reply=None)  # reads the request, never answers
        self.addCleanup(server.stop)
        client = Client(server.socket, timeout=timeout)
        self.addCleanup(client.close)
        return client

    def test_other_threads_run_while_a_call_waits(self):
        client = self.silent_client(timeout=0.5)
        ticks = []
        stop = threading.Event()

        def tick():
            while not stop.is_set():
                ticks.append(1)
                time.sleep(0.01)

        ticker = threading.Thread(target=tick)
        ticker.start()
        try:
            with self.assertRaises(PolicydError) as caught:
                client.get_org_policy("42")
        finally:
            stop.set()
            ticker.join()
        self.assertEqual(caught.exception.code, Code.DEADLINE_EXCEEDED)
        self.assertGreater(len(ticks), 10)  # about 50 with the GIL released, 1 without

    def test_a_signal_handlers_exception_ends_a_waiting_call(self):
        client = self.silent_client(timeout=30.0)

        def handler(signum, frame):
            raise Interrupted()

        previous = signal.signal(signal.SIGALRM, handler)
        self.addCleanup(signal.signal, signal.SIGALRM, previous)
        signal.setitimer(signal.ITIMER_REAL, 0.2)
        self.addCleanup(signal.setitimer, signal.ITIMER_REAL, 0)
        start = time.monotonic()
        with self.assertRaises(Interrupted):
            client.get_org_policy("42")
        self.assertLess(time.monotonic() - start, 10.0)  # not the 30-s timeout
        self.assertFalse(client.connected)  # the answer may come half read: not reused

    def test_a_signal_whose_handler_returns_does_not_end_the_call(self):
        client = self.silent_client(timeout=0.6)
        seen = []
        previous = signal.signal(signal.SIGALRM, lambda signum, frame: seen.append(signum))
        self.addCleanup(signal.signal, signal.SIGALRM, previous)
        signal.setitimer(signal.ITIMER_REAL, 0.1)
        self.addCleanup(signal.setitimer, signal.ITIMER_REAL, 0)
        start = time.monotonic()
        with self.assertRaises(PolicydError) as caught:
            client.get_org_policy("42")
        self.assertEqual(caught.exception.code, Code.DEADLINE_EXCEEDED)
        self.assertGreaterEqual(time.monotonic() - start, 0.59)  # the deadline, not the signal
        self.assertEqual(seen, [signal.SIGALRM])

    def test_a_client_used_by_two_threads_at_once_refuses_the_second(self):
        client = self.silent_client(timeout=1.0)
        outcome = []

        def call():
            try:
                client.get_org_policy("1")
            except PolicydError as e:
                outcome.append(e.code)

        first = threading.Thread(target=call)
        first.start()
        time.sleep(0.2)  # the first call now waits for its answer, without the GIL
        try:
            with self.assertRaises(RuntimeError) as caught:
                client.get_org_policy("2")
            self.assertIn("thread", str(caught.exception))
            with self.assertRaises(RuntimeError):
                client.close()
        finally:
            first.join()
        self.assertEqual(outcome, [Code.DEADLINE_EXCEEDED])  # the first call was not disturbed
        self.assertFalse(client.connected)

    def test_bad_arguments_are_refused_before_anything_is_sent(self):
        daemon = Daemon(snapshot_path())
        self.addCleanup(daemon.stop)
        with self.assertRaises(ValueError):
            Client(daemon.socket, timeout=-1)
        with self.assertRaises(ValueError):
            Client(daemon.socket, timeout=float("nan"))
        with self.assertRaises(TypeError):
            Client(daemon.socket, timeout="1")
        with Client(daemon.socket) as client:
            with self.assertRaises(TypeError):
                client.get_org_policy(42)
            with self.assertRaises(UnicodeEncodeError):
                client.get_org_policy("\udc80")
            self.assertTrue(client.connected)
            self.assertEqual(client.get_org_policy(b"no-such-org").org_id, "no-such-org")
            self.assertEqual(client.get_org_policy(bytearray(b"x")).org_id, "x")

    def test_a_socket_path_that_cannot_be_is_unavailable(self):
        for path in ("", "/tmp/" + "x" * 200):
            with self.subTest(length=len(path)):
                with self.assertRaises(PolicydError) as caught:
                    Client(path)
                self.assertEqual(caught.exception.code, Code.UNAVAILABLE)


if __name__ == "__main__":
    unittest.main()
