"""The hot path's wire code without the FlatBuffers runtime: GetOrgPolicy frames from a template,
and Response / PolicyResult / DomainPolicy decoded with one struct read per field.

Pure: bytes in, values out. The generated code (messages.py over fb/) stays the reference:
    * encode_get_org_policy writes a valid FlatBuffer of the same Request (not the same bytes as
      flatbuffers.Builder, which lays fields out in another order); policyd's Verifier and the
      generated reader read the same values from both.
    * Response decodes exactly what messages.Response decodes, and accepts and rejects exactly
      the bytes messages.Response does (tests/test_decoder_fuzz.py checks both on mutated and
      random frames): Python's FlatBuffers runtime has no Verifier, so "rejects" means raising
      one of Client.DECODE_ERRORS on a read outside the frame or an offset out of range, and
      every read here is one the generated accessors make too, at the same offset and width.
      Bodies other than PolicyResult and PolicyBatch of the domain policy (kinds, checks,
      status) are handed to the generated code.

Why it is faster: the generated accessors re-read a table's vtable for every field through
three layers of Python calls (Table.Offset -> Table.Get -> encode.Get); here each table's vtable
is read once and each field is one struct.unpack_from.
"""

from __future__ import annotations

import struct
from typing import Optional, Sequence, Union

from . import messages
from .fb import response_generated as rs
from .model import Code, Details, DomainPolicy, PolicyAnswer, PolicydError, Timestamp

_U8 = struct.Struct("<B").unpack_from
_BOOL = struct.Struct("<?").unpack_from
_U16 = struct.Struct("<H").unpack_from
_U32 = struct.Struct("<I").unpack_from
_I32 = struct.Struct("<i").unpack_from
_U64 = struct.Struct("<Q").unpack_from
_TIMESTAMP = struct.Struct("<qi").unpack_from  # Timestamp{seconds: long, nanos: int}
_MAX_UOFFSET = 0xFFFFFFFF

# ---- Requests ----

# One GetOrgPolicy Request, laid out by hand (payload offsets; the frame adds a 4-byte length):
#    0 root uoffset -> 24           4 "PDRQ"
#    8 Request vtable: size 10, table 17; id at +8, body_type at +16, body at +4
#   24 Request: soffset 16 (-> 8), body uoffset (-> 56), id u64 at 32 (8-aligned), body_type u8
#   44 GetOrgPolicy vtable: size 10, table 13; org_id at +4, strict at +12, kinds at +8 (or 0)
#   56 GetOrgPolicy: soffset 12 (-> 44), org_id uoffset (-> 72), kinds uoffset, strict u8
#   72 org_id: u32 length, bytes, NUL; then, 4-aligned, kinds: u32 count, one byte per kind.
_HEAD = struct.Struct("<II4s5H6xiIQB3x5H2xiIIB3xI")
_HEAD_BYTES = _HEAD.size  # up to the org id's first byte, frame length included
assert _HEAD_BYTES == 80


def encode_get_org_policy(
    request_id: int, org_id: messages.OrgId, strict: bool, kinds: Optional[Sequence[int]] = None
) -> bytearray:
    """The framed Request messages.encode_get_org_policy encodes, from a fixed layout."""
    org = org_id.encode("utf-8") if isinstance(org_id, str) else bytes(org_id)
    n = len(org)
    string_end = 72 + 4 + n + 1
    if kinds is None:
        size, kinds_at = string_end, 0
    else:
        kinds_at = (string_end + 3) & ~3
        size = kinds_at + 4 + len(kinds)
    frame = bytearray(4 + size)
    # fmt: off
    _HEAD.pack_into(
        frame, 0, size,
        24, b"PDRQ", 10, 17, 8, 16, 4,
        16, 28, request_id, 1,
        10, 13, 4, 12, 8 if kinds is not None else 0,
        12, 12, kinds_at - 64 if kinds is not None else 0, 1 if strict else 0, n)
    # fmt: on
    frame[_HEAD_BYTES : _HEAD_BYTES + n] = org
    if kinds is not None:
        struct.pack_into("<I", frame, 4 + kinds_at, len(kinds))
        frame[8 + kinds_at :] = bytes(kinds)
    return frame


# ---- Responses ----


