"""The Python client against the real policyd (serving a snapshot) and against fake servers.

Expected policies come from the snapshot file itself: an org's own policy, or the instance
default with isDefault for an org without one or unknown to the daemon.
"""

from __future__ import annotations

import json
import struct
import time
import unittest

from fixtures import Daemon, FakeServer, policyctl, response_frame, snapshot_path, status_frame

from policyd_client import (
    Client,
    Code,
    FleetConnection,
    FleetPublisher,
    FleetRole,
    Health,
    PolicydError,
    Timestamp,
)
from policyd_client.fb import response_generated as rs
from policyd_client.messages import Response
from policyd_client.upstream_json import format_timestamp

UNKNOWN_ORG = "no-such-org"


def load_snapshot():
    with open(snapshot_path(), encoding="utf-8") as f:
        return json.load(f)


class DaemonTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.snapshot = load_snapshot()
        cls.instance = cls.snapshot["instance"]
        cls.own = [o["id"] for o in cls.snapshot["orgs"] if "policy" in o]
        cls.inheriting = [o["id"] for o in cls.snapshot["orgs"] if "policy" not in o]
        assert cls.own and cls.inheriting, "the snapshot needs orgs with and without a policy"
        cls.daemon = Daemon(snapshot_path())

    @classmethod
    def tearDownClass(cls):
        cls.daemon.stop()

    def setUp(self):
        self.client = Client(self.daemon.socket, timeout=10.0)

    def tearDown(self):
        self.client.close()

    def expected_policy(self, org_id):
        """The upstream's JSON object for the org's effective policy, from the snapshot."""
        for org in self.snapshot["orgs"]:
            if org["id"] == org_id and "policy" in org:
                return org["policy"]
        return dict(self.instance["policy"], isDefault=True)

    def test_org_with_own_policy(self):
        org = self.own[0]
        answer = self.client.get_org_policy(org)
        self.assertEqual(answer.org_id, org)
        self.assertTrue(answer.org_known)
        self.assertFalse(answer.stale)
        self.assertIsNone(answer.error)
        expected = self.expected_policy(org)
        policy = answer.policy
        self.assertFalse(policy.is_default)
        self.assertEqual(
            policy.user_login_must_be_domain, expected.get("userLoginMustBeDomain", False)
        )
        self.assertEqual(policy.validate_org_domains, expected.get("validateOrgDomains", False))
        self.assertEqual(
            policy.smtp_sender_address_matches_instance_domain,
            expected.get("smtpSenderAddressMatchesInstanceDomain", False),
        )
        details = expected["details"]
        self.assertEqual(policy.details.sequence, int(details["sequence"]))
        self.assertEqual(policy.details.resource_owner, org)
        self.assertEqual(policy.details.creation_date.rfc3339(), details["creationDate"])
        self.assertEqual(policy.details.change_date.rfc3339(), details["changeDate"])
        self.assertEqual(json.loads(answer.to_json()), {"policy": expected})

    def test_org_without_policy_gets_the_default(self):
        org = self.inheriting[0]
        answer = self.client.get_org_policy(org)
        self.assertTrue(answer.org_known)
        self.assertTrue(answer.policy.is_default)
        self.assertEqual(answer.policy.details.resource_owner, self.instance["id"])
        self.assertEqual(json.loads(answer.to_json()), {"policy": self.expected_policy(org)})

    def test_unknown_org_gets_the_default_and_is_not_known(self):
        answer = self.client.get_org_policy(UNKNOWN_ORG)
        self.assertEqual(answer.org_id, UNKNOWN_ORG)
        self.assertFalse(answer.org_known)
        self.assertTrue(answer.policy.is_default)
        expected = self.expected_policy(UNKNOWN_ORG)
        self.assertEqual(json.loads(answer.to_json()), {"policy": expected})

    def test_strict_lookup_of_unknown_org_raises_not_found_and_keeps_the_connection(self):
        with self.assertRaises(PolicydError) as caught:
            self.client.get_org_policy(UNKNOWN_ORG, strict=True)
        self.assertEqual(caught.exception.code, Code.NOT_FOUND)
        self.assertEqual(int(caught.exception.code), 5)
        self.assertIn(UNKNOWN_ORG, caught.exception.message)
        self.assertTrue(self.client.connected)
        self.assertTrue(self.client.get_org_policy(self.own[0], strict=True).org_known)

    def test_invalid_org_ids_are_invalid_argument_from_the_daemon(self):
        for bad in ["", "x" * 201]:
            with self.subTest(length=len(bad)):
                with self.assertRaises(PolicydError) as caught:
                    self.client.get_org_policy(bad)
                self.assertEqual(caught.exception.code, Code.INVALID_ARGUMENT)
                self.assertEqual(int(caught.exception.code), 3)
        self.assertTrue(self.client.connected)
        self.assertTrue(self.client.get_status().has_instance)

    def test_batch_answers_in_request_order(self):
        orgs = [self.inheriting[0], UNKNOWN_ORG, self.own[0], self.own[-1], self.inheriting[-1]]
        answers = self.client.get_org_policies(orgs)
        self.assertEqual([a.org_id for a in answers], orgs)
        self.assertEqual([a.org_known for a in answers], [o != UNKNOWN_ORG for o in orgs])
        for org, answer in zip(orgs, answers):
            self.assertTrue(answer.ok)
            self.assertEqual(json.loads(answer.to_json()), {"policy": self.expected_policy(org)})

    def test_strict_batch_fails_only_the_unknown_org(self):
        orgs = [self.own[0], UNKNOWN_ORG, self.inheriting[0]]
        answers = self.client.get_org_policies(orgs, strict=True)
        self.assertEqual([a.ok for a in answers], [True, False, True])
        self.assertEqual(answers[1].error.code, Code.NOT_FOUND)
        self.assertIsNone(answers[1].policy)
        self.assertFalse(answers[1].org_known)
        self.assertTrue(answers[2].policy.is_default)
        with self.assertRaises(PolicydError):
            answers[1].to_json()

    def test_batch_with_an_invalid_id_fails_only_that_entry(self):
        answers = self.client.get_org_policies([self.own[0], ""])
        self.assertTrue(answers[0].ok)
        self.assertEqual(answers[1].error.code, Code.INVALID_ARGUMENT)

    def test_default_policy(self):
        answer = self.client.get_default_policy()
        self.assertIsNone(answer.org_id)
        self.assertTrue(answer.policy.is_default)
        self.assertEqual(answer.policy.details.resource_owner, self.instance["id"])
        self.assertEqual(json.loads(answer.to_json()), {"policy": self.expected_policy(None)})

    def test_status(self):
        status = self.client.get_status()
        self.assertEqual(status.health, Health.SERVING)
        self.assertEqual(status.instance_id, self.instance["id"])
        self.assertEqual(status.org_count, len(self.snapshot["orgs"]))
        self.assertEqual(status.custom_policy_count, len(self.own))
        self.assertTrue(status.has_instance)
        self.assertIn("snapshot", status.source)
        self.assertEqual(status.upstream, "")
        self.assertFalse(status.stale)
        self.assertTrue(status.version)
        self.assertIsNotNone(status.now)
        self.assertLessEqual(status.last_change.seconds, status.now.seconds)
        self.assertIsNone(status.fleet)  # a snapshot server is not in fleet mode

    def test_json_is_byte_for_byte_what_policyctl_prints(self):
        cases = [[]] + [["--org", o] for o in self.own + self.inheriting + [UNKNOWN_ORG]]
        for args in cases:
            with self.subTest(args=args):
                ctl = policyctl(self.daemon.socket, "get", *args)
                self.assertEqual(ctl.returncode, 0, ctl.stderr)
                if args:
                    answer = self.client.get_org_policy(args[1])
                else:
                    answer = self.client.get_default_policy()
                self.assertEqual((answer.to_json() + "\n").encode("utf-8"), ctl.stdout)


