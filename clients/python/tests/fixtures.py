"""Test fixtures: the real policyd on a temp socket, and fake servers for transport faults.

POLICYD_BIN / POLICYCTL_BIN name the binaries (ctest sets them; default: build/ of the repo),
POLICYD_SNAPSHOT the snapshot to serve (default: examples/snapshot.json).
"""

from __future__ import annotations

import os
import shutil
import socket
import struct
import subprocess
import tempfile
import threading
import time

import flatbuffers

from policyd_client import Client, PolicydError
from policyd_client.fb import request_generated as rq
from policyd_client.fb import response_generated as rs

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))


def binary(env: str, default: str) -> str:
    path = os.environ.get(env) or os.path.join(REPO, "build", default)
    if not os.access(path, os.X_OK):
        raise RuntimeError(f"{path} is not an executable; set {env} to the built binary")
    return path


def snapshot_path() -> str:
    return os.environ.get("POLICYD_SNAPSHOT") or os.path.join(REPO, "examples", "snapshot.json")


class Daemon:
    """policyd serving `snapshot` on a fresh temp dir; stop() ends it with SIGTERM."""

    def __init__(self, snapshot: str):
        self.dir = tempfile.mkdtemp(prefix="policyd-py-")
        self.socket = os.path.join(self.dir, "policyd.sock")
        self._log = open(os.path.join(self.dir, "policyd.log"), "w+b")
        self._process = subprocess.Popen(
            [binary("POLICYD_BIN", "src/daemon/policyd"), "--socket", self.socket,
             "--data-dir", os.path.join(self.dir, "data"), "--snapshot", snapshot],
            stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT,
        )
        try:
            self._wait_ready(deadline=time.monotonic() + 30)
        except Exception:
            self.stop()
            raise

    def _wait_ready(self, deadline: float) -> None:
        last = None
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"policyd exited with {self._process.returncode}: {self.log()}")
            try:
                with Client(self.socket, timeout=1.0) as client:
                    client.get_status()
                return
            except PolicydError as e:
                last = e
            time.sleep(0.02)
        raise RuntimeError(f"policyd not ready within 30 s ({last}): {self.log()}")

    def log(self) -> str:
        self._log.seek(0)
        return self._log.read().decode("utf-8", "replace")

    def stop(self) -> None:
        if self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def policyctl(sock: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [binary("POLICYCTL_BIN", "src/cli/policyctl"), "--socket", sock, *args],
        capture_output=True, timeout=30, check=False,
    )


def response_frame(request_id: int, code: int = 0, message: str = "") -> bytes:
    """A framed Response carrying an error (`code` != 0), as the daemon would write it."""
    builder = flatbuffers.Builder(64)
    text = builder.CreateString(message)
    rs.ErrorStart(builder)
    rs.ErrorAddCode(builder, code)
    rs.ErrorAddMessage(builder, text)
    error = rs.ErrorEnd(builder)
    rs.ResponseStart(builder)
    rs.ResponseAddId(builder, request_id)
    rs.ResponseAddError(builder, error)
    builder.Finish(rs.ResponseEnd(builder), b"PDRS")
    payload = builder.Output()
    return struct.pack("<I", len(payload)) + payload


