"""Requests and responses: client values <-> FlatBuffers (the flatc-generated code in fb/).

Pure: bytes in, bytes or values out. The only module besides model.py, kinds.py and kind_wire.py
(the policy kinds' tables) and fast_wire.py (the lookups' hand-written fast path, which this
module's Response is the reference for) that sees generated code.
A new request kind in schemas/request.fbs needs one encode_* function here (and one method in
client.Client and in aio.Client); see scripts/gen-clients.sh.

Frames are a 4-byte little-endian length followed by one FlatBuffer: a Request with file
identifier PDRQ out, a Response with PDRS back (schemas/common.fbs).
"""

from __future__ import annotations

import struct
from typing import Optional, Sequence, Union

import flatbuffers

from . import kind_wire
from .fb import request_generated as rq
from .fb import response_generated as rs
from .kinds import PolicyKind
from .model import (
    Check,
    CheckAnswer,
    CheckKind,
    CheckReason,
    Code,
    Details,
    DomainPolicy,
    FleetConnection,
    FleetPublisher,
    FleetRole,
    FleetStatus,
    Health,
    PolicyAnswer,
    PolicydError,
    ServerStatus,
    Timestamp,
)

FRAME_HEADER = struct.Struct("<I")
MIN_FRAME_BYTES = 8  # root offset + file identifier
REQUEST_IDENTIFIER = b"PDRQ"
RESPONSE_IDENTIFIER = b"PDRS"

OrgId = Union[str, bytes]


def _utf8(org_id: OrgId) -> bytes:
    return org_id.encode("utf-8") if isinstance(org_id, str) else bytes(org_id)


def wipe(buffer: bytearray) -> None:
    """Overwrites `buffer` with zeros in place."""
    buffer[:] = bytes(len(buffer))


def _frame(builder: flatbuffers.Builder, request_id: int, body_type: int, body: int) -> bytearray:
    # A bytearray the client zeroes once sent, and the builder's buffers zeroed here: a frame may
    # hold a password (encode_check). The builder must have been big enough from the start, as
    # growing it leaves the old buffer behind unwiped.
    rq.RequestStart(builder)
    rq.RequestAddId(builder, request_id)
    rq.RequestAddBodyType(builder, body_type)
    rq.RequestAddBody(builder, body)
    builder.Finish(rq.RequestEnd(builder), REQUEST_IDENTIFIER)
    payload = builder.Output()  # a copy
    frame = bytearray(FRAME_HEADER.size + len(payload))
    FRAME_HEADER.pack_into(frame, 0, len(payload))
    frame[FRAME_HEADER.size :] = payload
    wipe(payload)
    wipe(builder.Bytes)
    return frame


def _kinds(builder: flatbuffers.Builder, kinds: Optional[Sequence[int]]) -> Optional[int]:
    """The kinds vector (None: absent, the domain policy only, as before policy kinds)."""
    if kinds is None:
        return None
    builder.StartVector(1, len(kinds), 1)
    for kind in reversed(kinds):  # FlatBuffers vectors are built back to front
        builder.PrependUint8(kind)
    return builder.EndVector()


def encode_get_org_policy(
    request_id: int, org_id: OrgId, strict: bool, kinds: Optional[Sequence[int]] = None
) -> bytearray:
    builder = flatbuffers.Builder(64 + len(org_id) * 4)
    org = builder.CreateString(_utf8(org_id))
    kinds_vector = _kinds(builder, kinds)
    rq.GetOrgPolicyStart(builder)
    rq.GetOrgPolicyAddOrgId(builder, org)
    rq.GetOrgPolicyAddStrict(builder, strict)
    if kinds_vector is not None:
        rq.GetOrgPolicyAddKinds(builder, kinds_vector)
    body = rq.GetOrgPolicyEnd(builder)
    return _frame(builder, request_id, rq.RequestBody.GetOrgPolicy, body)


