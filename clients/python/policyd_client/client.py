"""A blocking policyd client over the daemon's unix socket.

    with Client("/run/policyd/policyd.sock") as client:
        answer = client.get_org_policy("300000000000000042")
        if answer.policy.user_login_must_be_domain: ...

One Client is one connection; requests carry increasing ids and each answer is checked to
answer the request just sent. Every call has one deadline (`timeout` seconds, kept to within a
millisecond) for sending the request and receiving its whole answer. Errors raise PolicydError
(see model.py); after UNAVAILABLE, DEADLINE_EXCEEDED or INTERNAL the connection is closed
(connected is False) and every further call raises UNAVAILABLE: make a new Client. Errors the
daemon answered leave it open. policyd_client.aio has the same calls for asyncio, pipelined.

Not thread-safe: use one Client per thread (or a lock).
"""

from __future__ import annotations

import os
import socket
import struct
import time
from typing import Callable, Iterable, Optional, Sequence, Union

from . import fast_wire, messages
from .kinds import CLI_NAMES, PolicyKind
from .model import Check, CheckAnswer, Code, PolicyAnswer, PolicydError, ServerStatus

DEFAULT_SOCKET = "/run/policyd/policyd.sock"

# Which code answers: "c" (policyd_native, the C++ client as an extension module: transport and
# lookups in C++, other answers decoded by fast_wire.py), "fast" (the pure-Python client:
# fast_wire.py, GetOrgPolicy from a template and the domain policy decoded with one struct read per
# field) or "generated" (the pure-Python client on messages.py over the flatc-generated code, the
# reference). "c" when policyd_native imports (built with policyd, on PYTHONPATH); the
# environment forces the others when policyd_client is imported: POLICYD_CLIENT_PURE=1 gives
# "fast", POLICYD_CLIENT_GENERATED=1 "generated". All answer alike; docs/clients-python.md.
_native = None
if os.environ.get("POLICYD_CLIENT_GENERATED") == "1":
    IMPLEMENTATION = "generated"
else:
    IMPLEMENTATION = "fast"
    if os.environ.get("POLICYD_CLIENT_PURE") != "1":
        try:
            import policyd_native as _native
        except ImportError:
            pass
        else:
            from . import model as _model

            _native.setup(_model)
            IMPLEMENTATION = "c"
if IMPLEMENTATION == "generated":
    _RESPONSE = messages.Response
    _ENCODE_GET_ORG_POLICY = messages.encode_get_org_policy
else:
    _RESPONSE = fast_wire.Response
    _ENCODE_GET_ORG_POLICY = fast_wire.encode_get_org_policy

# The receive buffer each connection keeps: an answer that fits arrives with one recv_into.
_RECEIVE_BUFFER_BYTES = 64 * 1024
# Frames up to this size are sent with one blocking sendall bounded by SO_SNDTIMEO: the
# daemon has read every earlier request (it answered them), so the socket takes them at once.
_SMALL_FRAME_BYTES = 16 * 1024
# A call may overrun its deadline by this much: a receive's kernel timeout is moved to the
# deadline only when the time left is shorter than it by more (sending normally takes
# microseconds, so the common call makes no setsockopt).
_DEADLINE_SLACK = 0.001
_TIMEVAL = struct.Struct("@ll")  # struct timeval
_FRAME_LENGTH = messages.FRAME_HEADER.unpack_from
assert messages.FRAME_HEADER.size == 4


