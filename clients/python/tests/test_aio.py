"""policyd_client.aio: pipelined calls on one connection, against the real policyd and against
fake servers that answer out of order, hold answers back, or close mid-flight."""

from __future__ import annotations

import asyncio
import inspect
import os
import shutil
import struct
import tempfile
import unittest

from fixtures import Daemon, response_frame, snapshot_path

from policyd_client import Check, Client, Code, PolicyKind, PolicydError, aio
from policyd_client.fb import request_generated as rq

ORG_42 = "300000000000000042"
ORGS = [ORG_42, "300000000000000107", "300000000000000233", "no-such-org"]


class FakeAsyncServer:
    """A unix socket server on the test's event loop. Each request's id is queued in
    `requests`; `answer(ids)` writes error answers (message "answer <id>") for those ids, in the
    order given; `close_all()` closes every connection."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="policyd-aio-")
        self.socket = os.path.join(self.dir, "fake.sock")
        self.requests: list[int] = []
        self.arrived = asyncio.Condition()
        self._writers: list[asyncio.StreamWriter] = []
        self._server = None

    async def start(self) -> "FakeAsyncServer":
        self._server = await asyncio.start_unix_server(self._serve, self.socket)
        return self

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        self._writers.append(writer)
        try:
            while True:
                (length,) = struct.unpack("<I", await reader.readexactly(4))
                request = await reader.readexactly(length)
                async with self.arrived:
                    self.requests.append(rq.Request.GetRootAs(request, 0).Id())
                    self.arrived.notify_all()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass

    async def wait_for_requests(self, n: int, timeout: float = 10.0) -> None:
        async with asyncio.timeout(timeout):
            async with self.arrived:
                await self.arrived.wait_for(lambda: len(self.requests) >= n)

    async def answer(self, ids) -> None:
        writer = self._writers[-1]
        writer.write(b"".join(response_frame(i, int(Code.NOT_FOUND), f"answer {i}") for i in ids))
        await writer.drain()

    def close_all(self) -> None:
        for writer in self._writers:
            writer.close()

    async def stop(self) -> None:
        self.close_all()
        self._server.close()
        await self._server.wait_closed()
        shutil.rmtree(self.dir, ignore_errors=True)


class AioDaemonTest(unittest.IsolatedAsyncioTestCase):
    @classmethod
    def setUpClass(cls):
        cls.daemon = Daemon(snapshot_path())

    @classmethod
    def tearDownClass(cls):
        cls.daemon.stop()

    async def asyncSetUp(self):
        self.client = await aio.connect(self.daemon.socket, timeout=10.0)

    async def asyncTearDown(self):
        self.client.close()

    def test_every_blocking_method_is_a_coroutine_with_the_same_parameters(self):
        for name, method in inspect.getmembers(Client, inspect.isfunction):
            if name.startswith("_") or name == "close":
                continue
            with self.subTest(name):
                mirror = getattr(aio.Client, name)
                self.assertTrue(inspect.iscoroutinefunction(mirror))
                self.assertEqual(
                    list(inspect.signature(mirror).parameters),
                    list(inspect.signature(method).parameters),
                )

    async def test_a_thousand_gathered_lookups_share_one_connection(self):
        wanted = [ORGS[i % 3] for i in range(1000)]
        answers = await asyncio.gather(*(self.client.get_org_policy(org) for org in wanted))
        with Client(self.daemon.socket, timeout=10.0) as blocking:
            expected = {org: blocking.get_org_policy(org) for org in ORGS[:3]}
        self.assertEqual(answers, [expected[org] for org in wanted])
        self.assertEqual(self.client.in_flight, 0)
        self.assertTrue(self.client.connected)

    async def test_every_request_kind_answers_as_the_blocking_client(self):
        kinds = list(PolicyKind)
        checks = [Check.login_name(ORG_42, "alice@acme.com"), Check.smtp_sender("x@y.z")]
        c = self.client
        with Client(self.daemon.socket, timeout=10.0) as b:
            pairs = [
                (c.get_org_policies(ORGS, strict=True), b.get_org_policies(ORGS, strict=True)),
                (c.get_default_policy(), b.get_default_policy()),
                (c.get_org_kinds(ORG_42, kinds), b.get_org_kinds(ORG_42, kinds)),
                (c.get_orgs_kinds(ORGS[:3], kinds), b.get_orgs_kinds(ORGS[:3], kinds)),
                (c.get_default_kinds(kinds), b.get_default_kinds(kinds)),
                (c.check_login_name(ORG_42, "alice@acme.com"),
                 b.check_login_name(ORG_42, "alice@acme.com")),
                (c.check_smtp_sender("x@y.z"), b.check_smtp_sender("x@y.z")),
                (c.check_domain_verification(ORG_42, "acme.com"),
                 b.check_domain_verification(ORG_42, "acme.com")),
                (c.check_password(ORG_42, "short"), b.check_password(ORG_42, "short")),
                (c.check_batch(checks), b.check_batch(checks)),
            ]
            got = await asyncio.gather(*(p[0] for p in pairs))
            status, want_status = await c.get_status(), b.get_status()
        for (_, want), have in zip(pairs, got):
            self.assertEqual(repr(have), repr(want))
        for field in ("health", "instance_id", "org_count", "custom_policy_count", "version"):
            self.assertEqual(getattr(status, field), getattr(want_status, field))

    async def test_daemon_errors_fail_only_their_call(self):
        results = await asyncio.gather(
            self.client.get_org_policy("no-such-org", strict=True),
            self.client.get_org_policy(ORG_42),
            self.client.get_org_kinds(ORG_42, []),
            return_exceptions=True,
        )
        self.assertEqual(results[0].code, Code.NOT_FOUND)
        self.assertEqual(results[1].org_id, ORG_42)
        self.assertEqual(results[2].code, Code.INVALID_ARGUMENT)
        self.assertTrue(self.client.connected)

    async def test_cancelled_lookups_do_not_disturb_the_others(self):
        wanted = [ORGS[i % 3] for i in range(1000)]
        tasks = [asyncio.create_task(self.client.get_org_policy(org)) for org in wanted]
        await asyncio.sleep(0)  # every task runs up to its await: the requests are written
        self.assertEqual(self.client.in_flight, 128)  # the rest wait for a place
        for task in tasks[::7]:  # sent ones and waiting ones
            task.cancel()
        results = await asyncio.gather(*tasks, return_exceptions=True)
        for i, result in enumerate(results):
            if i % 7 == 0:
                self.assertIsInstance(result, asyncio.CancelledError)
            else:
                self.assertEqual(result.org_id, wanted[i])
        self.assertEqual(self.client.in_flight, 0)
        self.assertEqual((await self.client.get_org_policy(ORG_42)).org_id, ORG_42)


class AioTransportTest(unittest.IsolatedAsyncioTestCase):
    async def asyncSetUp(self):
        self.server = await FakeAsyncServer().start()

    async def asyncTearDown(self):
        await self.server.stop()

    async def test_answers_out_of_order_reach_their_own_calls(self):
        client = await aio.connect(self.server.socket, timeout=10.0)
        self.addCleanup(client.close)
        calls = [asyncio.create_task(client.get_org_policy(str(i))) for i in range(50)]
        await self.server.wait_for_requests(50)
        await self.server.answer(reversed(self.server.requests))
        for call in calls:
            with self.assertRaises(PolicydError) as caught:
                await call
            self.assertEqual(caught.exception.code, Code.NOT_FOUND)
        ids = self.server.requests
        self.assertEqual([c.exception().message for c in calls], [f"answer {i}" for i in ids])

    async def test_max_in_flight_bounds_the_requests_the_server_holds(self):
        client = await aio.connect(self.server.socket, timeout=10.0, max_in_flight=8)
        self.addCleanup(client.close)
        calls = [asyncio.create_task(client.get_default_policy()) for _ in range(20)]
        answered = 0
        for batch in (3, 8, 8, 1):  # 8 sent; 3 answered: 3 more sent; 8 answered: 8 more; ...
            expected = min(20, answered + 8)
            await self.server.wait_for_requests(expected)
            for _ in range(20):  # give the client every chance to send more than it may
                await asyncio.sleep(0)
            self.assertEqual(len(self.server.requests), expected)
            self.assertEqual(client.in_flight, expected - answered)
            await self.server.answer(self.server.requests[answered : answered + batch])
            answered += batch
        results = await asyncio.gather(*calls, return_exceptions=True)
        self.assertEqual({r.code for r in results}, {Code.NOT_FOUND})
        self.assertEqual(client.in_flight, 0)

    async def test_client_timeout_fails_that_call_alone(self):
        client = await aio.connect(self.server.socket, timeout=0.3)
        self.addCleanup(client.close)
        slow = asyncio.create_task(client.get_org_policy("slow"))
        await self.server.wait_for_requests(1)
        start = asyncio.get_running_loop().time()
        with self.assertRaises(PolicydError) as caught:
            await slow
        self.assertGreaterEqual(asyncio.get_running_loop().time() - start, 0.2)
        self.assertEqual(caught.exception.code, Code.DEADLINE_EXCEEDED)
        self.assertTrue(client.connected)
        # The late answer is dropped; the next call gets its own.
        later = asyncio.create_task(client.get_org_policy("later"))
        await self.server.wait_for_requests(2)
        await self.server.answer(self.server.requests)
        with self.assertRaises(PolicydError) as caught:
            await later
        self.assertEqual(caught.exception.message, f"answer {self.server.requests[1]}")
        self.assertEqual(client.in_flight, 0)

    async def test_wait_for_cancels_one_call_and_keeps_the_connection(self):
        client = await aio.connect(self.server.socket, timeout=10.0)
        self.addCleanup(client.close)
        with self.assertRaises(TimeoutError):
            await asyncio.wait_for(client.get_org_policy("first"), 0.05)
        other = asyncio.create_task(client.get_org_policy("second"))
        await self.server.wait_for_requests(2)
        self.assertEqual(client.in_flight, 2)  # the first is still owed an answer
        await self.server.answer(self.server.requests)
        with self.assertRaises(PolicydError) as caught:
            await other
        self.assertEqual(caught.exception.message, f"answer {self.server.requests[1]}")
        self.assertEqual(client.in_flight, 0)

    async def test_connection_closed_mid_flight_fails_every_pending_call(self):
        client = await aio.connect(self.server.socket, timeout=10.0)
        calls = [asyncio.create_task(client.get_org_policy(str(i))) for i in range(30)]
        await self.server.wait_for_requests(30)
        self.server.close_all()
        results = await asyncio.gather(*calls, return_exceptions=True)
        self.assertTrue(all(isinstance(r, PolicydError) for r in results), results)
        self.assertEqual({r.code for r in results}, {Code.UNAVAILABLE})
        self.assertIn("closed", results[0].message)
        self.assertFalse(client.connected)
        with self.assertRaises(PolicydError) as caught:
            await client.get_status()
        self.assertEqual(caught.exception.code, Code.UNAVAILABLE)

    async def test_an_answer_to_no_pending_request_is_internal_for_all(self):
        client = await aio.connect(self.server.socket, timeout=10.0)
        calls = [asyncio.create_task(client.get_org_policy(str(i))) for i in range(3)]
        await self.server.wait_for_requests(3)
        await self.server.answer([999])
        results = await asyncio.gather(*calls, return_exceptions=True)
        self.assertEqual({r.code for r in results}, {Code.INTERNAL})
        self.assertFalse(client.connected)

    async def test_a_connection_level_refusal_fails_every_call_with_its_code(self):
        client = await aio.connect(self.server.socket, timeout=10.0)
        calls = [asyncio.create_task(client.get_org_policy(str(i))) for i in range(3)]
        await self.server.wait_for_requests(3)
        await self.server.answer([0])  # id 0: answered before a request id could be read
        results = await asyncio.gather(*calls, return_exceptions=True)
        self.assertEqual({(r.code, r.message) for r in results}, {(Code.NOT_FOUND, "answer 0")})
        self.assertFalse(client.connected)

    async def test_unreachable_socket_is_unavailable(self):
        with self.assertRaises(PolicydError) as caught:
            await aio.connect(os.path.join(self.server.dir, "none.sock"))
        self.assertEqual(caught.exception.code, Code.UNAVAILABLE)


if __name__ == "__main__":
    unittest.main()