class TimestampFormatTest(unittest.TestCase):
    def test_formats_like_protojson(self):
        cases = [
            (Timestamp(0, 0), "1970-01-01T00:00:00Z"),
            (Timestamp(1739260801, 500_000_000), "2025-02-11T08:00:01.500Z"),
            (Timestamp(1740820364, 123_456_000), "2025-03-01T09:12:44.123456Z"),
            (Timestamp(1740654352, 904_811_027), "2025-02-27T11:05:52.904811027Z"),
            (Timestamp(951782400, 0), "2000-02-29T00:00:00Z"),
            (Timestamp(-62135596800, 0), "0001-01-01T00:00:00Z"),
            (Timestamp(253402300799, 999_999_999), "9999-12-31T23:59:59.999999999Z"),
            (Timestamp(-1, 0), "1969-12-31T23:59:59Z"),
        ]
        for ts, text in cases:
            with self.subTest(text=text):
                self.assertEqual(format_timestamp(ts), text)


FOLLOWER = {
    "role": FleetRole.FOLLOWER,
    "servers": "nats://10.0.0.1:4222,nats://10.0.0.2:4222",
    "bucket": "policyd",
    "connection": FleetConnection.RECONNECTING,
    "cursor": 1234567890123,
    "caught_up": True,
    "values_applied": 11,
    "values_skipped": 12,
    "values_refused": 13,
    "cold_starts": 14,
}
PUBLISHERS = (
    ("pub-a", (1765000195, 500000000), "iam.example.com"),
    ("pub-b", None, "/etc/policyd/snapshot.json"),
)


