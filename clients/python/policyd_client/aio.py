"""An asyncio policyd client: the blocking Client's methods as coroutines, pipelined.

    from policyd_client import aio

    async with aio.Client("/run/policyd/policyd.sock", timeout=2.0) as client:
        answer = await client.get_org_policy("300000000000000042")
        answers = await asyncio.gather(*(client.get_org_policy(org) for org in orgs))

One Client is one connection. Concurrent calls share it: each request is written as soon as it
is made (up to `max_in_flight` unanswered at once; further calls wait for a place), and each
answer is matched to its request by id, so answers may come in any order (policyd answers in
request order). Errors are the blocking Client's (PolicydError with a Code), with two
differences that keep one call from disturbing the others:
    * `timeout` bounds each call (waiting for a place included) and raises DEADLINE_EXCEEDED for
      that call alone; a call cancelled (task.cancel(), asyncio.wait_for) raises CancelledError
      as usual. Either way the connection stays open: the request may already be sent, and its
      answer, when it comes, is dropped (and its place freed then, so the daemon never holds
      more than `max_in_flight` of this connection's requests).
    * A broken connection (closed by policyd, an answer that does not decode, or that answers
      no request) fails every pending call at once, with UNAVAILABLE or INTERNAL; connected is
      then False and further calls raise UNAVAILABLE: make a new Client.
The requests made in one turn of the event loop are written together, in one system call.
A password (check_password) is in a frame that is zeroed once handed to the transport; asyncio
keeps its own copy of what the socket did not take at once, which this client cannot wipe.

All methods must be called from the event loop the Client was connected on; not thread-safe.
"""

from __future__ import annotations

import asyncio
import collections
from typing import Callable, Iterable, Optional, Sequence, Union

from . import client as _sync
from . import messages
from .client import DEFAULT_SOCKET
from .model import Check, CheckAnswer, Code, PolicyAnswer, PolicydError, ServerStatus

__all__ = ["Client", "connect"]


class _Protocol(asyncio.Protocol):
    """Bytes in, frames out to the Client; the Client's pending calls fail when it is lost."""

    def __init__(self, owner: "Client"):
        self._owner = owner
        self._buffer = bytearray()

    def data_received(self, data: bytes) -> None:
        buf = self._buffer
        buf += data
        at = 0
        size = len(buf)
        while size - at >= 4:
            (length,) = messages.FRAME_HEADER.unpack_from(buf, at)
            if length < messages.MIN_FRAME_BYTES or length > self._owner._max_response_bytes:
                self._owner._fail(
                    PolicydError(Code.INTERNAL, f"bad frame from policyd: length {length}")
                )
                return
            if size - at - 4 < length:
                break
            payload = bytes(buf[at + 4 : at + 4 + length])
            at += 4 + length
            if not self._owner._answered(payload):
                return
        del buf[:at]

    def connection_lost(self, exc: Optional[Exception]) -> None:
        detail = f": {exc}" if exc is not None else ""
        self._owner._fail(PolicydError(Code.UNAVAILABLE, "policyd closed the connection" + detail))

    def pause_writing(self) -> None:
        self._owner._writable.clear()

    def resume_writing(self) -> None:
        self._owner._writable.set()


