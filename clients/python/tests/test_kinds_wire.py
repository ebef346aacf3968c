"""The Python client's decoding of policy kinds beyond what a real daemon answers: an older
daemon's domain-only answer, a newer one's enum numbers (IdP types too), tables and IdP links
against the rules, and answers with random bytes changed.
"""

from __future__ import annotations

import dataclasses
import random
import struct
import unittest

import flatbuffers
from fixtures import Daemon, FakeServer, snapshot_path, spy_on

from policyd_client import (
    Client,
    Code,
    IdpLink,
    IdpType,
    PolicyAnswer,
    PolicydError,
    PolicyKind,
    SecondFactorType,
)
from policyd_client import kind_json, messages
from policyd_client.fb import response_generated as rs
from policyd_client.kinds import ANSWER_FIELDS, KIND_CLASSES

ORG_42 = "300000000000000042"
ALL_KINDS = list(PolicyKind)


class MutatedAnswersTest(unittest.TestCase):
    """Answers with random bytes changed (a broken or hostile peer; Python's FlatBuffers runtime
    has no Verifier) fail as the client's decode errors, which it reports as INTERNAL, and never
    as anything else."""

    DECODE_ERRORS = Client.DECODE_ERRORS

    @classmethod
    def setUpClass(cls):
        daemon = Daemon(snapshot_path())
        try:
            with Client(daemon.socket, timeout=10.0) as client:
                spy = spy_on(client)
                client.get_org_kinds(ORG_42, ALL_KINDS)
                cls.kinds_frame = bytes(spy.received[4:])
                spy.received.clear()
                client.check_password(ORG_42, "short")
                cls.check_frame = bytes(spy.received[4:])
        finally:
            daemon.stop()

    def mutate(self, frame: bytes, decode, seed: int, rounds: int = 1500):
        rng = random.Random(seed)
        failures = 0
        for _ in range(rounds):
            data = bytearray(frame)
            for _ in range(rng.randint(1, 4)):
                data[rng.randrange(len(data))] = rng.randrange(256)
            try:
                decode(messages.Response(bytes(data)))
            except self.DECODE_ERRORS:
                failures += 1
        return failures

    def test_mutated_kinds_answers(self):
        decode = messages.Response(self.kinds_frame).answer(kinds=True)
        self.assertIsNotNone(decode.login)
        failures = self.mutate(self.kinds_frame, lambda r: r.answer(kinds=True), seed=14)
        self.assertGreater(failures, 0, "some mutations must break the frame")

    def test_mutated_answers_with_idp_links(self):
        frame = policy_result_frame(1, lambda b: login_with_links(b, SAMPLE_LINKS), domain=False)
        decoded = messages.Response(frame[4:]).answer(kinds=True)
        self.assertEqual(len(decoded.login.idps), len(SAMPLE_LINKS))
        failures = self.mutate(frame[4:], lambda r: r.answer(kinds=True), seed=21)
        self.assertGreater(failures, 0, "some mutations must break the frame")

    def test_mutated_password_answers(self):
        self.assertIsNotNone(messages.Response(self.check_frame).check().password_complexity)
        failures = self.mutate(self.check_frame, lambda r: r.check(), seed=7)
        self.assertGreater(failures, 0, "some mutations must break the frame")


def policy_result_frame(request_id: int, build_kinds=None, domain: bool = True) -> bytes:
    """A framed PolicyResult for org "org-1": the domain policy (when `domain`) and whatever
    build_kinds(builder) returns: a dict of PolicyResult adder name -> table offset."""
    builder = flatbuffers.Builder(256)
    tables = build_kinds(builder) if build_kinds else {}
    policy = None
    if domain:
        rs.DomainPolicyStart(builder)
        rs.DomainPolicyAddUserLoginMustBeDomain(builder, True)
        policy = rs.DomainPolicyEnd(builder)
    org = builder.CreateString(b"org-1")
    rs.PolicyResultStart(builder)
    rs.PolicyResultAddOrgId(builder, org)
    rs.PolicyResultAddOrgKnown(builder, True)
    if policy is not None:
        rs.PolicyResultAddPolicy(builder, policy)
    for adder, offset in tables.items():
        getattr(rs, "PolicyResultAdd" + adder)(builder, offset)
    body = rs.PolicyResultEnd(builder)
    rs.ResponseStart(builder)
    rs.ResponseAddId(builder, request_id)
    rs.ResponseAddBodyType(builder, rs.ResponseBody.PolicyResult)
    rs.ResponseAddBody(builder, body)
    builder.Finish(rs.ResponseEnd(builder), b"PDRS")
    payload = builder.Output()
    return struct.pack("<I", len(payload)) + payload