def _vtable(buf, pos: int):
    """A table's vtable position and size, as Table.Offset reads them: like the generated code
    (number_types.enforce_number), refuses with TypeError a position outside the uoffset range,
    such as a vtable before the buffer's start. `pos` is never negative (a sum of uoffsets)."""
    if pos > _MAX_UOFFSET:
        raise TypeError(f"table at {pos}")
    vtable = pos - _I32(buf, pos)[0]
    if vtable < 0 or vtable > _MAX_UOFFSET:
        raise TypeError(f"vtable at {vtable}")
    return vtable, _U16(buf, vtable)[0]


# _SLOTS[n]: n vtable entries in one read.
_SLOTS = [struct.Struct(f"<{n}H").unpack_from for n in range(8)]
_ZEROS = (0,) * 8


def _entries(buf, vtable: int, size: int, count: int) -> tuple:
    """The vtable entries of fields 0..count-1 (0: absent). The generated code reads field i's
    entry, at 4 + 2 * i, when 4 + 2 * i < the vtable's size; for tables whose decoding reads
    every one of those fields, one read of the entries reads the same bytes."""
    if size >= 4 + 2 * count:
        return _SLOTS[count](buf, vtable + 4)
    present = (size - 3) // 2 if size > 4 else 0
    return _SLOTS[present](buf, vtable + 4) + _ZEROS[: count - present]


def _slots(buf, pos: int, count: int) -> tuple:
    """The offsets in its table (0: absent) of the table at `pos`'s first `count` fields
    (_vtable and _entries in one call: this is the decoder's most frequent call)."""
    if pos > _MAX_UOFFSET:
        raise TypeError(f"table at {pos}")
    vtable = pos - _I32(buf, pos)[0]
    if vtable < 0 or vtable > _MAX_UOFFSET:
        raise TypeError(f"vtable at {vtable}")
    size = _U16(buf, vtable)[0]
    if size >= 4 + 2 * count:
        return _SLOTS[count](buf, vtable + 4)
    present = (size - 3) // 2 if size > 4 else 0
    return _SLOTS[present](buf, vtable + 4) + _ZEROS[: count - present]


def _string(buf, at: int) -> bytes:
    at += _U32(buf, at)[0]
    length = _U32(buf, at)[0]
    return bytes(buf[at + 4 : at + 4 + length])


def _indirect(buf, at: int) -> int:
    return at + _U32(buf, at)[0]


def _table_at(buf, at: int) -> int:
    """The table an offset field at `at` points to; like the generated Init, refuses (TypeError)
    a position past the uoffset range even when the table is never read."""
    pos = at + _U32(buf, at)[0]
    if pos > _MAX_UOFFSET:
        raise TypeError(f"table at {pos}")
    return pos


_object_new = object.__new__
_object_setattr = object.__setattr__


def _new(cls, fields: dict):
    # A frozen dataclass without its __init__, which sets each field through
    # object.__setattr__ (half the decoding time of an answer): `fields` becomes its __dict__.
    # The classes have no __post_init__; every field is given.
    value = _object_new(cls)
    _object_setattr(value, "__dict__", fields)
    return value


def _error(buf, pos: int) -> PolicydError:
    code_at, message_at = _slots(buf, pos, 2)
    code = _U8(buf, pos + code_at)[0] if code_at else 0
    message = _string(buf, pos + message_at).decode("utf-8", "replace") if message_at else ""
    return PolicydError(Code.UNKNOWN if code == Code.OK else code, message)


def _details(buf, pos: int) -> Details:
    sequence_at, created_at, changed_at, owner_at = _slots(buf, pos, 4)
    if created_at:
        seconds, nanos = _TIMESTAMP(buf, pos + created_at)
        created = _new(Timestamp, {"seconds": seconds, "nanos": nanos})
    else:
        created = None
    if changed_at:
        seconds, nanos = _TIMESTAMP(buf, pos + changed_at)
        changed = _new(Timestamp, {"seconds": seconds, "nanos": nanos})
    else:
        changed = None
    fields = {
        "sequence": _U64(buf, pos + sequence_at)[0] if sequence_at else 0,
        "creation_date": created,
        "change_date": changed,
        "resource_owner": (
            _string(buf, pos + owner_at).decode("utf-8", "replace") if owner_at else ""
        ),
    }
    return _new(Details, fields)