class Client:
    def __init__(
        self,
        socket_path: str = DEFAULT_SOCKET,
        timeout: float = 5.0,
        max_response_bytes: int = 16 << 20,
        max_in_flight: int = 128,
    ):
        """Not connected yet: `async with Client(...)` or `await client.connect()` connects.
        max_in_flight (>= 1): requests sent and not yet answered, at most (the daemon's
        --max-inflight, 128 by default, is how many it answers per write)."""
        if max_in_flight < 1:
            raise ValueError("max_in_flight must be at least 1")
        self._path = socket_path
        self._timeout = timeout
        self._max_response_bytes = max_response_bytes
        self._free = max_in_flight  # places for requests, see _take_place
        self._expiries: collections.deque = collections.deque()  # see _expect
        self._expiry_timer: Optional[asyncio.TimerHandle] = None
        self._last_deadline = 0.0
        self._waiters: collections.deque[asyncio.Future] = collections.deque()
        self._writable = asyncio.Event()
        self._writable.set()
        self._transport: Optional[asyncio.Transport] = None
        self._pending: dict[int, asyncio.Future] = {}
        self._last_id = 0
        self._out = bytearray()  # frames to write at the end of this turn of the event loop
        self._flush_scheduled = False
        self._broken: Optional[PolicydError] = None

    async def connect(self) -> "Client":
        """Connects; raises PolicydError UNAVAILABLE when policyd cannot be reached, and
        DEADLINE_EXCEEDED when connecting takes longer than `timeout` seconds."""
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(self._timeout):
                self._transport, _ = await loop.create_unix_connection(
                    lambda: _Protocol(self), self._path
                )
        except TimeoutError:
            raise PolicydError(
                Code.DEADLINE_EXCEEDED, f"cannot connect to policyd at {self._path}: timed out"
            ) from None
        except OSError as e:
            raise PolicydError(
                Code.UNAVAILABLE, f"cannot connect to policyd at {self._path}: {e.strerror or e}"
            ) from None
        return self

    async def __aenter__(self) -> "Client":
        return await self.connect()

    async def __aexit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """Closes the connection; pending calls fail with UNAVAILABLE."""
        self._fail(PolicydError(Code.UNAVAILABLE, "connection to policyd is closed"))

    @property
    def connected(self) -> bool:
        """False before connect() and once the connection ended (close(), or a failure)."""
        return self._transport is not None and self._broken is None

    @property
    def in_flight(self) -> int:
        """Requests sent and not answered yet (cancelled ones included until answered)."""
        return len(self._pending)

    # ---- Requests: the blocking Client's, as coroutines (client.py documents each) ----

    async def get_org_policy(self, org_id: messages.OrgId, strict: bool = False) -> PolicyAnswer:
        response = await self._call(lambda i: _sync._ENCODE_GET_ORG_POLICY(i, org_id, strict))
        return self._single(response)

    async def get_org_policies(
        self, org_ids: Sequence[messages.OrgId], strict: bool = False
    ) -> list[PolicyAnswer]:
        if isinstance(org_ids, (str, bytes)):
            raise TypeError("org_ids must be a sequence of org ids, not one id")
        org_ids = list(org_ids)
        response = await self._call(
            lambda i: messages.encode_get_org_policies(i, org_ids, strict)
        )
        return self._decode(lambda: response.answers(len(org_ids)))

    async def get_default_policy(self) -> PolicyAnswer:
        response = await self._call(messages.encode_get_default_policy)
        return self._single(response)

    async def get_org_kinds(
        self, org_id: messages.OrgId, kinds: Iterable[int], strict: bool = False
    ) -> PolicyAnswer:
        wanted = _sync._kind_list(kinds)
        response = await self._call(
            lambda i: _sync._ENCODE_GET_ORG_POLICY(i, org_id, strict, wanted)
        )
        return _sync._answered_all(self._single(response, kinds=True), wanted)

    async def get_orgs_kinds(
        self, org_ids: Sequence[messages.OrgId], kinds: Iterable[int], strict: bool = False
    ) -> list[PolicyAnswer]:
        if isinstance(org_ids, (str, bytes)):
            raise TypeError("org_ids must be a sequence of org ids, not one id")
        org_ids = list(org_ids)
        wanted = _sync._kind_list(kinds)
        response = await self._call(
            lambda i: messages.encode_get_org_policies(i, org_ids, strict, wanted)
        )
        answers = self._decode(lambda: response.answers(len(org_ids), kinds=True))
        return [_sync._answered_all(a, wanted) for a in answers]

    async def get_default_kinds(self, kinds: Iterable[int]) -> PolicyAnswer:
        wanted = _sync._kind_list(kinds)
        response = await self._call(lambda i: messages.encode_get_default_policy(i, wanted))
        return _sync._answered_all(self._single(response, kinds=True), wanted)

    async def check_login_name(
        self, org_id: messages.OrgId, login_name: str, strict: bool = False
    ) -> CheckAnswer:
        return await self.check(Check.login_name(org_id, login_name, strict))

    async def check_smtp_sender(self, address: str) -> CheckAnswer:
        return await self.check(Check.smtp_sender(address))

    async def check_domain_verification(
        self, org_id: messages.OrgId, domain: str, strict: bool = False
    ) -> CheckAnswer:
        return await self.check(Check.domain_verification(org_id, domain, strict))

    async def check_password(
        self,
        org_id: messages.OrgId,
        password: Union[str, bytes, bytearray],
        strict: bool = False,
    ) -> CheckAnswer:
        return await self.check(Check.password(org_id, password, strict))

    async def check(self, check: Check) -> CheckAnswer:
        response = await self._call(lambda i: messages.encode_check(i, check))
        answer = self._decode(response.check)
        if answer.error is not None:
            raise answer.error
        return answer

    async def check_batch(self, checks: Sequence[Check]) -> list[CheckAnswer]:
        checks = list(checks)
        response = await self._call(lambda i: messages.encode_check_batch(i, checks))
        return self._decode(lambda: response.checks(len(checks)))

    async def get_status(self) -> ServerStatus:
        response = await self._call(messages.encode_get_status)
        return self._decode(response.status)

    # ---- Transport ----

    async def _call(self, encode: Callable[[int], bytearray]) -> messages.Response:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._timeout
        self._check_open()
        if self._free > 0 and not self._waiters and self._writable.is_set():
            self._free -= 1
        else:
            try:
                async with asyncio.timeout_at(deadline):
                    await self._take_place()
            except TimeoutError:
                raise self._deadline_error() from None
        try:
            self._check_open()
            self._last_id += 1
            request_id = self._last_id
            frame = encode(request_id)
            # The frames of one turn of the event loop go out in one write (one system call and
            # one wake-up of the daemon for a whole gather, instead of one per request).
            self._out += frame
            messages.wipe(frame)  # it may hold a password (check_password)
            if not self._flush_scheduled:
                self._flush_scheduled = True
                loop.call_soon(self._flush)
            answer = loop.create_future()
            self._pending[request_id] = answer
        except BaseException:
            self._release()
            raise
        self._expect(loop, deadline, answer)
        # The place is freed when the answer arrives (_answered) or the connection fails, even
        # if this call is cancelled or times out while it waits.
        response = await answer
        if response.error is not None:
            raise response.error
        return response

    def _deadline_error(self) -> PolicydError:
        return PolicydError(
            Code.DEADLINE_EXCEEDED, f"no answer from policyd within {self._timeout:g} s"
        )

    def _expect(self, loop, deadline: float, answer: asyncio.Future) -> None:
        """Fails `answer` with DEADLINE_EXCEEDED at `deadline` unless it is done by then. One
        timer for all calls (asyncio.timeout costs one each, with a heap push and a cancel):
        the calls' deadlines, kept increasing, wait in order in self._expiries."""
        deadline = max(deadline, self._last_deadline)  # later by at most a wait for a place
        self._last_deadline = deadline
        self._expiries.append((deadline, answer))
        if self._expiry_timer is None:
            self._expiry_timer = loop.call_at(deadline, self._expire)

    def _expire(self) -> None:
        loop = asyncio.get_running_loop()
        now = loop.time()
        expiries = self._expiries
        while expiries and (expiries[0][1].done() or expiries[0][0] <= now):
            _, answer = expiries.popleft()
            if not answer.done():
                answer.set_exception(self._deadline_error())
        self._expiry_timer = loop.call_at(expiries[0][0], self._expire) if expiries else None

    async def _take_place(self) -> None:
        """Waits for a place (first come, first served) and for the transport to take more
        bytes; on return the caller holds a place. (Not asyncio.Semaphore: its release scans the
        waiters already woken, which a gather of thousands makes quadratic.)"""
        held = False
        waiter = None
        try:
            if self._free > 0 and not self._waiters:
                self._free -= 1
            else:
                waiter = asyncio.get_running_loop().create_future()
                self._waiters.append(waiter)
                await waiter
            held = True
            while not self._writable.is_set():
                await self._writable.wait()
        except BaseException:
            # Cancelled (or timed out) while waiting; a place handed over meanwhile goes on.
            if held or (waiter is not None and waiter.done() and not waiter.cancelled()):
                self._release()
            raise

    def _release(self) -> None:
        """Frees a place: to the first call still waiting for one, else to the pool."""
        waiters = self._waiters
        while waiters:
            waiter = waiters.popleft()
            if not waiter.done():  # done: cancelled while waiting
                waiter.set_result(None)
                return
        self._free += 1

    def _flush(self) -> None:
        self._flush_scheduled = False
        if self._out and self._broken is None:
            self._transport.write(self._out)
        messages.wipe(self._out)
        self._out.clear()

    def _check_open(self) -> None:
        if self._broken is not None or self._transport is None:
            raise PolicydError(Code.UNAVAILABLE, "connection to policyd is closed")

    def _answered(self, payload: bytes) -> bool:
        """Hands one frame to its call; False when the connection had to be failed."""
        try:
            response = _sync._RESPONSE(payload)
        except _sync.Client.DECODE_ERRORS as e:
            self._fail(PolicydError(Code.INTERNAL, f"undecodable answer from policyd: {e}"))
            return False
        answer = self._pending.pop(response.id, None)
        if answer is None:
            if response.id == 0 and response.error is not None:
                # A connection-level refusal or framing error, answered before the daemon could
                # read a request id: it concerns every call.
                self._fail(response.error)
            else:
                self._fail(
                    PolicydError(
                        Code.INTERNAL,
                        f"policyd answered request {response.id}, which is not pending",
                    )
                )
            return False
        self._release()
        if not answer.done():  # done: the call was cancelled or timed out; drop the answer
            answer.set_result(response)
        expiries = self._expiries
        while expiries and expiries[0][1].done():  # answered: no deadline to watch any more
            expiries.popleft()
        return True

    def _fail(self, error: PolicydError) -> None:
        """Ends the connection: every pending call raises `error`."""
        if self._broken is None:
            self._broken = error
        if self._transport is not None:
            self._transport.close()
        pending, self._pending = self._pending, {}
        self._expiries.clear()
        if self._expiry_timer is not None:
            self._expiry_timer.cancel()
            self._expiry_timer = None
        for answer in pending.values():
            self._release()
            if not answer.done():
                answer.set_exception(error)
        self._writable.set()  # a call waiting to write finds the connection closed

    def _single(self, response: messages.Response, kinds: bool = False) -> PolicyAnswer:
        answer = self._decode(lambda: response.answer(kinds))
        if answer.error is not None:
            raise answer.error
        return answer

    def _decode(self, decode):
        try:
            return decode()
        except _sync.Client.DECODE_ERRORS as e:
            self._fail(PolicydError(Code.INTERNAL, f"undecodable answer from policyd: {e}"))
            raise PolicydError(Code.INTERNAL, f"undecodable answer from policyd: {e}") from None


async def connect(
    socket_path: str = DEFAULT_SOCKET,
    timeout: float = 5.0,
    max_response_bytes: int = 16 << 20,
    max_in_flight: int = 128,
) -> Client:
    """A connected Client (the same as `await Client(...).connect()`)."""
    return await Client(socket_path, timeout, max_response_bytes, max_in_flight).connect()
