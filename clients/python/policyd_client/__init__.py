"""policyd client: ask the local policyd daemon for ZITADEL policies over its unix socket.

    from policyd_client import Client, Code, PolicydError

    with Client("/run/policyd/policyd.sock", timeout=2.0) as client:
        answer = client.get_org_policy("300000000000000042")
        answer.policy.user_login_must_be_domain   # True
        answer.org_known, answer.stale             # True, False
        print(answer.to_json())                    # exactly what `policyctl get` prints
        check = client.check_login_name("300000000000000042", "alice@acme.com")
        check.allowed, check.reason.name           # True, 'ALLOWED_VERIFIED_DOMAIN'
        kinds = client.get_org_kinds("300000000000000042",
                                     [PolicyKind.LOGIN, PolicyKind.PASSWORD_COMPLEXITY])
        kinds.login.force_mfa, kinds.password_complexity.min_length   # True, 12
        print(kinds.to_json(PolicyKind.LOGIN))     # the upstream's GET .../policies/login body
        verdict = client.check_password("300000000000000042", "short")
        verdict.allowed, verdict.error_id          # False, 'DOMAIN-HuJf6'

Standard library plus Debian's python3-flatbuffers. The FlatBuffers code in fb/ is generated
from schemas/ by scripts/gen-clients.sh; do not edit it. IMPLEMENTATION says which wire code
answers lookups: "fast" (fast_wire.py) or, with POLICYD_CLIENT_GENERATED=1 in the environment,
"generated" (the flatc-generated code alone). policyd_client.aio has the same client for asyncio.
"""

from .client import DEFAULT_SOCKET, IMPLEMENTATION, Client
from .kinds import (
    Duration,
    IdpLink,
    IdpType,
    LabelPolicy,
    LockoutPolicy,
    LoginPolicy,
    MultiFactorType,
    NotificationPolicy,
    PasswordAgePolicy,
    PasswordComplexityPolicy,
    PasswordlessType,
    PolicyKind,
    PrivacyPolicy,
    SecondFactorType,
    ThemeMode,
)
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

__all__ = [
    "DEFAULT_SOCKET",
    "IMPLEMENTATION",
    "Check",
    "CheckAnswer",
    "CheckKind",
    "CheckReason",
    "Client",
    "Code",
    "Details",
    "DomainPolicy",
    "Duration",
    "FleetConnection",
    "FleetPublisher",
    "FleetRole",
    "FleetStatus",
    "Health",
    "IdpLink",
    "IdpType",
    "LabelPolicy",
    "LockoutPolicy",
    "LoginPolicy",
    "MultiFactorType",
    "NotificationPolicy",
    "PasswordAgePolicy",
    "PasswordComplexityPolicy",
    "PasswordlessType",
    "PolicyAnswer",
    "PolicyKind",
    "PolicydError",
    "PrivacyPolicy",
    "SecondFactorType",
    "ServerStatus",
    "ThemeMode",
    "Timestamp",
]