def _policy(buf, pos: int) -> DomainPolicy:
    details_at, login_at, default_at, validate_at, smtp_at = _slots(buf, pos, 5)
    fields = {
        "details": (
            _details(buf, _table_at(buf, pos + details_at))
            if details_at
            else Details(0, None, None, "")
        ),
        "user_login_must_be_domain": _BOOL(buf, pos + login_at)[0] if login_at else False,
        "is_default": _BOOL(buf, pos + default_at)[0] if default_at else False,
        "validate_org_domains": _BOOL(buf, pos + validate_at)[0] if validate_at else False,
        "smtp_sender_address_matches_instance_domain": (
            _BOOL(buf, pos + smtp_at)[0] if smtp_at else False
        ),
    }
    return _new(DomainPolicy, fields)


def _answer(buf, pos: int, stale: bool) -> PolicyAnswer:
    """A PolicyResult of a request without kinds (messages._answer with kinds False)."""
    org_at, known_at, policy_at, error_at = _slots(buf, pos, 4)
    org_id = _string(buf, pos + org_at).decode("utf-8", "replace") if org_at else None
    error = _table_at(buf, pos + error_at) if error_at else None
    policy = _table_at(buf, pos + policy_at) if policy_at else None
    if error is None and policy is None:
        raise ValueError("PolicyResult has neither policy nor error")
    fields = {
        "org_id": org_id,
        "org_known": _BOOL(buf, pos + known_at)[0] if known_at else False,
        "stale": stale,
        "policy": None if error is not None else _policy(buf, policy),
        "error": None if error is None else _error(buf, error),
        "password_complexity": None,  # the kinds: a request without kinds has none
        "password_age": None,
        "lockout": None,
        "login": None,
        "privacy": None,
        "notification": None,
        "label": None,
    }
    return _new(PolicyAnswer, fields)


class Response(messages.Response):
    """messages.Response, with the header and domain-policy bodies read here. Kinds, checks and
    status bodies go to the generated code (messages.Response's methods)."""

    def __init__(self, payload: Union[bytes, bytearray]):
        if len(payload) < messages.MIN_FRAME_BYTES or payload[4:8] != b"PDRS":
            raise ValueError("not a policyd Response (file identifier PDRS)")
        self._payload = payload
        self._r = None
        pos = _U32(payload, 0)[0]
        vtable, size = _vtable(payload, pos)
        # Not all five at once: the body's entry (field 3) is read only when there is no error.
        id_at, error_at, kind_at = _entries(payload, vtable, size, 3)
        stale_at = _U16(payload, vtable + 12)[0] if size > 12 else 0
        self.id = _U64(payload, pos + id_at)[0] if id_at else 0
        self.stale = _BOOL(payload, pos + stale_at)[0] if stale_at else False
        self.error = None if not error_at else _error(payload, _table_at(payload, pos + error_at))
        self.kind = _U8(payload, pos + kind_at)[0] if kind_at else 0
        self._body_at = None
        if self.error is None:
            body_at = _U16(payload, vtable + 10)[0] if size > 10 else 0
            if not body_at:
                raise ValueError("Response has neither error nor body")
            self._body_at = _indirect(payload, pos + body_at)  # read here, as Body() is

    def _body_pos(self) -> int:
        if self._body_at is None:  # the generated Body() is None: _body raises AttributeError
            raise AttributeError("Response has no body")
        pos = self._body_at
        if pos > _MAX_UOFFSET:
            raise TypeError(f"body at {pos}")
        return pos

    def _body(self, table_type):
        body = table_type()
        body.Init(self._payload, self._body_pos())
        return body

    def answer(self, kinds: bool = False) -> PolicyAnswer:
        if kinds:
            return super().answer(kinds)
        if self.kind != rs.ResponseBody.PolicyResult:
            raise ValueError(f"expected a PolicyResult, got body type {self.kind}")
        return _answer(self._payload, self._body_pos(), self.stale)

    def answers(self, expected: int, kinds: bool = False) -> list[PolicyAnswer]:
        if kinds:
            return super().answers(expected, kinds)
        if self.kind != rs.ResponseBody.PolicyBatch:
            raise ValueError(f"expected a PolicyBatch, got body type {self.kind}")
        buf = self._payload
        pos = self._body_pos()
        (o,) = _slots(buf, pos, 1)
        if not o:
            count, first = 0, 0
        else:
            first = _indirect(buf, pos + o)
            count = _U32(buf, first)[0]
            first += 4
        if count != expected:
            raise ValueError(f"{count} results for {expected} orgs")
        stale = self.stale
        # The generated Results(i) re-reads the vtable and the vector's offset for each entry.
        return [_answer(buf, _indirect(buf, first + 4 * i), stale) for i in range(expected)]
