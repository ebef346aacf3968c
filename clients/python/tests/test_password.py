"""The Python client's password check against the real policyd serving the example snapshot:
each rule of an org's own password complexity policy and of the instance default, and the
password sent once, wiped, and never answered back.
"""

from __future__ import annotations

import unittest

from fixtures import Daemon, snapshot_path, spy_on

from policyd_client import Check, CheckKind, CheckReason, Client, Code, PolicydError

UNKNOWN_ORG = "no-such-org"
ORG_42 = "300000000000000042"  # own password complexity: 12 bytes, no symbol
ORG_233 = "300000000000000233"  # the instance default (8 bytes, all four classes)
ORG_107 = "300000000000000107"  # the instance default


class PasswordTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.daemon = Daemon(snapshot_path())

    @classmethod
    def tearDownClass(cls):
        cls.daemon.stop()

    def setUp(self):
        self.client = Client(self.daemon.socket, timeout=10.0)

    def tearDown(self):
        self.client.close()

    def verdict(self, org_id, password, reason, error_id, is_default):
        answer = self.client.check_password(org_id, password)
        self.assertEqual(answer.kind, CheckKind.PASSWORD)
        self.assertEqual(answer.reason, reason, answer.message)
        self.assertEqual(answer.allowed, reason == CheckReason.PASSWORD_ALLOWED)
        self.assertEqual(answer.error_id, error_id)
        self.assertEqual(answer.message == "", reason == CheckReason.PASSWORD_ALLOWED)
        self.assertIsNone(answer.policy)
        self.assertEqual(answer.is_default, is_default)
        self.assertEqual(answer.password_complexity.is_default, is_default)
        return answer

    def test_each_rule_of_an_orgs_own_policy(self):
        r = CheckReason
        self.verdict(ORG_42, "Abcdefghij1", r.PASSWORD_TOO_SHORT, "DOMAIN-HuJf6", False)
        # Length counts bytes: 11 characters, 12 bytes.
        self.verdict(ORG_42, "Abcdéfghij1", r.PASSWORD_ALLOWED, "", False)
        self.verdict(ORG_42, "ABCDEFGHIJK1", r.PASSWORD_NO_LOWERCASE, "DOMAIN-co3Xw", False)
        self.verdict(ORG_42, "abcdefghijk1", r.PASSWORD_NO_UPPERCASE, "DOMAIN-VoaRj", False)
        self.verdict(ORG_42, "Abcdefghijkl", r.PASSWORD_NO_NUMBER, "DOMAIN-ZBv4H", False)
        answer = self.verdict(ORG_42, "Abcdefghijk1", r.PASSWORD_ALLOWED, "", False)  # no symbol
        self.assertEqual(answer.password_complexity.min_length, 12)
        self.assertEqual(answer.org_id, ORG_42)
        short = self.verdict(ORG_42, "", r.PASSWORD_TOO_SHORT, "DOMAIN-HuJf6", False)
        self.assertEqual(short.message, "Password is too short")

    def test_each_rule_of_the_instance_default(self):
        r = CheckReason
        for org_id in (ORG_107, ORG_233, UNKNOWN_ORG):
            self.verdict(org_id, "Ab1!xyz", r.PASSWORD_TOO_SHORT, "DOMAIN-HuJf6", True)
            self.verdict(org_id, "AB1!XYZW", r.PASSWORD_NO_LOWERCASE, "DOMAIN-co3Xw", True)
            self.verdict(org_id, "ab1!xyzw", r.PASSWORD_NO_UPPERCASE, "DOMAIN-VoaRj", True)
            self.verdict(org_id, "Ab!!xyzw", r.PASSWORD_NO_NUMBER, "DOMAIN-ZBv4H", True)
            self.verdict(org_id, "Ab1xyzwv", r.PASSWORD_NO_SYMBOL, "DOMAIN-ZDLwA", True)
            self.verdict(org_id, "Ab1!xyzw", r.PASSWORD_ALLOWED, "", True)
            # A space and a non-ASCII letter count as symbols.
            self.verdict(org_id, "Ab1 xyzw", r.PASSWORD_ALLOWED, "", True)
            self.verdict(org_id, "Ab1éxyzw", r.PASSWORD_ALLOWED, "", True)
        with self.assertRaises(PolicydError) as caught:
            self.client.check_password(UNKNOWN_ORG, "Ab1!xyzw", strict=True)
        self.assertEqual(caught.exception.code, Code.NOT_FOUND)

    def test_passwords_as_bytes_and_in_a_batch(self):
        answer = self.client.check_password(ORG_42, bytearray(b"Abcdefghijk1"))
        self.assertTrue(answer.allowed)
        answers = self.client.check_batch(
            [
                Check.password(ORG_42, b"short"),
                Check.password(UNKNOWN_ORG, "Ab1!xyzw", strict=True),
                Check.login_name(ORG_42, "alice"),
            ]
        )
        self.assertEqual(answers[0].reason, CheckReason.PASSWORD_TOO_SHORT)
        self.assertEqual(answers[1].error.code, Code.NOT_FOUND)
        self.assertEqual(answers[2].kind, CheckKind.LOGIN_NAME)
        self.assertNotIn("short", repr(Check.password(ORG_42, "short")))

    def test_a_password_that_is_no_unicode_text_is_refused_without_it(self):
        password = "Abc1!\ud800defgh"
        with self.assertRaises(PolicydError) as caught:
            self.client.check_password(ORG_42, password)
        self.assertEqual(caught.exception.code, Code.INVALID_ARGUMENT)
        self.assertNotIn("Abc1!", str(caught.exception))
        self.assertIsNone(caught.exception.__context__)
        self.assertTrue(self.client.connected)

    def test_the_password_is_sent_once_then_wiped_and_never_answered(self):
        spy = spy_on(self.client)
        password = "Sup3r secret!"
        answer = self.client.check_password(ORG_42, password)
        self.assertTrue(answer.allowed)
        self.assertEqual(len(spy.sent), 1)
        frame, copy = spy.sent[0]
        self.assertIn(password.encode(), copy, "the frame held the password when sent")
        self.assertEqual(frame, bytearray(len(frame)), "the frame is zeroed after sending")
        self.assertNotIn(password.encode(), bytes(spy.received))
        self.assertNotIn(password, repr(answer))


if __name__ == "__main__":
    unittest.main()
