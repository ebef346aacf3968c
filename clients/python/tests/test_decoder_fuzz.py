"""Differential fuzzing of the fast wire path (fast_wire.py) against the flatc-generated code
(messages.py): on real policyd answers, answers built with the generated builder, those with
bytes changed, cut or added, and random bytes, both decoders must accept and reject the same
frames and give the same answers; and fast GetOrgPolicy requests must read, through the
generated reader, as the requests asked for.

When the C extension is built (policyd_native on PYTHONPATH), its lookup decoder (policyd's C++
decoder behind the FlatBuffers Verifier, then the Python objects built from it) takes the same
single answers: every frame it accepts, the generated code must accept with the same answer. It
may reject more (the Verifier checks what Python's runtime does not read), and it reads a present
but zero timestamp, or an empty org id, as absent (None), which the daemon never sends.

Deterministic: POLICYD_FUZZ_SEED (default 16) seeds it, POLICYD_FUZZ_CASES (default 6000)
sets how many mutated frames each test decodes; raise it for a longer run, e.g.
POLICYD_FUZZ_CASES=500000 python3 -m unittest test_decoder_fuzz.
"""

from __future__ import annotations

import dataclasses
import os
import random
import unittest

import flatbuffers
from fixtures import REPO, Daemon, SocketSpy, snapshot_path

from policyd_client import Client, fast_wire, messages, model
from policyd_client.fb import request_generated as rq
from policyd_client.fb import response_generated as rs

SEED = int(os.environ.get("POLICYD_FUZZ_SEED", "16"))
CASES = int(os.environ.get("POLICYD_FUZZ_CASES", "6000"))
DECODE_ERRORS = Client.DECODE_ERRORS
try:
    import policyd_native as NATIVE

    NATIVE.setup(model)
except ImportError:
    NATIVE = None


def outcome(response_type, payload: bytes, expected: int):
    """What the client makes of `payload` as the answer to a lookup of one org (expected 0) or
    of `expected` orgs: ("rejected",) when decoding raised one of the client's decode errors
    (any other exception fails the test), else the header and the answer's repr."""
    try:
        r = response_type(payload)
        head = (r.id, r.stale, repr(r.error), r.kind)
        if r.error is not None:  # the client raises it; the body is never read
            return ("error", head)
        body = r.answer() if expected == 0 else r.answers(expected)
        return ("answer", head, repr(body))
    except DECODE_ERRORS:
        return ("rejected",)


def _absent_if_zero(t):
    return None if t is None or (t.seconds == 0 and t.nanos == 0) else t


def native_view(answer):
    """The generated decoder's answer as the extension reads the same frame."""
    policy = answer.policy
    if policy is not None:
        d = policy.details
        details = dataclasses.replace(
            d,
            creation_date=_absent_if_zero(d.creation_date),
            change_date=_absent_if_zero(d.change_date),
        )
        policy = dataclasses.replace(policy, details=details)
    return dataclasses.replace(answer, org_id=answer.org_id or None, policy=policy)


def reference_lookup(payload: bytes):
    """A lookup's answer from the generated code, as native_outcome gives it."""
    try:
        r = messages.Response(payload)
        if r.error is not None:
            return ("error", r.id, r.stale, repr(r.error))
        return ("answer", r.id, r.stale, repr(native_view(r.answer())))
    except DECODE_ERRORS:
        return ("rejected",)


def native_outcome(payload: bytes):
    try:
        request_id, stale, error, answer = NATIVE.decode_lookup(payload)
    except ValueError:
        return ("rejected",)
    if error is not None:
        return ("error", request_id, stale, repr(error))
    return ("answer", request_id, stale, repr(answer))


def mutate(rng: random.Random, frame: bytes) -> bytes:
    data = bytearray(frame)
    how = rng.randrange(6)
    if how == 0:  # a few bytes changed
        for _ in range(rng.randint(1, 4)):
            data[rng.randrange(len(data))] = rng.randrange(256)
    elif how == 1:  # one byte set to a boundary value
        data[rng.randrange(len(data))] = rng.choice((0, 1, 0x7F, 0x80, 0xFF))
    elif how == 2:  # cut short
        del data[rng.randrange(8, len(data)) :]
    elif how == 3:  # bytes added at the end
        data += bytes(rng.randrange(256) for _ in range(rng.randint(1, 16)))
    elif how == 4:  # a 32-bit word overwritten (offsets, lengths)
        at = rng.randrange(0, len(data) - 3)
        value = rng.choice((0, 4, 0xFFFF, 0x7FFFFFFF, 0xFFFFFFFF, rng.getrandbits(32)))
        data[at : at + 4] = value.to_bytes(4, "little")
    else:  # a 16-bit word overwritten (vtable sizes and entries)
        at = rng.randrange(0, len(data) - 1)
        value = rng.choice((0, 2, 3, 4, 5, 11, 12, 13, 0xFFFF, rng.getrandbits(16)))
        data[at : at + 2] = value.to_bytes(2, "little")
    return bytes(data)