def newer_login(builder, second_factors=(2, 9), passwordless=7, nanos=1):
    """A LoginPolicy with enum numbers this client does not know (a newer daemon's)."""
    rs.LoginPolicyStartSecondFactorsVector(builder, len(second_factors))
    for n in reversed(second_factors):
        builder.PrependInt32(n)
    factors = builder.EndVector()
    rs.LoginPolicyStart(builder)
    rs.LoginPolicyAddPasswordlessType(builder, passwordless)
    rs.LoginPolicyAddIsDefault(builder, True)
    rs.LoginPolicyAddPasswordCheckLifetime(builder, rs.CreateDuration(builder, 1, nanos))
    rs.LoginPolicyAddSecondFactors(builder, factors)
    return {"Login": rs.LoginPolicyEnd(builder)}


# (idp_id, idp_name, idp_type) of a LoginPolicy's links; None: the field left out.
SAMPLE_LINKS = (
    (b"400000000000000001", "Okta", 1),
    (b"400000000000000002", None, 3),
    (b"400000000000000003", "GitHub \u00e9", None),
)


def login_with_links(builder, links):
    """A LoginPolicy with IdP links: (idp_id bytes or None, idp_name or None, idp_type or None)
    each."""
    offsets = []
    for idp_id, name, idp_type in links:
        id_offset = builder.CreateString(idp_id) if idp_id is not None else None
        name_offset = builder.CreateString(name) if name is not None else None
        rs.IdpLinkStart(builder)
        if id_offset is not None:
            rs.IdpLinkAddIdpId(builder, id_offset)
        if name_offset is not None:
            rs.IdpLinkAddIdpName(builder, name_offset)
        if idp_type is not None:
            rs.IdpLinkAddIdpType(builder, idp_type)
        offsets.append(rs.IdpLinkEnd(builder))
    rs.LoginPolicyStartIdpsVector(builder, len(offsets))
    for offset in reversed(offsets):
        builder.PrependUOffsetTRelative(offset)
    idps = builder.EndVector()
    rs.LoginPolicyStart(builder)
    rs.LoginPolicyAddIsDefault(builder, True)
    rs.LoginPolicyAddIdps(builder, idps)
    return {"Login": rs.LoginPolicyEnd(builder)}


