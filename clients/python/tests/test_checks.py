"""The Python client's local checks against the real policyd serving a snapshot with domains.

The orgs, domains and flags each case needs are picked from the snapshot file itself (an org
whose effective policy requires domain login names and that has verified and unverified domains,
...), so the expectations follow the snapshot rather than a copy of it.
"""

from __future__ import annotations

import json
import unittest

from fixtures import Daemon, policyctl, snapshot_path

from policyd_client import Check, CheckKind, CheckReason, Client, Code, PolicydError

UNKNOWN_ORG = "no-such-org"


class Snapshot:
    """The snapshot file, with each org's effective flags and domains."""

    def __init__(self, path: str):
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
        self.instance = data["instance"]["policy"]
        self.instance_domains = [d["domain"] for d in data.get("instanceDomains", [])]
        self.orgs = data["orgs"]

    def flags(self, org: dict) -> dict:
        return org.get("policy", self.instance)

    def org(self, flag: str, on: bool, verified: bool, unverified: bool) -> dict:
        """The first org whose effective `flag` is `on`, with at least one verified domain
        (`verified`) and one unverified (`unverified`) as asked."""
        for org in self.orgs:
            domains = org.get("domains", [])
            if (
                self.flags(org).get(flag, False) == on
                and (not verified or any(d.get("isVerified") for d in domains))
                and (not unverified or any(not d.get("isVerified") for d in domains))
            ):
                return org
        raise AssertionError(f"the snapshot needs an org with {flag}={on} and such domains")


def verified(org: dict) -> list[str]:
    return [d["domainName"] for d in org["domains"] if d.get("isVerified")]


def unverified(org: dict) -> list[str]:
    return [d["domainName"] for d in org["domains"] if not d.get("isVerified")]