def encode_get_org_policies(
    request_id: int,
    org_ids: Sequence[OrgId],
    strict: bool,
    kinds: Optional[Sequence[int]] = None,
) -> bytearray:
    builder = flatbuffers.Builder(64 + 32 * len(org_ids))
    offsets = [builder.CreateString(_utf8(org)) for org in org_ids]
    rq.GetOrgPoliciesStartOrgIdsVector(builder, len(offsets))
    for offset in reversed(offsets):  # FlatBuffers vectors are built back to front
        builder.PrependUOffsetTRelative(offset)
    ids = builder.EndVector()
    kinds_vector = _kinds(builder, kinds)
    rq.GetOrgPoliciesStart(builder)
    rq.GetOrgPoliciesAddOrgIds(builder, ids)
    rq.GetOrgPoliciesAddStrict(builder, strict)
    if kinds_vector is not None:
        rq.GetOrgPoliciesAddKinds(builder, kinds_vector)
    body = rq.GetOrgPoliciesEnd(builder)
    return _frame(builder, request_id, rq.RequestBody.GetOrgPolicies, body)


def encode_get_default_policy(request_id: int, kinds: Optional[Sequence[int]] = None) -> bytearray:
    builder = flatbuffers.Builder(64)
    kinds_vector = _kinds(builder, kinds)
    rq.GetDefaultPolicyStart(builder)
    if kinds_vector is not None:
        rq.GetDefaultPolicyAddKinds(builder, kinds_vector)
    body = rq.GetDefaultPolicyEnd(builder)
    return _frame(builder, request_id, rq.RequestBody.GetDefaultPolicy, body)


def encode_get_status(request_id: int) -> bytearray:
    builder = flatbuffers.Builder(32)
    rq.GetStatusStart(builder)
    body = rq.GetStatusEnd(builder)
    return _frame(builder, request_id, rq.RequestBody.GetStatus, body)


def _check_bytes(check: Check) -> int:
    # What a check adds to a frame, at most (4 UTF-8 bytes per character): builders are made big
    # enough up front, so that none grows and leaves a copy of a password behind.
    return 96 + 4 * (len(check.org_id or "") + len(check.value or ""))


def _check(builder: flatbuffers.Builder, check: Check) -> int:
    # Strings first: a table cannot be built while another object is open.
    org = builder.CreateString(_utf8(check.org_id)) if check.org_id else None
    value = None
    if check.value:
        # A str is encoded into a bytearray that is zeroed once copied into the builder (Python
        # cannot wipe the str itself, nor the temporary bytes the encoder makes); bytes and
        # bytearray values are used as they are.
        raw = check.value
        if isinstance(raw, str):
            bad_at = None
            try:
                raw = bytearray(raw, "utf-8")
            except UnicodeEncodeError as e:
                bad_at = e.start
            if bad_at is not None:
                # Raised outside the except block: the encoder's error holds the whole value
                # (which may be a password) and must not become this one's __context__.
                raise PolicydError(
                    Code.INVALID_ARGUMENT,
                    f"the check's value is not Unicode text (a lone surrogate at {bad_at})",
                )
        value = builder.CreateString(raw)
        if raw is not check.value:
            wipe(raw)
    rq.CheckStart(builder)
    rq.CheckAddKind(builder, int(check.kind))
    if org is not None:
        rq.CheckAddOrgId(builder, org)
    if value is not None:
        rq.CheckAddValue(builder, value)
    rq.CheckAddStrict(builder, check.strict)
    return rq.CheckEnd(builder)


def encode_check(request_id: int, check: Check) -> bytearray:
    builder = flatbuffers.Builder(64 + _check_bytes(check))
    body = _check(builder, check)
    return _frame(builder, request_id, rq.RequestBody.Check, body)


def encode_check_batch(request_id: int, checks: Sequence[Check]) -> bytearray:
    builder = flatbuffers.Builder(64 + sum(_check_bytes(c) for c in checks))
    offsets = [_check(builder, c) for c in checks]
    rq.CheckBatchStartChecksVector(builder, len(offsets))
    for offset in reversed(offsets):  # FlatBuffers vectors are built back to front
        builder.PrependUOffsetTRelative(offset)
    vector = builder.EndVector()
    rq.CheckBatchStart(builder)
    rq.CheckBatchAddChecks(builder, vector)
    body = rq.CheckBatchEnd(builder)
    return _frame(builder, request_id, rq.RequestBody.CheckBatch, body)


# ---- Responses ----


def _text(raw: Optional[bytes]) -> str:
    # policyd's strings come from JSON it validated as UTF-8; "replace" only guards.
    return "" if raw is None else raw.decode("utf-8", "replace")


