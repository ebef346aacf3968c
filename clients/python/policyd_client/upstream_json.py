"""The upstream's JSON for domain policies, byte for byte as policyd's policyctl writes it.

Pure. Mirrors src/json/policy_json.cc and src/json/timestamp.cc: protojson field order
(details, userLoginMustBeDomain, isDefault, validateOrgDomains,
smtpSenderAddressMatchesInstanceDomain), false booleans and empty fields omitted, details always
present, the uint64 sequence as a string, timestamps in RFC 3339 UTC with 0, 3, 6 or 9
fractional digits. Works on any objects with the attributes of model.DomainPolicy/Timestamp.
"""

from __future__ import annotations

import json

_SECONDS_PER_DAY = 86_400
_NANOS_PER_SECOND = 1_000_000_000


def _civil_from_days(days: int) -> tuple[int, int, int]:
    # Howard Hinnant's civil_from_days, as in src/json/timestamp.cc (Python's // floors, so the
    # era needs no sign correction).
    days += 719_468
    era = days // 146_097
    day_of_era = days - era * 146_097
    year_of_era = (
        day_of_era - day_of_era // 1460 + day_of_era // 36_524 - day_of_era // 146_096
    ) // 365
    day_of_year = day_of_era - (365 * year_of_era + year_of_era // 4 - year_of_era // 100)
    mp = (5 * day_of_year + 2) // 153
    day = day_of_year - (153 * mp + 2) // 5 + 1
    month = mp + 3 if mp < 10 else mp - 9
    return year_of_era + era * 400 + (1 if month <= 2 else 0), month, day


def format_timestamp(ts) -> str:
    """RFC 3339 in UTC as protojson writes it: 2025-03-01T09:12:44.123456Z."""
    nanos = min(max(ts.nanos, 0), _NANOS_PER_SECOND - 1)
    days, second_of_day = divmod(ts.seconds, _SECONDS_PER_DAY)
    year, month, day = _civil_from_days(days)
    year_text = f"{year:04d}" if 0 <= year <= 9999 else str(year)
    text = (
        f"{year_text}-{month:02d}-{day:02d}T{second_of_day // 3600:02d}:"
        f"{second_of_day // 60 % 60:02d}:{second_of_day % 60:02d}"
    )
    if nanos == 0:
        fraction = ""
    elif nanos % 1_000_000 == 0:
        fraction = f".{nanos // 1_000_000:03d}"
    elif nanos % 1_000 == 0:
        fraction = f".{nanos // 1_000:06d}"
    else:
        fraction = f".{nanos:09d}"
    return text + fraction + "Z"


def json_string(s: str) -> str:
    # ensure_ascii=False escapes exactly what policyd's AppendJsonString escapes: '"', '\\' and
    # control characters (\b \f \n \r \t, others as \u00xx); everything else is written as is.
    return json.dumps(s, ensure_ascii=False)


def _present(ts) -> bool:
    return ts is not None and (ts.seconds != 0 or ts.nanos != 0)


def details_json(details) -> str:
    fields = []
    if details.sequence != 0:
        fields.append(f'"sequence":"{details.sequence}"')
    if _present(details.creation_date):
        fields.append(f'"creationDate":"{format_timestamp(details.creation_date)}"')
    if _present(details.change_date):
        fields.append(f'"changeDate":"{format_timestamp(details.change_date)}"')
    if details.resource_owner:
        fields.append(f'"resourceOwner":{json_string(details.resource_owner)}')
    return "{" + ",".join(fields) + "}"


def policy_json(policy) -> str:
    """zitadel.policy.v1.DomainPolicy as the upstream's JSON."""
    out = '{"details":' + details_json(policy.details)
    if policy.user_login_must_be_domain:
        out += ',"userLoginMustBeDomain":true'
    if policy.is_default:
        out += ',"isDefault":true'
    if policy.validate_org_domains:
        out += ',"validateOrgDomains":true'
    if policy.smtp_sender_address_matches_instance_domain:
        out += ',"smtpSenderAddressMatchesInstanceDomain":true'
    return out + "}"


def get_policy_response_json(policy) -> str:
    """The upstream's GET .../policies/domain response: {"policy":{...}}."""
    return '{"policy":' + policy_json(policy) + "}"
