"""The Python client's policy kinds against the real policyd serving the example snapshot (and
an org setting every field). test_password.py has the password check, test_kinds_wire.py what a
real daemon does not answer.

Expected policies come from the snapshot file: an org's own row of a kind, else the instance
default (which carries isDefault true), compared byte for byte with the client's JSON.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import unittest

from fixtures import REPO, Daemon, policyctl, snapshot_path, spy_on

from policyd_client import (
    Client,
    Code,
    Duration,
    IdpLink,
    IdpType,
    PolicydError,
    PolicyKind,
    SecondFactorType,
    ThemeMode,
)
from policyd_client import kind_json

UNKNOWN_ORG = "no-such-org"
ORG_42 = "300000000000000042"  # own password complexity (12 bytes, no symbol), login, label
ORG_233 = "300000000000000233"  # own lockout and privacy
SNAPSHOT_NAMES = {
    PolicyKind.PASSWORD_COMPLEXITY: "passwordComplexity",
    PolicyKind.PASSWORD_AGE: "passwordAge",
    PolicyKind.LOCKOUT: "lockout",
    PolicyKind.LOGIN: "login",
    PolicyKind.PRIVACY: "privacy",
    PolicyKind.NOTIFICATION: "notification",
    PolicyKind.LABEL: "label",
}
ALL_KINDS = list(PolicyKind)
# The management Get<Kind>PolicyResponse messages with the deprecated top-level `is_default = 2`
# (../shared/upstream/zitadel-events-and-policies.md §3).
TOP_LEVEL_IS_DEFAULT = {
    PolicyKind.PASSWORD_COMPLEXITY,
    PolicyKind.PASSWORD_AGE,
    PolicyKind.LOCKOUT,
    PolicyKind.LOGIN,
    PolicyKind.LABEL,
}


def compact(obj) -> str:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


class Snapshot:
    def __init__(self, path: str):
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
        self.instance = data["instance"]
        self.orgs = {o["id"]: o for o in data["orgs"]}

    def expected(self, org_id, kind) -> tuple[dict, bool]:
        """The upstream's policy object of the org's effective `kind` and whether it is the
        inherited default (org_id None: the instance default)."""
        org = self.orgs.get(org_id, {})
        if kind == PolicyKind.DOMAIN:
            own, default = org.get("policy"), self.instance["policy"]
        else:
            name = SNAPSHOT_NAMES[kind]
            own = org.get("policies", {}).get(name)
            default = self.instance["policies"][name]
        if own is not None:
            return own, False
        assert default.get("isDefault") is True, "the instance defaults carry isDefault"
        return default, True

    def get_body(self, org_id, kind) -> str:
        """What the upstream's GET of `kind` answers: management for an org, admin without."""
        policy, is_default = self.expected(org_id, kind)
        top = org_id is not None and is_default and kind in TOP_LEVEL_IS_DEFAULT
        return '{"policy":' + compact(policy) + (',"isDefault":true' if top else "") + "}"


def expected_value(spec, obj: dict):
    """A field's typed value as the upstream's JSON object `obj` gives it."""
    raw = obj.get(spec.json_name)
    if spec.type == kind_json.BOOL:
        return bool(raw)
    if spec.type == kind_json.UINT64:
        return int(raw or "0")
    if spec.type == kind_json.STRING:
        return raw or ""
    if spec.type == kind_json.DURATION:
        return raw  # compared as str(Duration)
    if spec.type == kind_json.ENUM:
        return spec.enum[raw] if raw else 0
    if spec.type == kind_json.IDP_LINKS:
        unspecified = "IDP_TYPE_UNSPECIFIED"
        return tuple(
            IdpLink(o["idpId"], o.get("idpName", ""), spec.enum[o.get("idpType", unspecified)])
            for o in raw or ()
        )
    return tuple(spec.enum[name] for name in raw or ())


class KindsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.snapshot = Snapshot(snapshot_path())
        cls.daemon = Daemon(snapshot_path())

    @classmethod
    def tearDownClass(cls):
        cls.daemon.stop()

    def setUp(self):
        self.client = Client(self.daemon.socket, timeout=10.0)

    def tearDown(self):
        self.client.close()

    def assert_answer_matches(self, answer, org_id, lookup_org=None):
        """Every kind of `answer` equals the snapshot's effective policy of `lookup_org`: every
        field, is_default, details, and the GET body byte for byte."""
        for kind in ALL_KINDS:
            with self.subTest(org=org_id, kind=kind.name):
                obj, is_default = self.snapshot.expected(lookup_org, kind)
                policy = answer.kind(kind)
                self.assertIsNotNone(policy)
                self.assertEqual(policy.is_default, is_default)
                self.assertEqual(policy.to_json(), compact(obj))
                self.assertEqual(answer.to_json(kind), self.snapshot.get_body(org_id, kind))
                self.assertEqual(str(policy.details.sequence), obj["details"]["sequence"])
                self.assertEqual(policy.details.resource_owner, obj["details"]["resourceOwner"])
                if kind == PolicyKind.DOMAIN:
                    continue
                for spec in policy.fields():
                    value = getattr(policy, spec.name)
                    if spec.type == kind_json.DURATION:
                        value = str(value)
                    self.assertEqual(value, expected_value(spec, obj), spec.name)

    def test_every_kind_of_an_org_with_own_rows_in_one_frame(self):
        answer = self.client.get_org_kinds(ORG_42, reversed(ALL_KINDS))
        self.assertEqual(answer.org_id, ORG_42)
        self.assertTrue(answer.org_known)
        self.assertFalse(answer.stale)
        self.assert_answer_matches(answer, ORG_42, ORG_42)
        # A few typed values, spelled out.
        self.assertEqual(answer.password_complexity.min_length, 12)
        self.assertFalse(answer.password_complexity.has_symbol)
        self.assertTrue(answer.login.force_mfa)
        self.assertEqual(str(answer.login.password_check_lifetime), "86400s")
        self.assertEqual(answer.login.password_check_lifetime.total_nanos, 86400 * 10**9)
        self.assertEqual(answer.login.password_check_lifetime.to_timedelta().days, 1)
        self.assertEqual(answer.login.second_factors, (SecondFactorType.SECOND_FACTOR_TYPE_U2F,))
        self.assertEqual(answer.label.theme_mode, ThemeMode.THEME_MODE_LIGHT)
        self.assertTrue(answer.lockout.is_default)
        # Its own login policy's IdP links, in order (the instance's link is not merged in).
        self.assertEqual(
            answer.login.idps,
            (IdpLink("300000000000000301", "Acme Entra ID", IdpType.IDP_TYPE_OIDC),
             IdpLink("300000000000000302", "Acme Partners", IdpType.IDP_TYPE_JWT)))
        self.assertIn('"multiFactors":["MULTI_FACTOR_TYPE_U2F_WITH_VERIFICATION"],"idps":[{"idpId":'
                      '"300000000000000301","idpName":"Acme Entra ID","idpType":"IDP_TYPE_OIDC"}',
                      answer.to_json(PolicyKind.LOGIN))

    def test_own_rows_and_inherited_defaults_per_kind(self):
        for org_id in self.snapshot.orgs:
            answer = self.client.get_org_kinds(org_id, ALL_KINDS)
            self.assertTrue(answer.org_known)
            self.assert_answer_matches(answer, org_id, org_id)
        answer = self.client.get_org_kinds(ORG_233, [PolicyKind.LOCKOUT, PolicyKind.PRIVACY])
        self.assertFalse(answer.lockout.is_default)
        self.assertEqual(answer.lockout.max_password_attempts, 5)
        self.assertEqual(answer.privacy.support_email, "support@initech.io")
        self.assertIsNone(answer.policy, "DOMAIN was not asked for")
        self.assertIsNone(answer.login)
        with self.assertRaises(ValueError):
            answer.to_json(PolicyKind.LOGIN)

    def test_an_unknown_org_gets_the_instance_defaults_unless_strict(self):
        answer = self.client.get_org_kinds(UNKNOWN_ORG, ALL_KINDS)
        self.assertFalse(answer.org_known)
        self.assert_answer_matches(answer, UNKNOWN_ORG, None)
        with self.assertRaises(PolicydError) as caught:
            self.client.get_org_kinds(UNKNOWN_ORG, [PolicyKind.LOGIN], strict=True)
        self.assertEqual(caught.exception.code, Code.NOT_FOUND)
        self.assertTrue(self.client.connected)

    def test_the_instance_defaults_are_the_admin_bodies(self):
        answer = self.client.get_default_kinds(ALL_KINDS)
        self.assertIsNone(answer.org_id)
        self.assert_answer_matches(answer, None, None)
        for kind in ALL_KINDS:
            self.assertTrue(answer.kind(kind).is_default)
            self.assertFalse(answer.to_json(kind).endswith(',"isDefault":true}'), kind.name)

    def test_a_batch_answers_every_org_with_its_own_status(self):
        orgs = [ORG_42, UNKNOWN_ORG, ORG_233]
        kinds = [PolicyKind.PASSWORD_COMPLEXITY, PolicyKind.LOCKOUT, PolicyKind.LABEL]
        loose = self.client.get_orgs_kinds(orgs, kinds)
        self.assertEqual([a.org_id for a in loose], orgs)
        self.assertEqual([a.org_known for a in loose], [True, False, True])
        self.assertTrue(all(a.ok for a in loose))
        self.assertFalse(loose[0].password_complexity.is_default)
        self.assertTrue(loose[1].password_complexity.is_default)
        self.assertFalse(loose[2].lockout.is_default)
        for answer in loose:
            for kind in kinds:
                self.assertEqual(answer.to_json(kind), self.snapshot.get_body(answer.org_id, kind))
        strict = self.client.get_orgs_kinds(orgs, kinds, strict=True)
        self.assertTrue(strict[0].ok and strict[2].ok)
        self.assertEqual(strict[1].error.code, Code.NOT_FOUND)
        self.assertIsNone(strict[1].password_complexity)
        with self.assertRaises(PolicydError):
            strict[1].to_json(PolicyKind.LOCKOUT)
        lockout = PolicyKind.LOCKOUT
        self.assertEqual(strict[2].to_json(lockout), loose[2].to_json(lockout))

    def test_bad_kinds_are_refused_before_sending(self):
        spy = spy_on(self.client)
        for kinds in ([], [8], [PolicyKind.LOGIN, 255]):
            with self.assertRaises(PolicydError) as caught:
                self.client.get_org_kinds(ORG_42, kinds)
            self.assertEqual(caught.exception.code, Code.INVALID_ARGUMENT)
        with self.assertRaises(TypeError):
            self.client.get_org_kinds(ORG_42, "login")
        self.assertEqual(spy.sent, [])
        # Repeats are asked once; the old call still answers the domain policy alone.
        answer = self.client.get_org_kinds(ORG_42, [PolicyKind.LOGIN, PolicyKind.LOGIN])
        self.assertIsNotNone(answer.login)
        old = self.client.get_org_policy(ORG_42)
        self.assertIsNotNone(old.policy)
        self.assertIsNone(old.login)


