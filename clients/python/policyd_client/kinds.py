"""Every policy kind policyd answers beyond the domain policy, as plain immutable values.

One dataclass per kind, named like the upstream's zitadel.policy.v1 message, with the message's
fields in declaration order and its snake_case names: `details` first, `is_default` at its place
(True: the org inherits the instance default). to_json() renders the policy object exactly as the
upstream's REST API and policyd (src/json/kind_json.h) write it; see kind_json.py.

Value types: uint64 fields are int, bools bool, strings str ("" when unset), enums the IntEnums
below (or the plain int of a number a newer daemon added), enum lists tuples of those,
google.protobuf.Duration fields a Duration (str(d) is the upstream's JSON form, "864000s"), and
the login policy's idps a tuple of IdpLink.

Pure: no I/O. The enums are built from the flatc-generated constants (fb/).
"""

from __future__ import annotations

import dataclasses
import datetime
from dataclasses import dataclass
from typing import ClassVar, Tuple

from . import kind_json
from .fb import response_generated as _fb
from .model import Details, enum_from_generated

# Which policy (schemas/common.fbs PolicyKind): DOMAIN, PASSWORD_COMPLEXITY, PASSWORD_AGE,
# LOCKOUT, LOGIN, PRIVACY, NOTIFICATION, LABEL. The number is the wire's.
PolicyKind = enum_from_generated("PolicyKind", _fb.PolicyKind)

# The enums of the policy messages, with the upstream's names and numbers.
PasswordlessType = enum_from_generated("PasswordlessType", _fb.PasswordlessType)
SecondFactorType = enum_from_generated("SecondFactorType", _fb.SecondFactorType)
MultiFactorType = enum_from_generated("MultiFactorType", _fb.MultiFactorType)
ThemeMode = enum_from_generated("ThemeMode", _fb.ThemeMode)
# zitadel.idp.v1.IDPType: IDP_TYPE_UNSPECIFIED (0: any IdP but generic OIDC and JWT),
# IDP_TYPE_OIDC (1), IDP_TYPE_JWT (3); there is no 2.
IdpType = enum_from_generated("IdpType", _fb.IdpType)

_NANOS_PER_SECOND = 1_000_000_000


@dataclass(frozen=True)
class Duration:
    """google.protobuf.Duration: `seconds` and `nanos` (-999,999,999..999,999,999) of the same
    sign. str() gives the upstream's JSON form ("864000s", "1.500s")."""

    seconds: int
    nanos: int

    @property
    def total_nanos(self) -> int:
        return self.seconds * _NANOS_PER_SECOND + self.nanos

    def to_timedelta(self) -> datetime.timedelta:
        """As a timedelta (microseconds; the nanoseconds beyond are dropped)."""
        return datetime.timedelta(seconds=self.seconds, microseconds=int(self.nanos / 1000))

    def __str__(self) -> str:
        return kind_json.format_duration(self.total_nanos)


@dataclass(frozen=True)
class IdpLink:
    """zitadel.idp.v1.IDPLoginPolicyLink: an identity provider a login policy offers. idp_id is
    never empty; idp_name may be ("": the upstream allows unnamed Google, GitHub ... IdPs);
    idp_type is an IdpType, or the plain int of a number a newer daemon added."""

    idp_id: str
    idp_name: str
    idp_type: IdpType


class _Kind:
    """What every kind's dataclass shares (the class attributes each one sets)."""

    KIND: ClassVar[int]
    CLI_NAME: ClassVar[str]  # `policyctl get --kind` name: "password-complexity"
    # Whether the upstream's management GET response repeats isDefault at the top level.
    MANAGEMENT_HAS_IS_DEFAULT: ClassVar[bool]

    @classmethod
    def fields(cls) -> "Tuple[FieldSpec, ...]":
        """The message's fields in declaration order, details left out, is_default in."""
        return fields_of(cls)

    def to_json(self) -> str:
        """The upstream's JSON of the policy object, byte for byte."""
        return kind_json.policy_json(self)

    def get_response_json(self, management: bool) -> str:
        """The body of the upstream's GET of this kind: the management API's (an org's effective
        policy, with the deprecated top-level isDefault where that response has it) or the admin
        API's (the instance default)."""
        return kind_json.get_response_json(self, management)


