"""What the policyd client returns and raises: plain immutable values, no I/O.

Field names follow the upstream's protobuf names (zitadel.policy.v1.DomainPolicy:
user_login_must_be_domain, is_default, ...), whose JSON names are the camelCase forms
(userLoginMustBeDomain, isDefault, ...). to_json() renders them exactly as the upstream's REST API
and `policyctl get` do (see upstream_json.py).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import TYPE_CHECKING, Optional, Tuple, Union

from . import upstream_json
from .fb import response_generated as _fb

if TYPE_CHECKING:  # kinds.py builds on this module
    from .kinds import (
        LabelPolicy,
        LockoutPolicy,
        LoginPolicy,
        NotificationPolicy,
        PasswordAgePolicy,
        PasswordComplexityPolicy,
        PrivacyPolicy,
    )


def enum_from_generated(name: str, generated: type) -> type:
    # Built from the flatc-generated constants, so a value added to the schema appears here when
    # the code is regenerated (scripts/gen-clients.sh), with no hand-kept copy to forget.
    members = {k: v for k, v in vars(generated).items() if k.isupper() and isinstance(v, int)}
    return enum.IntEnum(name, members)


# gRPC canonical status codes (schemas/common.fbs), as the upstream and policyd use them:
# Code.NOT_FOUND == 5, Code.INVALID_ARGUMENT == 3, ...
Code = enum_from_generated("Code", _fb.Code)

# Health of the daemon (schemas/response.fbs): STARTING, SERVING, STALE, DEGRADED, REFUSING.
Health = enum_from_generated("Health", _fb.Health)

# A fleet-mode daemon's role (schemas/response.fbs): PUBLISHER, FOLLOWER (NONE is never sent).
FleetRole = enum_from_generated("FleetRole", _fb.FleetRole)

# Its NATS connection: CONNECTING, CONNECTED, RECONNECTING, CLOSED.
FleetConnection = enum_from_generated("FleetConnection", _fb.FleetConnection)

# Which local check (schemas/common.fbs): LOGIN_NAME, SMTP_SENDER, DOMAIN_VERIFICATION, PASSWORD.
CheckKind = enum_from_generated("CheckKind", _fb.CheckKind)

# Why a check was answered as it was (schemas/response.fbs, where each is explained):
# ALLOWED_VERIFIED_DOMAIN, DOMAIN_NOT_VERIFIED, NOT_REQUIRED, ...
CheckReason = enum_from_generated("CheckReason", _fb.CheckReason)


def to_code(value: int) -> "Code":
    """The Code for a number; UNKNOWN for a number this client does not know."""
    try:
        return Code(value)
    except ValueError:
        return Code.UNKNOWN


class PolicydError(Exception):
    """A failed request: `code` (a Code, i.e. a gRPC status code) and a one-line `message`.

    Raised for the daemon's own errors (NOT_FOUND for a strict lookup of an unknown org,
    INVALID_ARGUMENT for a bad org id, RESOURCE_EXHAUSTED, PERMISSION_DENIED, UNAVAILABLE when it
    refuses stale data) and for transport failures: UNAVAILABLE (cannot connect, connection lost),
    DEADLINE_EXCEEDED (no answer within the timeout), INTERNAL (an answer that does not decode or
    answers another request). Inside a batch, an org's error is returned, not raised.
    """

    def __init__(self, code: int, message: str):
        self.code = to_code(code)
        self.message = message
        super().__init__(f"{self.code.name}: {message}")


@dataclass(frozen=True)
class Timestamp:
    """A point in time, UTC: seconds since the epoch and 0..999,999,999 nanos."""

    seconds: int
    nanos: int

    def rfc3339(self) -> str:
        """As the upstream's JSON writes it: 2025-02-11T08:00:01.500Z."""
        return upstream_json.format_timestamp(self)


@dataclass(frozen=True)
class Details:
    """zitadel.v1.ObjectDetails of the policy row the answer came from."""

    sequence: int  # 0 when unknown
    creation_date: Optional[Timestamp]  # None when unknown
    change_date: Optional[Timestamp]  # None when unknown
    resource_owner: str  # the org's id (own policy) or the instance id (default)