class FakeDaemonTest(unittest.TestCase):
    def serve(self, reply):
        fake = FakeServer(reply)
        self.addCleanup(fake.stop)
        client = Client(fake.socket, timeout=5.0)
        self.addCleanup(client.close)
        return client

    def test_an_older_daemons_domain_only_answer_is_unimplemented(self):
        client = self.serve(lambda i: policy_result_frame(i))
        with self.assertRaises(PolicydError) as caught:
            client.get_org_kinds("org-1", [PolicyKind.DOMAIN, PolicyKind.LOGIN])
        self.assertEqual(caught.exception.code, Code.UNIMPLEMENTED)
        self.assertIn("login", caught.exception.message)

    def test_enum_numbers_of_a_newer_daemon_are_kept(self):
        client = self.serve(lambda i: policy_result_frame(i, newer_login, domain=False))
        answer = client.get_org_kinds("org-1", [PolicyKind.LOGIN])
        login = answer.login
        self.assertEqual(login.passwordless_type, 7)
        self.assertEqual(login.second_factors, (SecondFactorType.SECOND_FACTOR_TYPE_U2F, 9))
        self.assertEqual(str(login.password_check_lifetime), "1.000000001s")
        self.assertEqual(str(login.external_login_check_lifetime), "0s")
        # Written as policyd writes them: an unknown enum left out, "" inside a list.
        self.assertEqual(
            login.to_json(),
            '{"details":{},"isDefault":true,"passwordCheckLifetime":"1.000000001s",'
            '"externalLoginCheckLifetime":"0s","mfaInitSkipLifetime":"0s",'
            '"secondFactorCheckLifetime":"0s","multiFactorCheckLifetime":"0s",'
            '"secondFactors":["SECOND_FACTOR_TYPE_U2F",""]}',
        )

    def test_idp_links_decode_in_order_and_render_as_policyd(self):
        client = self.serve(
            lambda i: policy_result_frame(i, lambda b: login_with_links(b, SAMPLE_LINKS), False)
        )
        login = client.get_org_kinds("org-1", [PolicyKind.LOGIN]).login
        self.assertEqual(
            login.idps,
            (
                IdpLink("400000000000000001", "Okta", IdpType.IDP_TYPE_OIDC),
                IdpLink("400000000000000002", "", IdpType.IDP_TYPE_JWT),
                IdpLink("400000000000000003", "GitHub \u00e9", IdpType.IDP_TYPE_UNSPECIFIED),
            ),
        )
        self.assertEqual(
            login.to_json(),
            '{"details":{},"isDefault":true,"passwordCheckLifetime":"0s",'
            '"externalLoginCheckLifetime":"0s","mfaInitSkipLifetime":"0s",'
            '"secondFactorCheckLifetime":"0s","multiFactorCheckLifetime":"0s",'
            '"idps":[{"idpId":"400000000000000001","idpName":"Okta","idpType":"IDP_TYPE_OIDC"},'
            '{"idpId":"400000000000000002","idpType":"IDP_TYPE_JWT"},'
            '{"idpId":"400000000000000003","idpName":"GitHub \u00e9"}]}',
        )

    def test_idp_types_of_a_newer_daemon_are_kept(self):
        links = ((b"400000000000000001", "A", 2), (b"400000000000000002", "B", 9))
        client = self.serve(
            lambda i: policy_result_frame(i, lambda b: login_with_links(b, links), False)
        )
        login = client.get_org_kinds("org-1", [PolicyKind.LOGIN]).login
        self.assertEqual([link.idp_type for link in login.idps], [2, 9])
        self.assertNotIsInstance(login.idps[0].idp_type, IdpType)
        # Written as policyd writes an enum it does not know: left out.
        self.assertIn(
            '"idps":[{"idpId":"400000000000000001","idpName":"A"},'
            '{"idpId":"400000000000000002","idpName":"B"}]}',
            login.to_json(),
        )

    def test_idp_links_against_the_rules_are_an_undecodable_answer(self):
        cases = {
            "no idp_id": [(None, "A", 1)],
            "empty idp_id": [(b"", "A", 1)],
            "idp_id over 200 bytes": [(b"4" * 201, "A", 1)],
            "idp_name over 4096 bytes": [(b"1", "n" * 4097, 1)],
            "negative idp_type": [(b"1", "A", -1)],
            "over 1000 links": [(str(i).encode(), None, None) for i in range(1001)],
        }
        for name, links in cases.items():
            with self.subTest(name):
                client = self.serve(
                    lambda i, links=links: policy_result_frame(
                        i, lambda b: login_with_links(b, links), False
                    )
                )
                with self.assertRaises(PolicydError) as caught:
                    client.get_org_kinds("org-1", [PolicyKind.LOGIN])
                self.assertEqual(caught.exception.code, Code.INTERNAL)
                self.assertFalse(client.connected)
        # At the limits: 1000 links, a 200-byte id, a 4096-byte name.
        links = [(b"4" * 200, "n" * 4096, 3)] + [(str(i).encode(), None, 1) for i in range(999)]
        client = self.serve(
            lambda i: policy_result_frame(i, lambda b: login_with_links(b, links), False)
        )
        idps = client.get_org_kinds("org-1", [PolicyKind.LOGIN]).login.idps
        self.assertEqual(len(idps), 1000)
        self.assertEqual(idps[0], IdpLink("4" * 200, "n" * 4096, IdpType.IDP_TYPE_JWT))

    def test_a_table_against_the_rules_is_an_undecodable_answer(self):
        for build in (
            lambda b: newer_login(b, passwordless=-1),
            lambda b: newer_login(b, second_factors=(1,) * 65),
            lambda b: newer_login(b, nanos=-5),  # seconds 1, nanos negative
        ):
            client = self.serve(lambda i, build=build: policy_result_frame(i, build, False))
            with self.assertRaises(PolicydError) as caught:
                client.get_org_kinds("org-1", [PolicyKind.LOGIN])
            self.assertEqual(caught.exception.code, Code.INTERNAL)
            self.assertFalse(client.connected)

    def test_durations_are_written_as_protojson(self):
        cases = {
            0: "0s",
            864000 * 10**9: "864000s",
            1_500_000_000: "1.500s",
            -1: "-0.000000001s",
            1_000_001_000: "1.000001s",
        }
        for nanos, text in cases.items():
            self.assertEqual(kind_json.format_duration(nanos), text)

    def test_every_kind_has_a_class_and_an_answer_attribute(self):
        answer_fields = {f.name for f in dataclasses.fields(PolicyAnswer)}
        self.assertEqual(set(KIND_CLASSES) | {PolicyKind.DOMAIN}, set(PolicyKind))
        for kind in PolicyKind:
            self.assertIn(ANSWER_FIELDS[kind], answer_fields)
        for kind, cls in KIND_CLASSES.items():
            self.assertEqual(cls.KIND, kind)
            self.assertIn("is_default", [f.name for f in cls.fields()])


if __name__ == "__main__":
    unittest.main()