def status_frame(request_id: int, fleet: dict | None = None, publishers=()) -> bytes:
    """A framed StatusReply as a fleet-mode daemon would write it: `fleet` holds the FleetStatus
    scalars and strings by field name (role, servers, bucket, connection, cursor, caught_up,
    values_applied, ...); `publishers` is (id or None, (seconds, nanos) or None, source) each."""
    builder = flatbuffers.Builder(256)
    fleet_offset = None
    if fleet is not None:
        offsets = []
        for pub_id, last_sync, source in publishers:
            id_offset = builder.CreateString(pub_id) if pub_id is not None else None
            source_offset = builder.CreateString(source)
            rs.FleetPublisherStart(builder)
            if id_offset is not None:
                rs.FleetPublisherAddId(builder, id_offset)
            if last_sync is not None:
                rs.FleetPublisherAddLastSync(builder, rs.CreateTimestamp(builder, *last_sync))
            rs.FleetPublisherAddSource(builder, source_offset)
            offsets.append(rs.FleetPublisherEnd(builder))
        rs.FleetStatusStartPublishersVector(builder, len(offsets))
        for offset in reversed(offsets):  # FlatBuffers vectors are built back to front
            builder.PrependUOffsetTRelative(offset)
        vector = builder.EndVector()
        strings = {k: builder.CreateString(fleet[k]) for k in ("servers", "bucket") if k in fleet}
        rs.FleetStatusStart(builder)
        rs.FleetStatusAddPublishers(builder, vector)
        for name, value in fleet.items():
            camel = "".join(part.capitalize() for part in name.split("_"))
            getattr(rs, "FleetStatusAdd" + camel)(builder, strings.get(name, value))
        fleet_offset = rs.FleetStatusEnd(builder)
    version = builder.CreateString("9.9.9")
    rs.StatusReplyStart(builder)
    rs.StatusReplyAddOrgCount(builder, 3)
    rs.StatusReplyAddHasInstance(builder, True)
    rs.StatusReplyAddHealth(builder, rs.Health.SERVING)
    rs.StatusReplyAddVersion(builder, version)
    rs.StatusReplyAddNow(builder, rs.CreateTimestamp(builder, 1765000200, 0))
    if fleet_offset is not None:
        rs.StatusReplyAddFleet(builder, fleet_offset)
    body = rs.StatusReplyEnd(builder)
    rs.ResponseStart(builder)
    rs.ResponseAddId(builder, request_id)
    rs.ResponseAddBodyType(builder, rs.ResponseBody.StatusReply)
    rs.ResponseAddBody(builder, body)
    builder.Finish(rs.ResponseEnd(builder), b"PDRS")
    payload = builder.Output()
    return struct.pack("<I", len(payload)) + payload


class FakeServer:
    """A unix socket server that reads one request frame per connection, then sends `reply`
    (bytes or a function of the request id) and, with `close`, closes; reply None never answers.
    """

    def __init__(self, reply=None, close: bool = False):
        self.dir = tempfile.mkdtemp(prefix="policyd-fake-")
        self.socket = os.path.join(self.dir, "fake.sock")
        self._reply = reply
        self._close = close
        self._listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._listener.bind(self.socket)
        self._listener.listen(8)
        self._listener.settimeout(0.05)  # so _serve notices stop()
        self._connections: list[socket.socket] = []
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stopped.is_set():
            try:
                conn, _ = self._listener.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            conn.settimeout(5)
            self._connections.append(conn)
            try:
                (length,) = struct.unpack("<I", self._read(conn, 4))
                request = self._read(conn, length)
                request_id = rq.Request.GetRootAs(request, 0).Id()
            except (OSError, struct.error):
                continue
            reply = self._reply(request_id) if callable(self._reply) else self._reply
            if reply is not None:
                conn.sendall(reply)
            if self._close:
                conn.close()

    @staticmethod
    def _read(conn: socket.socket, n: int) -> bytes:
        data = b""
        while len(data) < n:
            chunk = conn.recv(n - len(data))
            if not chunk:
                raise OSError("closed")
            data += chunk
        return data

    def stop(self) -> None:
        self._stopped.set()
        self._listener.close()
        for conn in self._connections:
            conn.close()
        self._thread.join(timeout=5)
        shutil.rmtree(self.dir, ignore_errors=True)


class SocketSpy:
    """Wraps the client's socket: records each frame object sent (and a copy of its bytes at the
    time) and every byte received."""

    def __init__(self, sock):
        self._sock = sock
        self.sent = []
        self.received = bytearray()

    def sendall(self, data):
        self.sent.append((data, bytes(data)))
        return self._sock.sendall(data)

    def recv_into(self, view):
        n = self._sock.recv_into(view)
        self.received += bytes(view[:n])
        return n

    def __getattr__(self, name):
        return getattr(self._sock, name)


class NativeSpy:
    """SocketSpy for a client on the C extension: records each frame given to the extension to
    send (and a copy of its bytes at the time) and every answer it returned, with its length
    header, as the socket received them. Lookups (get_org_policy), which never leave C++, are
    not recorded."""

    def __init__(self, native):
        self._native = native
        self.sent = []
        self.received = bytearray()

    def exchange(self, frame):
        self.sent.append((frame, bytes(frame)))
        payload = self._native.exchange(frame)
        self.received += len(payload).to_bytes(4, "little") + payload
        return payload

    def __getattr__(self, name):
        return getattr(self._native, name)


def spy_on(client):
    """Installs a spy on `client`'s transport (its socket, or the C extension's connection)."""
    if getattr(client, "_native", None) is not None:
        client._native = spy = NativeSpy(client._native)
    else:
        client._sock = spy = SocketSpy(client._sock)
    return spy