class Client:
    def __init__(
        self,
        socket_path: str = DEFAULT_SOCKET,
        timeout: float = 5.0,
        max_response_bytes: int = 16 << 20,
    ):
        """Connects; raises PolicydError UNAVAILABLE when policyd cannot be reached, and
        DEADLINE_EXCEEDED when connecting takes longer than `timeout` seconds."""
        self._timeout = timeout
        self._max_response_bytes = max_response_bytes
        self._last_id = 0
        # With the extension, it holds the connection and self._sock stays None.
        self._native = None
        if _native is not None:
            self._native = _native.Connection(socket_path, timeout, max_response_bytes)
            self._sock = None
            return
        # Received bytes not yet taken: self._buffer[self._start:self._end].
        self._buffer = bytearray(_RECEIVE_BUFFER_BYTES)
        self._view = memoryview(self._buffer)
        self._start = self._end = 0
        self._sock: Optional[socket.socket] = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            self._sock.settimeout(timeout)
            self._sock.connect(socket_path)
            # From here on the socket blocks and the kernel bounds each send and receive
            # (SO_SNDTIMEO, SO_RCVTIMEO; see _arm), which saves Python's poll() before each of
            # them and a settimeout() per call.
            self._sock.settimeout(None)
            self._armed = 0.0
            self._arm(timeout)
        except socket.timeout:
            self.close()
            raise PolicydError(
                Code.DEADLINE_EXCEEDED, f"cannot connect to policyd at {socket_path}: timed out"
            ) from None
        except OSError as e:
            self.close()
            raise PolicydError(
                Code.UNAVAILABLE, f"cannot connect to policyd at {socket_path}: {e.strerror or e}"
            ) from None
        except BaseException:  # e.g. a timeout that is no number: no socket left open
            self.close()
            raise

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        if self._native is not None:
            self._native.close()
        if self._sock is not None:
            self._sock.close()
            self._sock = None
        self._start = self._end = 0

    @property
    def connected(self) -> bool:
        """False once a transport failure (or close()) ended the connection."""
        if self._native is not None:
            return self._native.connected
        return self._sock is not None

    # ---- Requests: one method per request kind in schemas/request.fbs ----

    def get_org_policy(self, org_id: messages.OrgId, strict: bool = False) -> PolicyAnswer:
        """The effective policy of one org. An unknown org gets the instance default with
        org_known False, like the upstream; with `strict` it raises NOT_FOUND instead."""
        if self._native is not None:
            return self._native.get_org_policy(org_id, strict)
        response = self._round_trip(_ENCODE_GET_ORG_POLICY, org_id, strict, wipe=False)
        try:
            answer = response.answer()
        except self.DECODE_ERRORS as e:
            self._undecodable(e)
        if answer.error is not None:
            raise answer.error
        return answer

    def get_org_policies(
        self, org_ids: Sequence[messages.OrgId], strict: bool = False
    ) -> list[PolicyAnswer]:
        """Many orgs (1..1024) in one round trip, answered in request order. Each answer has
        its own error (e.g. NOT_FOUND when strict), returned rather than raised."""
        if isinstance(org_ids, (str, bytes)):
            raise TypeError("org_ids must be a sequence of org ids, not one id")
        org_ids = list(org_ids)
        response = self._round_trip(
            lambda i: messages.encode_get_org_policies(i, org_ids, strict)
        )
        return self._decode(lambda: response.answers(len(org_ids)))

    def get_default_policy(self) -> PolicyAnswer:
        """The instance default (org_id None, policy.is_default True)."""
        response = self._round_trip(messages.encode_get_default_policy)
        return self._single(response)

    # Several policy kinds in one round trip, all read from one consistent view of the daemon.
    # `kinds` is an iterable of PolicyKind (or their numbers; order and repeats do not matter):
    # the answer's policy (DOMAIN) and password_complexity, password_age, lockout, login,
    # privacy, notification, label attributes hold the kinds asked for, each with is_default.
    # No kinds at all, or a number that is no kind, raises INVALID_ARGUMENT with nothing sent.
    # A successful answer that lacks a kind asked for raises UNIMPLEMENTED: a daemon older than
    # policy kinds ignores them and answers the domain policy alone.

    def get_org_kinds(
        self, org_id: messages.OrgId, kinds: Iterable[int], strict: bool = False
    ) -> PolicyAnswer:
        """The effective policies of `kinds` for one org: its own, else the instance default
        (is_default True). An unknown org gets the instance defaults with org_known False; with
        `strict` it raises NOT_FOUND instead."""
        wanted = _kind_list(kinds)
        response = self._round_trip(
            lambda i: _ENCODE_GET_ORG_POLICY(i, org_id, strict, wanted)
        )
        return _answered_all(self._single(response, kinds=True), wanted)

    def get_orgs_kinds(
        self, org_ids: Sequence[messages.OrgId], kinds: Iterable[int], strict: bool = False
    ) -> list[PolicyAnswer]:
        """Many orgs (1..1024), the same kinds for each, in one round trip, answered in request
        order. Each answer has its own error (e.g. NOT_FOUND when strict), returned rather than
        raised."""
        if isinstance(org_ids, (str, bytes)):
            raise TypeError("org_ids must be a sequence of org ids, not one id")
        org_ids = list(org_ids)
        wanted = _kind_list(kinds)
        response = self._round_trip(
            lambda i: messages.encode_get_org_policies(i, org_ids, strict, wanted)
        )
        answers = self._decode(lambda: response.answers(len(org_ids), kinds=True))
        return [_answered_all(a, wanted) for a in answers]

    def get_default_kinds(self, kinds: Iterable[int]) -> PolicyAnswer:
        """The instance defaults of `kinds` (org_id None, each is_default True)."""
        wanted = _kind_list(kinds)
        response = self._round_trip(lambda i: messages.encode_get_default_policy(i, wanted))
        return _answered_all(self._single(response, kinds=True), wanted)

    # Local policy checks (README "Checks"): each one round trip. A value that is no login name,
    # address or domain is answered (allowed False, an INVALID_* reason), not raised.

    def check_login_name(
        self, org_id: messages.OrgId, login_name: str, strict: bool = False
    ) -> CheckAnswer:
        """May a user of the org log in with `login_name`? With userLoginMustBeDomain it must be
        username@<a verified domain of the org>; without it, it is the username itself. An
        unknown org is decided on the instance default; with `strict` it raises NOT_FOUND."""
        return self.check(Check.login_name(org_id, login_name, strict))

    def check_smtp_sender(self, address: str) -> CheckAnswer:
        """May `address` be the instance's SMTP sender (the instance policy's
        smtpSenderAddressMatchesInstanceDomain against the instance domains)?"""
        return self.check(Check.smtp_sender(address))

    def check_domain_verification(
        self, org_id: messages.OrgId, domain: str, strict: bool = False
    ) -> CheckAnswer:
        """Is `domain` verified for the org without a challenge? Refused when adding it needs
        verification (validateOrgDomains) or the org has it unverified; domain_on_org and
        domain_verified say whether the org already has it."""
        return self.check(Check.domain_verification(org_id, domain, strict))

    def check_password(
        self,
        org_id: messages.OrgId,
        password: Union[str, bytes, bytearray],
        strict: bool = False,
    ) -> CheckAnswer:
        """Does `password` satisfy the org's effective password complexity policy (the
        upstream's PasswordComplexityPolicy.Check)? The answer has allowed, reason (PASSWORD_*),
        error_id and message of the first failing rule, and password_complexity, the policy used
        (is_default: the instance default). The password is only sent: never logged, kept or in
        an error, and the request buffers are zeroed after sending (README "Clients" says what a
        Python str cannot guarantee; pass a bytearray and zero it yourself to keep the copies
        down to what this client wipes)."""
        return self.check(Check.password(org_id, password, strict))

    def check(self, check: Check) -> CheckAnswer:
        """Any one check. Raises the daemon's errors (INVALID_ARGUMENT, NOT_FOUND, ...)."""
        response = self._round_trip(lambda i: messages.encode_check(i, check))
        answer = self._decode(response.check)
        if answer.error is not None:
            raise answer.error
        return answer

    def check_batch(self, checks: Sequence[Check]) -> list[CheckAnswer]:
        """1..1024 checks in one round trip, answered in request order; a check's own error
        (NOT_FOUND when strict, a bad org id) is returned in its answer rather than raised."""
        checks = list(checks)
        response = self._round_trip(lambda i: messages.encode_check_batch(i, checks))
        return self._decode(lambda: response.checks(len(checks)))

    def get_status(self) -> ServerStatus:
        """The daemon's store and sync state."""
        response = self._round_trip(messages.encode_get_status)
        return self._decode(response.status)

    # ---- Transport ----

    def _round_trip(
        self, encode: Callable[..., bytearray], *args, wipe: bool = True
    ) -> messages.Response:
        """Sends encode(request id, *args); the answer to it, when it is no error. The frame is
        wiped once sent (it may hold a password) unless `wipe` is False (a lookup's frame)."""
        if self._native is not None:
            request_id = self._native.next_id()
            frame = encode(request_id, *args)
            try:
                payload = self._native.exchange(frame)
            finally:
                if wipe:
                    messages.wipe(frame)
            response = self._response(payload)
        else:
            request_id, response = self._socket_round_trip(encode, args, wipe)
        if response.id != request_id:
            if response.id == 0 and response.error is not None:
                # A connection-level refusal or framing error, answered before the daemon could
                # read a request id.
                raise response.error
            self.close()
            raise PolicydError(
                Code.INTERNAL,
                f"policyd answered request {response.id} while request {request_id} was expected",
            )
        if response.error is not None:
            raise response.error
        return response

    def _socket_round_trip(self, encode, args, wipe: bool):
        """The pure client's round trip: (request id, the answer's Response)."""
        if self._sock is None:
            raise PolicydError(Code.UNAVAILABLE, "connection to policyd is closed")
        self._last_id += 1
        request_id = self._last_id
        frame = encode(request_id, *args)
        deadline = time.monotonic() + self._timeout
        send_error: Optional[PolicydError] = None
        try:
            if len(frame) <= _SMALL_FRAME_BYTES:
                if self._armed != self._timeout:
                    self._arm(self._timeout)
                self._sock.sendall(frame)
            else:  # Python's own timeout bounds the whole sendall, however many sends it takes
                self._sock.settimeout(self._remaining(deadline))
                try:
                    self._sock.sendall(frame)
                finally:
                    self._sock.settimeout(None)
        except OSError as e:
            # Keep reading: the daemon may have answered (and closed) before reading the
            # request, e.g. to refuse a peer or a connection over its limit.
            send_error = self._transport_error(e, "send to policyd")
        finally:
            if wipe:
                messages.wipe(frame)  # it may hold a password (check_password)
        try:
            response = self._receive(deadline)
        except PolicydError:
            if send_error is not None:
                self.close()
                raise send_error from None
            raise
        return request_id, response

    def _single(self, response: messages.Response, kinds: bool = False) -> PolicyAnswer:
        answer = self._decode(lambda: response.answer(kinds))
        if answer.error is not None:
            raise answer.error
        return answer

    # What decoding a malformed answer raises (the FlatBuffers runtime has no Verifier).
    DECODE_ERRORS = (ValueError, IndexError, TypeError, AttributeError, struct.error)

    def _decode(self, decode):
        try:
            return decode()
        except self.DECODE_ERRORS as e:
            self._undecodable(e)

    def _undecodable(self, e: Exception):
        self.close()
        raise PolicydError(Code.INTERNAL, f"undecodable answer from policyd: {e}") from None

    def _receive(self, deadline: float) -> messages.Response:
        # One recv_into into the connection's buffer usually brings the whole answer; bytes past
        # it (a daemon answering more than asked) stay there for the next call, as they would
        # have stayed in the socket.
        if self._end - self._start < 4:
            self._fill(4, deadline)
        (length,) = _FRAME_LENGTH(self._buffer, self._start)
        if length < messages.MIN_FRAME_BYTES or length > self._max_response_bytes:
            self.close()
            raise PolicydError(Code.INTERNAL, f"bad frame from policyd: length {length}")
        start = self._start + 4
        end = start + length
        if end > self._end:
            self._fill(4 + length, deadline)
            start = self._start + 4
            end = start + length
        payload = bytes(self._view[start:end])  # one copy (a bytearray slice would be two)
        if end == self._end:
            self._start = self._end = 0
            if len(self._buffer) > _RECEIVE_BUFFER_BYTES:  # grown for a large answer
                self._buffer = bytearray(_RECEIVE_BUFFER_BYTES)
                self._view = memoryview(self._buffer)
        else:
            self._start = end
        return self._response(payload)

    def _response(self, payload: bytes) -> messages.Response:
        try:
            return _RESPONSE(payload)
        except self.DECODE_ERRORS as e:
            self._undecodable(e)

    def _fill(self, n: int, deadline: float) -> None:
        """Receives until the buffer holds `n` bytes from self._start, moving what it holds to
        the front, into a larger buffer for a frame larger than it."""
        if self._start + n > len(self._buffer):
            held = self._buffer[self._start : self._end]
            if n > len(self._buffer):
                self._buffer = bytearray(n)
                self._view = memoryview(self._buffer)
            self._buffer[: len(held)] = held
            self._start, self._end = 0, len(held)
        while self._end - self._start < n:
            try:
                remaining = self._remaining(deadline)
                if remaining < self._armed - _DEADLINE_SLACK:
                    self._arm(remaining)
                k = self._sock.recv_into(self._view[self._end :])
            except OSError as e:
                self.close()
                raise self._transport_error(e, "receive from policyd") from None
            if k == 0:
                self.close()
                raise PolicydError(Code.UNAVAILABLE, "policyd closed the connection")
            self._end += k

    def _arm(self, seconds: float) -> None:
        """Bounds each further send and receive by `seconds` (> 0) in the kernel; a no-op
        when they already are."""
        if seconds != self._armed:
            whole = int(seconds)
            micros = max(int((seconds - whole) * 1e6), 0 if whole else 1)  # 0 s: never times out
            value = _TIMEVAL.pack(whole, micros)
            self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, value)
            self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, value)
            self._armed = seconds

    def _remaining(self, deadline: float) -> float:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            self.close()
            raise self._deadline_error()
        return remaining

    def _deadline_error(self) -> PolicydError:
        return PolicydError(
            Code.DEADLINE_EXCEEDED, f"no answer from policyd within {self._timeout:g} s"
        )

    def _transport_error(self, e: OSError, what: str) -> PolicydError:
        # BlockingIOError (EAGAIN): SO_SNDTIMEO / SO_RCVTIMEO expired.
        if isinstance(e, (socket.timeout, BlockingIOError)):
            return self._deadline_error()
        return PolicydError(Code.UNAVAILABLE, f"{what}: {e.strerror or e}")


def _kind_list(kinds: Iterable[int]) -> list[int]:
    """The kinds asked for, each once, in number order (as policyd's C++ client sends them)."""
    if isinstance(kinds, (str, bytes)):
        raise TypeError("kinds must be an iterable of PolicyKind")
    wanted = set()
    for kind in kinds:
        try:
            wanted.add(PolicyKind(kind))
        except ValueError:
            raise PolicydError(Code.INVALID_ARGUMENT, f"{kind!r} is no policy kind") from None
    if not wanted:
        raise PolicydError(Code.INVALID_ARGUMENT, "no policy kind asked for")
    return sorted(wanted)


def _answered_all(answer: PolicyAnswer, kinds: Sequence[int]) -> PolicyAnswer:
    # A daemon older than policy kinds ignores `kinds` and answers the domain policy alone.
    if answer.error is None:
        for kind in kinds:
            if answer.kind(kind) is None:
                raise PolicydError(
                    Code.UNIMPLEMENTED,
                    f"policyd did not answer policy kind {CLI_NAMES[kind]} "
                    "(a daemon older than policy kinds?)",
                )
    return answer