class ChecksTest(unittest.TestCase):
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

    def test_login_name_on_an_org_that_requires_its_verified_domains(self):
        org = self.snapshot.org("userLoginMustBeDomain", True, verified=True, unverified=True)
        domain = verified(org)[0]
        answer = self.client.check_login_name(org["id"], "alice@" + domain.upper())
        self.assertTrue(answer.allowed, answer.message)
        self.assertEqual(answer.reason, CheckReason.ALLOWED_VERIFIED_DOMAIN)
        self.assertEqual(answer.matched_domain, domain)
        self.assertEqual(answer.kind, CheckKind.LOGIN_NAME)
        self.assertEqual(answer.org_id, org["id"])
        self.assertTrue(answer.org_known)
        self.assertTrue(answer.policy.user_login_must_be_domain)
        self.assertEqual(answer.policy.is_default, "policy" not in org)
        self.assertFalse(answer.stale)

        answer = self.client.check_login_name(org["id"], "alice@" + unverified(org)[0])
        self.assertFalse(answer.allowed)
        self.assertEqual(answer.reason, CheckReason.DOMAIN_NOT_VERIFIED)
        answer = self.client.check_login_name(org["id"], "alice@not-a-domain-of.example")
        self.assertEqual(answer.reason, CheckReason.DOMAIN_NOT_IN_ORG)
        answer = self.client.check_login_name(org["id"], "alice")
        self.assertEqual(answer.reason, CheckReason.MISSING_DOMAIN)
        self.assertIn("no '@'", answer.message)

    def test_login_name_without_the_flag_is_the_username_itself(self):
        org = self.snapshot.org("userLoginMustBeDomain", False, verified=False, unverified=False)
        for name in ["alice", "alice@anything.example"]:
            answer = self.client.check_login_name(org["id"], name)
            self.assertTrue(answer.allowed, answer.message)
            self.assertEqual(answer.reason, CheckReason.ALLOWED_BARE_USERNAME)
            self.assertEqual(answer.matched_domain, "")
        answer = self.client.check_login_name(org["id"], "")
        self.assertFalse(answer.allowed)
        self.assertEqual(answer.reason, CheckReason.INVALID_LOGIN_NAME)

    def test_bare_username_on_another_orgs_verified_domain_is_refused(self):
        org = self.snapshot.org("userLoginMustBeDomain", False, verified=True, unverified=False)
        other = next(
            o
            for o in self.snapshot.orgs
            if o["id"] != org["id"] and any(d.get("isVerified") for d in o.get("domains", []))
        )
        taken = verified(other)[0]
        answer = self.client.check_login_name(org["id"], "bob@" + taken.upper())
        self.assertFalse(answer.allowed, answer.message)
        self.assertEqual(answer.reason, CheckReason.DOMAIN_NOT_ALLOWED_AS_USERNAME)
        self.assertEqual(answer.reason.name, "DOMAIN_NOT_ALLOWED_AS_USERNAME")
        self.assertEqual(answer.matched_domain, taken)
        self.assertIn(other["id"], answer.message)
        # Its own verified domain is fine, and so is one nobody has verified.
        for name in ["bob@" + verified(org)[0], "bob@gmail.example"]:
            answer = self.client.check_login_name(org["id"], name)
            self.assertTrue(answer.allowed, answer.message)
            self.assertEqual(answer.reason, CheckReason.ALLOWED_BARE_USERNAME)

    def test_smtp_sender_uses_the_instance_policy_and_domains(self):
        required = self.snapshot.instance.get("smtpSenderAddressMatchesInstanceDomain", False)
        self.assertTrue(required and self.snapshot.instance_domains, "the snapshot must ask it")
        domain = self.snapshot.instance_domains[0]
        answer = self.client.check_smtp_sender("noreply@" + domain)
        self.assertTrue(answer.allowed, answer.message)
        self.assertEqual(answer.reason, CheckReason.ALLOWED_INSTANCE_DOMAIN)
        self.assertEqual(answer.matched_domain, domain)
        self.assertIsNone(answer.org_id)
        self.assertTrue(answer.policy.is_default)
        org_domain = verified(self.snapshot.org("userLoginMustBeDomain", True, True, False))[0]
        answer = self.client.check_smtp_sender("noreply@" + org_domain)
        self.assertFalse(answer.allowed)
        self.assertEqual(answer.reason, CheckReason.SENDER_DOMAIN_NOT_INSTANCE_DOMAIN)
        answer = self.client.check_smtp_sender("noreply")
        self.assertEqual(answer.reason, CheckReason.INVALID_ADDRESS)

    def test_domain_verification(self):
        org = self.snapshot.org("validateOrgDomains", True, verified=True, unverified=True)
        answer = self.client.check_domain_verification(org["id"], "new-domain.example")
        self.assertFalse(answer.allowed)
        self.assertEqual(answer.reason, CheckReason.VERIFICATION_REQUIRED)
        self.assertFalse(answer.domain_on_org)
        answer = self.client.check_domain_verification(org["id"], unverified(org)[0])
        self.assertFalse(answer.allowed)
        self.assertEqual(answer.reason, CheckReason.DOMAIN_NOT_VERIFIED)
        self.assertTrue(answer.domain_on_org)
        self.assertFalse(answer.domain_verified)
        answer = self.client.check_domain_verification(org["id"], verified(org)[0])
        self.assertTrue(answer.allowed)
        self.assertEqual(answer.reason, CheckReason.DOMAIN_ALREADY_VERIFIED)
        self.assertTrue(answer.domain_verified)

    def test_errors_the_daemon_answers_are_raised_and_keep_the_connection(self):
        with self.assertRaises(PolicydError) as caught:
            self.client.check_login_name(UNKNOWN_ORG, "alice", strict=True)
        self.assertEqual(caught.exception.code, Code.NOT_FOUND)
        with self.assertRaises(PolicydError) as caught:
            self.client.check(Check(CheckKind.SMTP_SENDER, "a@b.example", org_id="42"))
        self.assertEqual(caught.exception.code, Code.INVALID_ARGUMENT)
        with self.assertRaises(PolicydError) as caught:
            self.client.check_login_name("", "alice")
        self.assertEqual(caught.exception.code, Code.INVALID_ARGUMENT)
        self.assertTrue(self.client.connected)
        answer = self.client.check_login_name(UNKNOWN_ORG, "alice")  # not strict: the default
        self.assertFalse(answer.org_known)
        self.assertTrue(answer.policy.is_default)

    def test_batch_answers_in_request_order_with_per_check_errors(self):
        org = self.snapshot.org("userLoginMustBeDomain", True, verified=True, unverified=False)
        checks = [
            Check.login_name(org["id"], "alice@" + verified(org)[0]),
            Check.login_name(UNKNOWN_ORG, "alice", strict=True),
            Check.smtp_sender("noreply@" + self.snapshot.instance_domains[0]),
            Check.domain_verification(org["id"], verified(org)[0]),
            Check.login_name("", "alice"),
        ]
        answers = self.client.check_batch(checks)
        self.assertEqual([a.ok for a in answers], [True, False, True, True, False])
        self.assertEqual([a.allowed for a in answers], [True, False, True, True, False])
        self.assertEqual(answers[1].error.code, Code.NOT_FOUND)
        self.assertEqual(answers[1].org_id, UNKNOWN_ORG)
        self.assertIsNone(answers[1].policy)
        self.assertEqual(answers[4].error.code, Code.INVALID_ARGUMENT)
        self.assertEqual(
            [a.kind for a in answers],
            [CheckKind.LOGIN_NAME, CheckKind.LOGIN_NAME, CheckKind.SMTP_SENDER,
             CheckKind.DOMAIN_VERIFICATION, CheckKind.LOGIN_NAME],
        )

    def test_the_same_answer_as_policyctl_check(self):
        org = self.snapshot.org("userLoginMustBeDomain", True, verified=True, unverified=False)
        name = "alice@" + verified(org)[0]
        ctl = policyctl(self.daemon.socket, "check", "login-name", org["id"], name, "--json")
        self.assertEqual(ctl.returncode, 0, ctl.stderr)
        printed = json.loads(ctl.stdout)
        answer = self.client.check_login_name(org["id"], name)
        self.assertEqual(printed["allowed"], answer.allowed)
        self.assertEqual(printed["reason"], answer.reason.name)
        self.assertEqual(printed["matchedDomain"], answer.matched_domain)
        self.assertEqual(printed["message"], answer.message)
        self.assertEqual(printed["policy"], json.loads(answer.policy.to_json()))


if __name__ == "__main__":
    unittest.main()