@dataclass(frozen=True)
class DomainPolicy:
    """An effective domain policy. is_default: inherited from the instance default."""

    details: Details
    user_login_must_be_domain: bool
    is_default: bool
    validate_org_domains: bool
    smtp_sender_address_matches_instance_domain: bool

    def to_json(self) -> str:
        """The upstream's JSON of the policy object, byte for byte."""
        return upstream_json.policy_json(self)


@dataclass(frozen=True)
class PolicyAnswer:
    """The answer for one org, or for the instance default (org_id None).

    org_known: the daemon knows the org (False: an unknown org got the instance default, as the
    upstream answers it). stale: the daemon's data is older than its max-staleness.
    In a batch, an org may fail on its own: then policy is None and error is set.
    """

    org_id: Optional[str]
    org_known: bool
    stale: bool
    policy: Optional[DomainPolicy]  # None also when a kinds request left DOMAIN out
    error: Optional[PolicydError] = None
    # The other kinds a kinds request (Client.get_org_kinds ...) asked for (kinds.py), all read
    # from one consistent view of the daemon; None when not asked for.
    password_complexity: Optional["PasswordComplexityPolicy"] = None
    password_age: Optional["PasswordAgePolicy"] = None
    lockout: Optional["LockoutPolicy"] = None
    login: Optional["LoginPolicy"] = None
    privacy: Optional["PrivacyPolicy"] = None
    notification: Optional["NotificationPolicy"] = None
    label: Optional["LabelPolicy"] = None

    @property
    def ok(self) -> bool:
        return self.error is None

    def kind(self, kind: int):
        """The answered policy of `kind` (a PolicyKind), or None when it was not asked for."""
        from .kinds import ANSWER_FIELDS, PolicyKind

        return getattr(self, ANSWER_FIELDS[PolicyKind(kind)])

    def to_json(self, kind: int = 0) -> str:
        """The body of the upstream's GET of `kind` (a PolicyKind; default DOMAIN), byte for
        byte: for an org the management API's (for DOMAIN, what `policyctl get` prints without
        its newline), for the instance default (org_id None) the admin API's. Raises the org's
        error for a failed batch entry, ValueError for a kind the answer does not hold."""
        if self.error is not None:
            raise self.error
        policy = self.kind(kind)
        if policy is None:
            raise ValueError(f"the answer holds no {kind!r} policy (it was not asked for)")
        if kind == 0:
            return upstream_json.get_policy_response_json(policy)
        return policy.get_response_json(management=self.org_id is not None)


@dataclass(frozen=True)
class FleetPublisher:
    """A publisher's heartbeat as the daemon last read it from the NATS bucket."""

    id: str
    last_sync: Optional[Timestamp]  # its last successful upstream sync; None: never
    source: str  # its upstream's host, or its snapshot file


@dataclass(frozen=True)
class FleetStatus:
    """The NATS side of a publisher or follower (policyd --publish-to / --follow).

    role and connection are a FleetRole / FleetConnection, or the plain number of one a newer
    daemon added. cursor: a follower's bucket revision of the last value applied, a publisher's
    revision of its last write (0: none yet). publishers: a follower's every heartbeat seen, a
    publisher's own. The counters are cumulative since the daemon started; a follower counts
    values_applied / values_skipped / values_refused / cold_starts, a publisher writes /
    write_conflicts / write_errors / values_skipped / resync_passes.
    """

    role: "FleetRole"
    servers: str  # the NATS URLs, comma-separated, without credentials
    bucket: str
    connection: "FleetConnection"
    cursor: int
    caught_up: bool  # follower: has read the bucket's backlog since it started
    publishers: Tuple[FleetPublisher, ...]
    values_applied: int
    values_skipped: int
    values_refused: int
    writes: int
    write_conflicts: int
    write_errors: int
    cold_starts: int
    resync_passes: int