def _timestamp(t) -> Optional[Timestamp]:
    return None if t is None else Timestamp(t.Seconds(), t.Nanos())


def _error(e) -> PolicydError:
    code = e.Code()
    # An error must never read as success, whatever a (future or broken) server sent.
    return PolicydError(Code.UNKNOWN if code == Code.OK else code, _text(e.Message()))


def _details(d) -> Details:
    if d is None:
        return Details(0, None, None, "")
    return Details(
        d.Sequence(),
        _timestamp(d.CreationDate()),
        _timestamp(d.ChangeDate()),
        _text(d.ResourceOwner()),
    )


def _policy(p) -> DomainPolicy:
    details = _details(p.Details())
    return DomainPolicy(
        details=details,
        user_login_must_be_domain=p.UserLoginMustBeDomain(),
        is_default=p.IsDefault(),
        validate_org_domains=p.ValidateOrgDomains(),
        smtp_sender_address_matches_instance_domain=p.SmtpSenderAddressMatchesInstanceDomain(),
    )


def _answer(r, stale: bool, kinds: bool = False) -> PolicyAnswer:
    """A PolicyResult. `kinds`: it answers a request that named kinds, which may leave the domain
    policy out (the client checks that each kind asked for is there)."""
    org_id = r.OrgId()
    error = r.Error()
    policy = r.Policy()
    if error is None and policy is None and not kinds:
        raise ValueError("PolicyResult has neither policy nor error")
    others = {} if error is not None or not kinds else kind_wire.result_kinds(r)
    return PolicyAnswer(
        org_id=None if org_id is None else _text(org_id),
        org_known=r.OrgKnown(),
        stale=stale,
        policy=None if error is not None or policy is None else _policy(policy),
        error=None if error is None else _error(error),
        **others,
    )


def _known(enum_type, value: int):
    """The enum member, or the plain number for one a newer daemon added."""
    try:
        return enum_type(value)
    except ValueError:
        return value


def _check_answer(r, stale: bool) -> CheckAnswer:
    org_id = r.OrgId()
    error = r.Error()
    policy = r.Policy()
    complexity = r.PasswordComplexity()
    if error is None and policy is None and complexity is None:
        raise ValueError("CheckResult has neither a policy nor an error")
    return CheckAnswer(
        kind=_known(CheckKind, r.Kind()),
        org_id=None if org_id is None else _text(org_id),
        org_known=r.OrgKnown(),
        allowed=error is None and r.Allowed(),
        reason=_known(CheckReason, r.Reason()),
        matched_domain=_text(r.MatchedDomain()),
        message=_text(r.Message()),
        policy=None if error is not None or policy is None else _policy(policy),
        domain_on_org=r.DomainOnOrg(),
        domain_verified=r.DomainVerified(),
        stale=stale,
        error=None if error is None else _error(error),
        error_id=_text(r.ErrorId()),
        password_complexity=(
            None
            if error is not None or complexity is None
            else kind_wire.kind_policy(PolicyKind.PASSWORD_COMPLEXITY, complexity)
        ),
    )


def _fleet(f) -> FleetStatus:
    # The rules the C++ decoder (src/wire/response.cc) also applies.
    if f.Role() == FleetRole.NONE:
        raise ValueError("fleet status without a fleet role")
    count = f.PublishersLength()
    # No Verifier in Python: bound the vector by the frame (4 bytes per entry).
    if count > len(f._tab.Bytes) // 4:
        raise ValueError(f"{count} fleet publishers in a smaller frame")
    publishers = []
    for i in range(count):
        p = f.Publishers(i)
        if p is None or not p.Id():
            raise ValueError("fleet publisher without an id")
        last_sync = _timestamp(p.LastSync())
        if last_sync is not None and not 0 <= last_sync.nanos < 1_000_000_000:
            raise ValueError("fleet publisher's last sync is not a valid time")
        publishers.append(FleetPublisher(_text(p.Id()), last_sync, _text(p.Source())))
    return FleetStatus(
        role=_known(FleetRole, f.Role()),
        servers=_text(f.Servers()),
        bucket=_text(f.Bucket()),
        connection=_known(FleetConnection, f.Connection()),
        cursor=f.Cursor(),
        caught_up=f.CaughtUp(),
        publishers=tuple(publishers),
        values_applied=f.ValuesApplied(),
        values_skipped=f.ValuesSkipped(),
        values_refused=f.ValuesRefused(),
        writes=f.Writes(),
        write_conflicts=f.WriteConflicts(),
        write_errors=f.WriteErrors(),
        cold_starts=f.ColdStarts(),
        resync_passes=f.ResyncPasses(),
    )