def random_frame(rng: random.Random) -> bytes:
    data = bytearray(rng.randrange(256) for _ in range(rng.randint(8, 160)))
    if rng.random() < 0.8:
        data[4:8] = b"PDRS"
    if rng.random() < 0.5:
        data[0:4] = rng.randrange(0, len(data)).to_bytes(4, "little")  # the root offset
    return bytes(data)


def built_frame(rng: random.Random, batch: int = 0) -> bytes:
    """A Response from the generated builder with fields present or absent at random: an error
    instead of a body, results without org id, policy, details, timestamps or strings."""
    b = flatbuffers.Builder(256)

    def maybe() -> bool:
        return rng.random() < 0.7

    def error() -> int:
        message = b.CreateString(rng.choice(["", "org x is unknown", "\u00e9\u00e8"]))
        rs.ErrorStart(b)
        if maybe():
            rs.ErrorAddCode(b, rng.choice([0, 5, 3, 200]))
        if maybe():
            rs.ErrorAddMessage(b, message)
        return rs.ErrorEnd(b)

    def result() -> int:
        org = b.CreateString(rng.choice(["300000000000000042", "", "x" * 200]))
        owner = b.CreateString("300000000000000001")
        err = error() if rng.random() < 0.3 else None
        policy = None
        if err is None or rng.random() < 0.2:
            details = None
            if maybe():
                rs.DetailsStart(b)
                if maybe():
                    rs.DetailsAddSequence(b, rng.getrandbits(64))
                if maybe():
                    rs.DetailsAddCreationDate(b, rs.CreateTimestamp(b, rng.getrandbits(40), 5))
                if maybe():
                    rs.DetailsAddChangeDate(b, rs.CreateTimestamp(b, -rng.getrandbits(40), 7))
                if maybe():
                    rs.DetailsAddResourceOwner(b, owner)
                details = rs.DetailsEnd(b)
            rs.DomainPolicyStart(b)
            if details is not None:
                rs.DomainPolicyAddDetails(b, details)
            for add in (
                rs.DomainPolicyAddUserLoginMustBeDomain,
                rs.DomainPolicyAddIsDefault,
                rs.DomainPolicyAddValidateOrgDomains,
                rs.DomainPolicyAddSmtpSenderAddressMatchesInstanceDomain,
            ):
                if maybe():
                    add(b, rng.random() < 0.5)
            policy = rs.DomainPolicyEnd(b)
        rs.PolicyResultStart(b)
        if maybe():
            rs.PolicyResultAddOrgId(b, org)
        if maybe():
            rs.PolicyResultAddOrgKnown(b, rng.random() < 0.5)
        if policy is not None and rng.random() < 0.95:
            rs.PolicyResultAddPolicy(b, policy)
        if err is not None:
            rs.PolicyResultAddError(b, err)
        return rs.PolicyResultEnd(b)

    top_error = error() if rng.random() < 0.15 else None
    if batch:
        results = [result() for _ in range(batch)]
        rs.PolicyBatchStartResultsVector(b, len(results))
        for offset in reversed(results):
            b.PrependUOffsetTRelative(offset)
        vector = b.EndVector()
        rs.PolicyBatchStart(b)
        rs.PolicyBatchAddResults(b, vector)
        body, body_type = rs.PolicyBatchEnd(b), rs.ResponseBody.PolicyBatch
    else:
        body, body_type = result(), rs.ResponseBody.PolicyResult
    rs.ResponseStart(b)
    rs.ResponseAddId(b, rng.getrandbits(64))
    if top_error is not None:
        rs.ResponseAddError(b, top_error)
    if top_error is None or rng.random() < 0.3:
        rs.ResponseAddBodyType(b, body_type)
        rs.ResponseAddBody(b, body)
    if maybe():
        rs.ResponseAddStale(b, rng.random() < 0.5)
    b.Finish(rs.ResponseEnd(b), b"PDRS")
    return bytes(b.Output())


class DecoderFuzzTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        """Real answers: lookups of an org with its own policy, one with the default, an
        unknown one, the default, a strict miss (a Response error), and batches."""
        daemon = Daemon(snapshot_path())
        cls.singles, cls.batches = [], []
        try:
            with Client(daemon.socket, timeout=10.0) as client:
                spy = SocketSpy(client._sock)
                client._sock = spy

                def capture(call, *args, **kwargs):
                    spy.received.clear()
                    try:
                        call(*args, **kwargs)
                    except Exception:  # a strict miss: its frame is what is wanted
                        pass
                    return bytes(spy.received[4:])

                for org in ("300000000000000042", "300000000000000107", "no-such-org"):
                    cls.singles.append(capture(client.get_org_policy, org))
                cls.singles.append(capture(client.get_default_policy))
                cls.singles.append(capture(client.get_org_policy, "no-such-org", strict=True))
                orgs = ["300000000000000042", "no-such-org", "300000000000000233", "bad id!"]
                for strict in (False, True):
                    frame = capture(client.get_org_policies, orgs, strict=strict)
                    cls.batches.append((frame, len(orgs)))
        finally:
            daemon.stop()

    def compare(self, payload: bytes, expected: int, counts: dict) -> None:
        want = outcome(messages.Response, payload, expected)
        have = outcome(fast_wire.Response, payload, expected)
        if have != want:
            self.fail(f"frame {payload.hex()}: generated {want}, fast {have}")
        counts[want[0]] = counts.get(want[0], 0) + 1
        if NATIVE is not None and expected == 0:
            native = native_outcome(payload)
            if native[0] != "rejected" and native != reference_lookup(payload):
                self.fail(f"frame {payload.hex()}: generated {reference_lookup(payload)}, "
                          f"extension {native}")
            key = "extension " + native[0]
            counts[key] = counts.get(key, 0) + 1

    def run_cases(self, rng, frames, make=None):
        counts: dict = {}
        for payload, expected in frames:
            self.compare(payload, expected, counts)
        for _ in range(CASES):
            payload, expected = rng.choice(frames)
            self.compare(make(rng) if make else mutate(rng, payload), expected, counts)
        return counts

    def test_real_answers_decode_alike(self):
        for payload in self.singles:
            self.assertNotEqual(outcome(messages.Response, payload, 0)[0], "rejected")
        counts = self.run_cases(random.Random(SEED), [(p, 0) for p in self.singles])
        self.assertGreater(counts.get("answer", 0), 0, counts)
        self.assertGreater(counts.get("rejected", 0), 0, counts)
        if NATIVE is not None:
            self.assertGreater(counts.get("extension answer", 0), 0, counts)
            self.assertGreater(counts.get("extension error", 0), 0, counts)
            self.assertGreater(counts.get("extension rejected", 0), 0, counts)

    def test_real_batches_decode_alike(self):
        counts = self.run_cases(random.Random(SEED + 1), self.batches)
        self.assertGreater(counts.get("answer", 0), 0, counts)
        self.assertGreater(counts.get("rejected", 0), 0, counts)

    def test_built_answers_and_their_mutations_decode_alike(self):
        rng = random.Random(SEED + 2)
        frames = [(built_frame(rng, batch), batch) for batch in [0] * 40 + [1, 2, 3] * 10]
        counts = self.run_cases(rng, frames)
        self.assertGreater(counts.get("answer", 0), 0, counts)
        self.assertGreater(counts.get("error", 0), 0, counts)
        self.assertGreater(counts.get("rejected", 0), 0, counts)

    def test_random_bytes_decode_alike(self):
        rng = random.Random(SEED + 3)
        counts = self.run_cases(rng, [(random_frame(rng), 0)], make=random_frame)
        self.assertGreater(counts.get("rejected", 0), 0, counts)

    def test_fast_requests_read_as_asked_for(self):
        rng = random.Random(SEED + 4)
        alphabet = "0123456789abcdefghijklmnopqrstuvwxyz-_@.\u00e9\u4e2d\U0001f600"
        for _ in range(max(CASES // 10, 200)):
            org = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 220)))
            org_id = org if rng.random() < 0.5 else org.encode("utf-8")
            strict = rng.random() < 0.5
            kinds = None if rng.random() < 0.4 else sorted(rng.sample(range(8), rng.randint(0, 8)))
            request_id = rng.getrandbits(64)
            frame = fast_wire.encode_get_org_policy(request_id, org_id, strict, kinds)
            self.assertEqual(int.from_bytes(frame[:4], "little"), len(frame) - 4)
            request = rq.Request.GetRootAs(bytes(frame[4:]), 0)
            self.assertEqual(bytes(frame[8:12]), b"PDRQ")
            self.assertEqual(request.Id(), request_id)
            self.assertEqual(request.BodyType(), rq.RequestBody.GetOrgPolicy)
            body = rq.GetOrgPolicy()
            table = request.Body()
            body.Init(table.Bytes, table.Pos)
            self.assertEqual(body.OrgId(), org.encode("utf-8"))
            self.assertEqual(body.Strict(), strict)
            self.assertEqual(body.KindsIsNone(), kinds is None)
            self.assertEqual([body.Kinds(i) for i in range(body.KindsLength())], kinds or [])
            # The 8-byte id and the 4-byte offsets are aligned, as policyd's Verifier requires.
            payload = bytes(frame[4:])
            self.assertEqual(request._tab.Pos % 4, 0)
            self.assertEqual((request._tab.Pos + request._tab.Offset(4)) % 8, 0)
            self.assertEqual(payload[76 + len(org.encode("utf-8"))], 0)  # the string's NUL

    def test_the_fuzz_seeds_are_the_fast_layout(self):
        # tests/fuzz/corpus/fuzz_request holds these frames (without their length) so that
        # policyd's request fuzzer starts from the layout this client sends.
        corpus = os.path.join(REPO, "tests", "fuzz", "corpus", "fuzz_request")
        seeds = {
            "python_fast_get_org": (1, "300000000000000042", True, None),
            "python_fast_get_org_kinds": (12, "300000000000000042", False, list(range(8))),
        }
        for name, args in seeds.items():
            with open(os.path.join(corpus, name), "rb") as f:
                self.assertEqual(f.read(), bytes(fast_wire.encode_get_org_policy(*args)[4:]), name)


if __name__ == "__main__":
    unittest.main()