@dataclass(frozen=True)
class ServerStatus:
    """The daemon's store and sync state (what `policyctl status` shows)."""

    health: "Health"
    instance_id: str
    org_count: int
    custom_policy_count: int
    has_instance: bool
    last_change: Optional[Timestamp]  # None: never
    last_sync: Optional[Timestamp]  # None: never
    data_age_ms: Optional[int]  # None: never synced
    stale: bool
    source: str  # the snapshot or upstream the state came from
    upstream: str  # configured upstream URL; "" without one
    cursor: str
    consecutive_failures: int
    last_error: str
    version: str
    now: Optional[Timestamp]  # the daemon's clock when it answered
    fleet: Optional[FleetStatus] = None  # a publisher's or follower's NATS side; None otherwise


@dataclass(frozen=True, repr=False)
class Check:
    """One check to ask for in a batch (Client.check_batch). `org_id` for LOGIN_NAME,
    DOMAIN_VERIFICATION and PASSWORD; none for SMTP_SENDER (the instance policy decides). `value`
    is the login name, the sender address, the domain or the password (str, or UTF-8 bytes /
    bytearray; repr() never shows a password). `strict`: an unknown org is NOT_FOUND."""

    kind: "CheckKind"
    value: Union[str, bytes, bytearray]
    org_id: Optional[str] = None
    strict: bool = False

    def __repr__(self) -> str:
        value = "<password>" if self.kind == CheckKind.PASSWORD else repr(self.value)
        return (
            f"Check(kind={self.kind!r}, value={value}, org_id={self.org_id!r}, "
            f"strict={self.strict!r})"
        )

    @staticmethod
    def login_name(org_id: str, login_name: str, strict: bool = False) -> "Check":
        return Check(CheckKind.LOGIN_NAME, login_name, org_id, strict)

    @staticmethod
    def smtp_sender(address: str) -> "Check":
        return Check(CheckKind.SMTP_SENDER, address)

    @staticmethod
    def domain_verification(org_id: str, domain: str, strict: bool = False) -> "Check":
        return Check(CheckKind.DOMAIN_VERIFICATION, domain, org_id, strict)

    @staticmethod
    def password(
        org_id: str, password: Union[str, bytes, bytearray], strict: bool = False
    ) -> "Check":
        return Check(CheckKind.PASSWORD, password, org_id, strict)


@dataclass(frozen=True)
class CheckAnswer:
    """A check's answer (README "Checks" has the rules).

    allowed: LOGIN_NAME the name is acceptable; SMTP_SENDER the address may be the sender;
    DOMAIN_VERIFICATION the domain is, or on adding would at once be, verified. reason says why
    (a CheckReason, or the number of one a newer daemon added), message in words. matched_domain:
    the domain that decided it, as stored ("" when none). policy: the effective policy the decision
    used (the org's, or the instance default for SMTP_SENDER). domain_on_org / domain_verified:
    DOMAIN_VERIFICATION only. In a batch a check may fail on its own: then error is set and
    allowed is False. PASSWORD (Client.check_password): reason is a PASSWORD_* reason, error_id
    and message those of the upstream's error for the first failing rule, password_complexity the
    policy used; the password is never in an answer.
    """

    kind: "CheckKind"
    org_id: Optional[str]
    org_known: bool
    allowed: bool
    reason: "CheckReason"
    matched_domain: str
    message: str
    policy: Optional[DomainPolicy]  # None for PASSWORD (see password_complexity)
    domain_on_org: bool
    domain_verified: bool
    stale: bool
    error: Optional[PolicydError] = None
    # PASSWORD: the upstream's error id of the failing rule ("DOMAIN-HuJf6"; "" when allowed)
    # and the org's effective password complexity policy the decision used.
    error_id: str = ""
    password_complexity: Optional["PasswordComplexityPolicy"] = None

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def is_default(self) -> bool:
        """The policy the decision used is the inherited instance default."""
        used = self.password_complexity if self.policy is None else self.policy
        return used is not None and used.is_default