def _status(s) -> ServerStatus:
    age = s.DataAgeMs()
    try:
        health = Health(s.Health())
    except ValueError:  # a state added by a newer daemon: keep its number
        health = s.Health()
    return ServerStatus(
        health=health,
        instance_id=_text(s.InstanceId()),
        org_count=s.OrgCount(),
        custom_policy_count=s.CustomPolicyCount(),
        has_instance=s.HasInstance(),
        last_change=_timestamp(s.LastChange()),
        last_sync=_timestamp(s.LastSync()),
        data_age_ms=None if age < 0 else age,
        stale=s.Stale(),
        source=_text(s.Source()),
        upstream=_text(s.Upstream()),
        cursor=_text(s.Cursor()),
        consecutive_failures=s.ConsecutiveFailures(),
        last_error=_text(s.LastError()),
        version=_text(s.Version()),
        now=_timestamp(s.Now()),
        fleet=None if s.Fleet() is None else _fleet(s.Fleet()),
    )


class Response:
    """One decoded response: `id`, `stale`, and either `error` or a body (`kind` is the
    generated ResponseBody number; answers()/status() decode it)."""

    def __init__(self, payload: bytes):
        if len(payload) < MIN_FRAME_BYTES or payload[4:8] != RESPONSE_IDENTIFIER:
            raise ValueError("not a policyd Response (file identifier PDRS)")
        self._r = rs.Response.GetRootAs(payload, 0)
        self.id = self._r.Id()
        self.stale = self._r.Stale()
        e = self._r.Error()
        self.error = None if e is None else _error(e)
        self.kind = self._r.BodyType()
        if self.error is None and self._r.Body() is None:
            raise ValueError("Response has neither error nor body")

    def _body(self, table_type):
        table = self._r.Body()
        body = table_type()
        body.Init(table.Bytes, table.Pos)
        return body

    def answer(self, kinds: bool = False) -> PolicyAnswer:
        """The PolicyResult body (GetOrgPolicy, GetDefaultPolicy); `kinds`: of a request that
        named kinds."""
        if self.kind != rs.ResponseBody.PolicyResult:
            raise ValueError(f"expected a PolicyResult, got body type {self.kind}")
        return _answer(self._body(rs.PolicyResult), self.stale, kinds)

    def answers(self, expected: int, kinds: bool = False) -> list[PolicyAnswer]:
        """The PolicyBatch body (GetOrgPolicies), which must hold `expected` results."""
        if self.kind != rs.ResponseBody.PolicyBatch:
            raise ValueError(f"expected a PolicyBatch, got body type {self.kind}")
        batch = self._body(rs.PolicyBatch)
        if batch.ResultsLength() != expected:
            raise ValueError(f"{batch.ResultsLength()} results for {expected} orgs")
        return [_answer(batch.Results(i), self.stale, kinds) for i in range(expected)]

    def check(self) -> CheckAnswer:
        """The CheckResult body (one Check)."""
        if self.kind != rs.ResponseBody.CheckResult:
            raise ValueError(f"expected a CheckResult, got body type {self.kind}")
        return _check_answer(self._body(rs.CheckResult), self.stale)

    def checks(self, expected: int) -> list[CheckAnswer]:
        """The CheckResultBatch body (CheckBatch), which must hold `expected` results."""
        if self.kind != rs.ResponseBody.CheckResultBatch:
            raise ValueError(f"expected a CheckResultBatch, got body type {self.kind}")
        batch = self._body(rs.CheckResultBatch)
        if batch.ResultsLength() != expected:
            raise ValueError(f"{batch.ResultsLength()} results for {expected} checks")
        return [_check_answer(batch.Results(i), self.stale) for i in range(expected)]

    def status(self) -> ServerStatus:
        if self.kind != rs.ResponseBody.StatusReply:
            raise ValueError(f"expected a StatusReply, got body type {self.kind}")
        return _status(self._body(rs.StatusReply))