def decode_status(frame: bytes):
    return Response(frame[4:]).status()


class FleetStatusTest(unittest.TestCase):
    """StatusReply.fleet as a publisher or follower sends it (the real ones need NATS; the
    frames here are built with the generated code, as the daemon's encoder lays them out)."""

    def test_a_followers_fleet_status_is_decoded(self):
        fleet = decode_status(status_frame(1, FOLLOWER, PUBLISHERS)).fleet
        self.assertIsNotNone(fleet)
        self.assertEqual(fleet.role, FleetRole.FOLLOWER)
        self.assertEqual(fleet.servers, "nats://10.0.0.1:4222,nats://10.0.0.2:4222")
        self.assertEqual(fleet.bucket, "policyd")
        self.assertEqual(fleet.connection, FleetConnection.RECONNECTING)
        self.assertEqual(fleet.cursor, 1234567890123)
        self.assertTrue(fleet.caught_up)
        self.assertEqual(
            fleet.publishers,
            (
                FleetPublisher("pub-a", Timestamp(1765000195, 500000000), "iam.example.com"),
                FleetPublisher("pub-b", None, "/etc/policyd/snapshot.json"),
            ),
        )
        self.assertEqual(
            (fleet.values_applied, fleet.values_skipped, fleet.values_refused, fleet.cold_starts),
            (11, 12, 13, 14),
        )
        self.assertEqual((fleet.writes, fleet.write_conflicts, fleet.write_errors), (0, 0, 0))

    def test_a_publishers_counters_are_decoded(self):
        fleet = decode_status(status_frame(1, {
            "role": FleetRole.PUBLISHER, "bucket": "prod", "connection": FleetConnection.CONNECTED,
            "cursor": 77, "writes": 21, "write_conflicts": 22, "write_errors": 23,
            "resync_passes": 24,
        }, PUBLISHERS[:1])).fleet
        self.assertEqual(fleet.role, FleetRole.PUBLISHER)
        self.assertEqual(fleet.connection, FleetConnection.CONNECTED)
        self.assertEqual(
            (fleet.cursor, fleet.writes, fleet.write_conflicts, fleet.write_errors,
             fleet.resync_passes),
            (77, 21, 22, 23, 24),
        )
        self.assertEqual(len(fleet.publishers), 1)

    def test_no_fleet_table_is_none(self):
        status = decode_status(status_frame(1))
        self.assertIsNone(status.fleet)
        self.assertEqual(status.org_count, 3)

    def test_a_newer_daemons_role_and_connection_keep_their_numbers(self):
        fleet = decode_status(status_frame(1, {"role": 9, "connection": 7})).fleet
        self.assertEqual(fleet.role, 9)
        self.assertEqual(fleet.connection, 7)

    def test_hostile_fleet_tables_are_refused(self):
        cases = {
            "no role": ({"bucket": "b"}, ()),
            "a publisher without an id": (FOLLOWER, ((None, (1, 0), "x"),)),
            "a publisher with an empty id": (FOLLOWER, (("", (1, 0), "x"),)),
            "nanos out of range": (FOLLOWER, (("p", (1, 1000000000), "x"),)),
        }
        for name, (fleet, publishers) in cases.items():
            with self.subTest(name):
                with self.assertRaises(ValueError):
                    decode_status(status_frame(1, fleet, publishers))

    def test_a_publishers_vector_longer_than_the_frame_is_refused(self):
        frame = bytearray(status_frame(1, FOLLOWER, PUBLISHERS[:1]))
        fleet = Response(bytes(frame[4:]))._body(rs.StatusReply).Fleet()
        vector = fleet._tab.Vector(fleet._tab.Offset(16))  # publishers: the 7th field
        struct.pack_into("<I", frame, 4 + vector - 4, 0x7FFFFFFF)
        with self.assertRaises(ValueError):
            decode_status(bytes(frame))

    def test_the_client_returns_the_fleet_status_and_refuses_a_hostile_one(self):
        server = FakeServer(lambda request_id: status_frame(request_id, FOLLOWER, PUBLISHERS))
        self.addCleanup(server.stop)
        with Client(server.socket, timeout=5) as client:
            status = client.get_status()
        self.assertEqual(status.fleet.bucket, "policyd")
        self.assertEqual(status.fleet.publishers[0].id, "pub-a")

        hostile = FakeServer(lambda request_id: status_frame(request_id, {"servers": "x"}))
        self.addCleanup(hostile.stop)
        client = Client(hostile.socket, timeout=5)
        self.addCleanup(client.close)
        with self.assertRaises(PolicydError) as caught:
            client.get_status()
        self.assertEqual(caught.exception.code, Code.INTERNAL)


