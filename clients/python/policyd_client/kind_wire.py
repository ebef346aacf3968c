"""The FlatBuffers tables of the policy kinds (schemas/common.fbs PasswordComplexityPolicy ...
LabelPolicy) -> the dataclasses of kinds.py, driven by each class's fields.

Pure. Applies the rules of policyd's C++ reader (src/wire/kind_wire.h ParseKindTable), since
Python's FlatBuffers runtime has no Verifier: an enum number this client does not know (a newer
daemon's) is kept as an int; a negative enum number, a string over 4096 bytes, a list over 64
entries, an IdP link list over 1000 links, a link without an idp_id or with one over 200 bytes,
a duration whose seconds and nanos differ in sign or whose nanos are beyond +-999,999,999 or that
overflows int64 nanoseconds, details nanos outside 0..999,999,999 and a resource owner over 200
bytes raise ValueError (the client's INTERNAL, an undecodable answer).
"""

from __future__ import annotations

from typing import Optional

from . import kind_json
from .kinds import ANSWER_FIELDS, KIND_CLASSES, Duration, IdpLink
from .model import Details, Timestamp

MAX_STRING_BYTES = 4096
MAX_LIST_LENGTH = 64
MAX_IDP_LINKS = 1000
MAX_ID_BYTES = 200
_NANOS = 1_000_000_000
_INT64_MAX = (1 << 63) - 1


def _pascal(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_"))


def _timestamp(t, what: str) -> Optional[Timestamp]:
    if t is None:
        return None
    if not 0 <= t.Nanos() < _NANOS:
        raise ValueError(f"{what}.details: nanos out of range")
    return Timestamp(t.Seconds(), t.Nanos())


def _details(d, what: str) -> Details:
    if d is None:
        return Details(0, None, None, "")
    owner = d.ResourceOwner() or b""
    if len(owner) > MAX_ID_BYTES:
        raise ValueError(f"{what}.details: resource owner too long")
    return Details(
        d.Sequence(),
        _timestamp(d.CreationDate(), what),
        _timestamp(d.ChangeDate(), what),
        owner.decode("utf-8", "replace"),
    )


def _duration(d, what: str) -> Duration:
    if d is None:
        return Duration(0, 0)
    seconds, nanos = d.Seconds(), d.Nanos()
    if not -_NANOS < nanos < _NANOS or (seconds > 0 and nanos < 0) or (seconds < 0 and nanos > 0):
        raise ValueError(f"{what}: not a valid duration")
    if not -_INT64_MAX - 1 <= seconds * _NANOS + nanos <= _INT64_MAX:
        raise ValueError(f"{what}: duration out of range")
    return Duration(seconds, nanos)


def _enum(spec, number: int, what: str):
    if number < 0:
        raise ValueError(f"{what}: negative enum number {number}")
    try:
        return spec.enum(number)
    except ValueError:  # a value a newer daemon added: keep its number
        return number


def _text(raw, what: str) -> str:
    if raw is not None and len(raw) > MAX_STRING_BYTES:
        raise ValueError(f"{what}: too long")
    # policyd's strings come from JSON it validated as UTF-8; "replace" only guards.
    return "" if raw is None else raw.decode("utf-8", "replace")


def _links(table, spec, what: str) -> tuple:
    count = getattr(table, _pascal(spec.name) + "Length")()
    if count > MAX_IDP_LINKS:
        raise ValueError(f"{what}: too many links")
    get = getattr(table, _pascal(spec.name))
    links = []
    for i in range(count):
        link = get(i)
        idp_id = link.IdpId()
        if not idp_id or len(idp_id) > MAX_ID_BYTES:
            raise ValueError(f"{what}: a link without a valid idp_id")
        links.append(
            IdpLink(
                _text(idp_id, what),
                _text(link.IdpName(), f"{what}.idp_name"),
                _enum(spec, link.IdpType(), f"{what}.idp_type"),
            )
        )
    return tuple(links)


def _field(table, spec, what: str):
    get = getattr(table, _pascal(spec.name))
    if spec.type == kind_json.BOOL:
        return bool(get())
    if spec.type == kind_json.UINT64:
        return int(get())
    if spec.type == kind_json.STRING:
        return _text(get(), what)
    if spec.type == kind_json.DURATION:
        return _duration(get(), what)
    if spec.type == kind_json.ENUM:
        return _enum(spec, get(), what)
    if spec.type == kind_json.IDP_LINKS:
        return _links(table, spec, what)
    count = getattr(table, _pascal(spec.name) + "Length")()
    if count > MAX_LIST_LENGTH:
        raise ValueError(f"{what}: too long")
    return tuple(_enum(spec, get(i), what) for i in range(count))


def kind_policy(kind: int, table):
    """The dataclass of `kind` read from its generated table object."""
    cls = KIND_CLASSES[kind]
    what = cls.__name__
    values = {"details": _details(table.Details(), what)}
    for spec in cls.fields():
        values[spec.name] = _field(table, spec, f"{what}.{spec.name}")
    return cls(**values)


def result_kinds(result) -> dict:
    """Every kind table present in a generated PolicyResult, by PolicyAnswer attribute name."""
    out = {}
    for kind in KIND_CLASSES:
        name = ANSWER_FIELDS[kind]
        table = getattr(result, _pascal(name))()
        if table is not None:
            out[name] = kind_policy(kind, table)
    return out