class EveryFieldTest(unittest.TestCase):
    """An org whose own row of each kind sets every field of the upstream's message, to extreme
    values (uint64 max, Durations with fractions, negative and at Go's limit, escapes, non-ASCII
    text, every factor, the asset URLs): the example snapshot plus
    tests/clients/kinds_every_field.json, whose objects are in the upstream's field order."""

    @classmethod
    def setUpClass(cls):
        with open(os.path.join(REPO, "tests", "clients", "kinds_every_field.json"), "rb") as f:
            cls.org = json.loads(f.read().decode("utf-8"))
        with open(snapshot_path(), encoding="utf-8") as f:
            snapshot = json.load(f)
        snapshot["orgs"].append(cls.org)
        cls.dir = tempfile.mkdtemp(prefix="policyd-py-kinds-")
        path = os.path.join(cls.dir, "snapshot.json")
        with open(path, "w", encoding="utf-8") as f:
            json.dump(snapshot, f, ensure_ascii=False)
        cls.daemon = Daemon(path)

    @classmethod
    def tearDownClass(cls):
        cls.daemon.stop()
        shutil.rmtree(cls.dir, ignore_errors=True)

    def test_every_field_round_trips_byte_for_byte(self):
        with Client(self.daemon.socket, timeout=10.0) as client:
            answer = client.get_org_kinds(self.org["id"], ALL_KINDS)
        for kind, name in SNAPSHOT_NAMES.items():
            obj = self.org["policies"][name]
            policy = answer.kind(kind)
            self.assertEqual(policy.to_json(), compact(obj), name)
            self.assertEqual(answer.to_json(kind), '{"policy":' + compact(obj) + "}", name)
            for spec in policy.fields():
                value = getattr(policy, spec.name)
                if spec.type == kind_json.DURATION:
                    value = str(value)
                self.assertEqual(value, expected_value(spec, obj), spec.name)
        self.assertEqual(answer.password_complexity.min_length, 2**64 - 1)
        self.assertEqual(answer.password_complexity.details.sequence, 2**64 - 1)
        self.assertEqual(answer.password_age.details.sequence, 2**53 + 1)
        login = answer.login
        self.assertEqual(login.mfa_init_skip_lifetime.total_nanos, -2_000_000_001)
        self.assertEqual(login.mfa_init_skip_lifetime, Duration(-2, -1))
        self.assertEqual(login.second_factor_check_lifetime.total_nanos, 2**63 - 1)
        self.assertEqual(login.external_login_check_lifetime.to_timedelta().microseconds, 1)
        self.assertEqual(len(login.second_factors), 4)
        # The IdP links: OIDC, JWT and UNSPECIFIED (type left out), one without a name, in order.
        self.assertEqual(
            login.idps,
            (
                IdpLink("400000000000000001", 'Okta "corp" é', IdpType.IDP_TYPE_OIDC),
                IdpLink("400000000000000002", "", IdpType.IDP_TYPE_JWT),
                IdpLink("400000000000000003", "GitHub", IdpType.IDP_TYPE_UNSPECIFIED),
            ),
        )
        self.assertIs(type(login.idps[2].idp_type), IdpType)
        self.assertIn(
            '"multiFactors":["MULTI_FACTOR_TYPE_U2F_WITH_VERIFICATION"],"idps":[{"idpId":'
            '"400000000000000001","idpName":"Okta \\"corp\\" é","idpType":"IDP_TYPE_OIDC"},'
            '{"idpId":"400000000000000002","idpType":"IDP_TYPE_JWT"},'
            '{"idpId":"400000000000000003","idpName":"GitHub"}],"allowDomainDiscovery":true',
            login.to_json(),
        )
        self.assertIn(r"line\nbreak", answer.privacy.to_json())
        # The daemon's own rendering (policyctl get), the IdP links included.
        for kind in SNAPSHOT_NAMES:
            cli_name = answer.kind(kind).CLI_NAME
            ctl = policyctl(self.daemon.socket, "get", "--kind", cli_name, "--org", self.org["id"])
            self.assertEqual(ctl.returncode, 0, ctl.stderr)
            self.assertEqual((answer.to_json(kind) + "\n").encode("utf-8"), ctl.stdout, kind.name)
        self.assertEqual(answer.label.theme_mode, ThemeMode.THEME_MODE_DARK)
        self.assertTrue(answer.label.font_url.endswith("font-3.ttf"))


if __name__ == "__main__":
    unittest.main()