@dataclass(frozen=True)
class PasswordComplexityPolicy(_Kind):
    """zitadel.policy.v1.PasswordComplexityPolicy. min_length counts BYTES (0: no minimum)."""

    KIND: ClassVar[int] = PolicyKind.PASSWORD_COMPLEXITY
    CLI_NAME: ClassVar[str] = "password-complexity"
    MANAGEMENT_HAS_IS_DEFAULT: ClassVar[bool] = True

    details: Details
    min_length: int
    has_uppercase: bool
    has_lowercase: bool
    has_number: bool
    has_symbol: bool
    is_default: bool


@dataclass(frozen=True)
class PasswordAgePolicy(_Kind):
    """zitadel.policy.v1.PasswordAgePolicy (days)."""

    KIND: ClassVar[int] = PolicyKind.PASSWORD_AGE
    CLI_NAME: ClassVar[str] = "password-age"
    MANAGEMENT_HAS_IS_DEFAULT: ClassVar[bool] = True

    details: Details
    max_age_days: int
    expire_warn_days: int
    is_default: bool


@dataclass(frozen=True)
class LockoutPolicy(_Kind):
    """zitadel.policy.v1.LockoutPolicy (failed checks before the user is locked; 0: never)."""

    KIND: ClassVar[int] = PolicyKind.LOCKOUT
    CLI_NAME: ClassVar[str] = "lockout"
    MANAGEMENT_HAS_IS_DEFAULT: ClassVar[bool] = True

    details: Details
    max_password_attempts: int
    max_otp_attempts: int
    is_default: bool


@dataclass(frozen=True)
class LoginPolicy(_Kind):
    """zitadel.policy.v1.LoginPolicy. The five lifetimes are Durations; second_factors and
    multi_factors keep the upstream's order; idps (declared after multi_factors, as upstream) are
    the IdPs the policy offers, in the order they were added (empty: none)."""

    KIND: ClassVar[int] = PolicyKind.LOGIN
    CLI_NAME: ClassVar[str] = "login"
    MANAGEMENT_HAS_IS_DEFAULT: ClassVar[bool] = True

    details: Details
    allow_username_password: bool
    allow_register: bool
    allow_external_idp: bool
    force_mfa: bool
    passwordless_type: PasswordlessType
    is_default: bool
    hide_password_reset: bool
    ignore_unknown_usernames: bool
    default_redirect_uri: str
    password_check_lifetime: Duration
    external_login_check_lifetime: Duration
    mfa_init_skip_lifetime: Duration
    second_factor_check_lifetime: Duration
    multi_factor_check_lifetime: Duration
    second_factors: Tuple[SecondFactorType, ...]
    multi_factors: Tuple[MultiFactorType, ...]
    idps: Tuple[IdpLink, ...]
    allow_domain_discovery: bool
    disable_login_with_email: bool
    disable_login_with_phone: bool
    force_mfa_local_only: bool
    use_default_uri_for_notification_links: bool


@dataclass(frozen=True)
class PrivacyPolicy(_Kind):
    """zitadel.policy.v1.PrivacyPolicy."""

    KIND: ClassVar[int] = PolicyKind.PRIVACY
    CLI_NAME: ClassVar[str] = "privacy"
    MANAGEMENT_HAS_IS_DEFAULT: ClassVar[bool] = False

    details: Details
    tos_link: str
    privacy_link: str
    is_default: bool
    help_link: str
    support_email: str
    docs_link: str
    custom_link: str
    custom_link_text: str


@dataclass(frozen=True)
class NotificationPolicy(_Kind):
    """zitadel.policy.v1.NotificationPolicy."""

    KIND: ClassVar[int] = PolicyKind.NOTIFICATION
    CLI_NAME: ClassVar[str] = "notification"
    MANAGEMENT_HAS_IS_DEFAULT: ClassVar[bool] = False

    details: Details
    is_default: bool
    password_change: bool


