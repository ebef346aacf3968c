"""The upstream's JSON for the policy kinds beyond the domain policy, byte for byte as policyd
writes it (src/json/kind_json.cc).

Pure. protojson as the upstream's gateway writes it: compact, details first, then the fields in
declaration order with isDefault at its place; false, 0, "" and empty lists omitted; uint64 as
decimal strings; enums by name (an enum number this client does not know is omitted, and written
as "" inside a list, as policyd does); durations always written ("864000s", "1.500s"); the login
policy's idps as [{"idpId":"…","idpName":"…","idpType":"IDP_TYPE_OIDC"}], idpName left out when
empty and idpType when 0 or a number this client does not know. Works on the kind dataclasses of
kinds.py (anything with their fields() and attributes).
"""

from __future__ import annotations

from . import upstream_json

# Field types (kinds.FieldSpec.type).
BOOL, UINT64, STRING, DURATION, ENUM, ENUM_LIST = "bool", "int", "str", "Duration", "enum", "list"
IDP_LINKS = "links"

_NANOS_PER_SECOND = 1_000_000_000


def format_duration(nanos: int) -> str:
    """A google.protobuf.Duration of `nanos` as protojson writes it: "864000s", "-0.000000001s";
    the fraction has 0, 3, 6 or 9 digits."""
    sign = "-" if nanos < 0 else ""
    seconds, fraction = divmod(abs(nanos), _NANOS_PER_SECOND)
    if fraction == 0:
        return f"{sign}{seconds}s"
    digits = 9
    while digits > 3 and fraction % 1000 == 0:
        fraction //= 1000
        digits -= 3
    return f"{sign}{seconds}.{fraction:0{digits}d}s"


def _enum_name(spec, number: int):
    try:
        return spec.enum(number).name
    except ValueError:
        return None


def _link_json(spec, link) -> str:
    out = '{"idpId":' + upstream_json.json_string(link.idp_id)
    if link.idp_name:
        out += ',"idpName":' + upstream_json.json_string(link.idp_name)
    name = _enum_name(spec, link.idp_type) if link.idp_type else None
    if name is not None:
        out += f',"idpType":"{name}"'
    return out + "}"


def _field_json(spec, value) -> str:
    key = f',"{spec.json_name}":'
    if spec.type == BOOL:
        return key + "true" if value else ""
    if spec.type == UINT64:
        return f'{key}"{value}"' if value else ""
    if spec.type == STRING:
        return key + upstream_json.json_string(value) if value else ""
    if spec.type == DURATION:
        return f'{key}"{format_duration(value.total_nanos)}"'
    if spec.type == ENUM:
        name = _enum_name(spec, value) if value else None
        return f'{key}"{name}"' if name is not None else ""
    if not value:  # ENUM_LIST, IDP_LINKS
        return ""
    if spec.type == IDP_LINKS:
        return key + "[" + ",".join(_link_json(spec, link) for link in value) + "]"
    return key + "[" + ",".join(f'"{_enum_name(spec, n) or ""}"' for n in value) + "]"


def policy_json(policy) -> str:
    """The <Kind>Policy object as the upstream's JSON."""
    out = '{"details":' + upstream_json.details_json(policy.details)
    for spec in policy.fields():
        out += _field_json(spec, getattr(policy, spec.name))
    return out + "}"


def get_response_json(policy, management: bool) -> str:
    """The body of the upstream's GET of the policy's kind: {"policy":{...}}; for the management
    API's GET of a kind whose response has the deprecated top-level isDefault,
    ,"isDefault":true after it when the policy is the inherited default."""
    out = '{"policy":' + policy_json(policy)
    if management and policy.is_default and policy.MANAGEMENT_HAS_IS_DEFAULT:
        out += ',"isDefault":true'
    return out + "}"