class TransportTest(unittest.TestCase):
    def serve(self, reply=None, close=False):
        server = FakeServer(reply, close)
        self.addCleanup(server.stop)
        return server

    def test_unreachable_socket_is_unavailable(self):
        with self.assertRaises(PolicydError) as caught:
            Client("/nonexistent/policyd.sock")
        self.assertEqual(caught.exception.code, Code.UNAVAILABLE)

    def test_silent_server_times_out_and_closes_the_connection(self):
        server = self.serve(reply=None)
        client = Client(server.socket, timeout=0.3)
        self.addCleanup(client.close)
        start = time.monotonic()
        with self.assertRaises(PolicydError) as caught:
            client.get_org_policy("42")
        elapsed = time.monotonic() - start
        self.assertEqual(caught.exception.code, Code.DEADLINE_EXCEEDED)
        self.assertGreaterEqual(elapsed, 0.29)
        self.assertLess(elapsed, 5.0)  # generous: only "it did not hang"
        self.assertFalse(client.connected)
        with self.assertRaises(PolicydError) as again:
            client.get_status()
        self.assertEqual(again.exception.code, Code.UNAVAILABLE)

    def test_answer_to_another_request_is_internal(self):
        server = self.serve(reply=lambda request_id: response_frame(request_id + 1, 5, "x"))
        client = Client(server.socket, timeout=5)
        self.addCleanup(client.close)
        with self.assertRaises(PolicydError) as caught:
            client.get_org_policy("42")
        self.assertEqual(caught.exception.code, Code.INTERNAL)
        self.assertFalse(client.connected)

    def test_connection_level_refusal_raises_its_code(self):
        refusal = response_frame(0, int(Code.RESOURCE_EXHAUSTED), "policyd is serving its maximum")
        server = self.serve(reply=refusal, close=True)
        with self.assertRaises(PolicydError) as caught, Client(server.socket, timeout=5) as client:
            client.get_default_policy()
        self.assertEqual(caught.exception.code, Code.RESOURCE_EXHAUSTED)
        self.assertIn("maximum", caught.exception.message)

    def test_undecodable_answer_is_internal(self):
        garbage = (12).to_bytes(4, "little") + b"\x08\x00\x00\x00XXXX\x00\x00\x00\x00"
        server = self.serve(reply=garbage)
        client = Client(server.socket, timeout=5)
        self.addCleanup(client.close)
        with self.assertRaises(PolicydError) as caught:
            client.get_status()
        self.assertEqual(caught.exception.code, Code.INTERNAL)
        self.assertFalse(client.connected)

    def test_closed_connection_is_unavailable(self):
        server = self.serve(reply=b"", close=True)
        with self.assertRaises(PolicydError) as caught, Client(server.socket, timeout=5) as client:
            client.get_status()
        self.assertEqual(caught.exception.code, Code.UNAVAILABLE)


if __name__ == "__main__":
    unittest.main()