@dataclass(frozen=True)
class LabelPolicy(_Kind):
    """zitadel.policy.v1.LabelPolicy: the active one. The *_url fields are the upstream's asset
    URLs ("" when none)."""

    KIND: ClassVar[int] = PolicyKind.LABEL
    CLI_NAME: ClassVar[str] = "label"
    MANAGEMENT_HAS_IS_DEFAULT: ClassVar[bool] = True

    details: Details
    primary_color: str
    is_default: bool
    hide_login_name_suffix: bool
    warn_color: str
    background_color: str
    font_color: str
    primary_color_dark: str
    background_color_dark: str
    warn_color_dark: str
    font_color_dark: str
    disable_watermark: bool
    logo_url: str
    icon_url: str
    logo_url_dark: str
    icon_url_dark: str
    font_url: str
    theme_mode: ThemeMode


# The class of each kind but DOMAIN (model.DomainPolicy), by kind.
KIND_CLASSES = {
    cls.KIND: cls
    for cls in (
        PasswordComplexityPolicy,
        PasswordAgePolicy,
        LockoutPolicy,
        LoginPolicy,
        PrivacyPolicy,
        NotificationPolicy,
        LabelPolicy,
    )
}

# PolicyAnswer's attribute of each kind.
ANSWER_FIELDS = {
    PolicyKind.DOMAIN: "policy",
    PolicyKind.PASSWORD_COMPLEXITY: "password_complexity",
    PolicyKind.PASSWORD_AGE: "password_age",
    PolicyKind.LOCKOUT: "lockout",
    PolicyKind.LOGIN: "login",
    PolicyKind.PRIVACY: "privacy",
    PolicyKind.NOTIFICATION: "notification",
    PolicyKind.LABEL: "label",
}

CLI_NAMES = {PolicyKind.DOMAIN: "domain", **{k: c.CLI_NAME for k, c in KIND_CLASSES.items()}}


# ---- Field types, from the annotations above (strings: this module has
# `from __future__ import annotations`) ----

BOOL, UINT64, STRING = kind_json.BOOL, kind_json.UINT64, kind_json.STRING
DURATION, ENUM, ENUM_LIST = kind_json.DURATION, kind_json.ENUM, kind_json.ENUM_LIST
IDP_LINKS = kind_json.IDP_LINKS

_ENUMS = {
    "PasswordlessType": PasswordlessType,
    "SecondFactorType": SecondFactorType,
    "MultiFactorType": MultiFactorType,
    "ThemeMode": ThemeMode,
}


@dataclass(frozen=True)
class FieldSpec:
    name: str  # snake_case, the dataclass attribute and the proto name
    json_name: str  # lowerCamel, as the upstream's JSON has it
    type: str  # BOOL, UINT64, STRING, DURATION, ENUM, ENUM_LIST or IDP_LINKS
    enum: object = None  # ENUM, ENUM_LIST: the IntEnum; IDP_LINKS: IdpType


def _field_spec(f: dataclasses.Field) -> FieldSpec:
    head, *rest = f.name.split("_")
    json_name = head + "".join(part.capitalize() for part in rest)
    annotation = f.type
    if annotation == "Tuple[IdpLink, ...]":
        return FieldSpec(f.name, json_name, IDP_LINKS, IdpType)
    if annotation.startswith("Tuple["):
        return FieldSpec(f.name, json_name, ENUM_LIST, _ENUMS[annotation[6:].split(",")[0]])
    if annotation in _ENUMS:
        return FieldSpec(f.name, json_name, ENUM, _ENUMS[annotation])
    if annotation not in (BOOL, UINT64, STRING, DURATION):
        raise TypeError(f"no wire type for {f.name}: {annotation}")
    return FieldSpec(f.name, json_name, annotation)


def fields_of(cls) -> Tuple[FieldSpec, ...]:
    """The fields of a kind's class in declaration order, details left out, is_default in."""
    cached = cls.__dict__.get("_field_specs")
    if cached is None:
        cached = tuple(_field_spec(f) for f in dataclasses.fields(cls) if f.name != "details")
        setattr(cls, "_field_specs", cached)
    return cached
