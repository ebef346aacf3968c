"""Smoke test of the benchmark's Python driver (clients/python/bench_driver.py, run by
policyd_bench's clients section): each target and mode for a fraction of a second against the real
policyd serving the example snapshot (and redis-server when installed), so the driver does not rot.
Targets whose client is missing here must say why in an "unavailable" row, never fail.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import unittest

from fixtures import REPO, Daemon, snapshot_path

DRIVER = os.path.join(REPO, "clients", "python", "bench_driver.py")
ORGS = ["300000000000000042", "300000000000000107", "300000000000000233"]


def run_driver(target, sock, orgs_file, mode, callers=1):
    """The driver's JSON line; fails the test when it exits non-zero or prints anything else."""
    p = subprocess.run(
        [sys.executable, DRIVER, "--target", target, "--socket", sock, "--orgs", orgs_file,
         "--mode", mode, "--callers", str(callers), "--seconds", "0.1", "--warmup", "5"],
        capture_output=True, timeout=60, check=False, text=True,
    )
    if p.returncode != 0:
        raise AssertionError(f"driver exited {p.returncode}: {p.stderr}")
    lines = p.stdout.splitlines()
    if len(lines) != 1:
        raise AssertionError(f"driver printed {p.stdout!r}")
    return json.loads(lines[0])


class RedisServer:
    """redis-server on a unix socket in a temp dir, holding `values`; stop() ends it."""

    def __init__(self, values: dict):
        self.dir = tempfile.mkdtemp(prefix="policyd-redis-")
        self.socket = os.path.join(self.dir, "redis.sock")
        self._process = subprocess.Popen(
            ["redis-server", "--port", "0", "--unixsocket", self.socket, "--save", "",
             "--appendonly", "no", "--dir", self.dir],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        try:
            self._wait_ready(time.monotonic() + 30)
            import redis

            r = redis.Redis(unix_socket_path=self.socket)
            for key, value in values.items():
                r.set(key, value)
            r.close()
        except Exception:
            self.stop()
            raise

    def _wait_ready(self, deadline: float) -> None:
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"redis-server exited with {self._process.returncode}")
            try:
                with socket.socket(socket.AF_UNIX) as s:
                    s.connect(self.socket)
                    s.sendall(b"PING\r\n")
                    if s.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                pass
            time.sleep(0.02)
        raise RuntimeError("redis-server not ready within 30 s")

    def stop(self) -> None:
        if self._process.poll() is None:
            self._process.terminate()
            self._process.wait(timeout=10)
        shutil.rmtree(self.dir, ignore_errors=True)


class BenchDriverTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.daemon = Daemon(snapshot_path())
        cls.dir = tempfile.mkdtemp(prefix="policyd-driver-")
        cls.orgs = os.path.join(cls.dir, "orgs.txt")
        with open(cls.orgs, "w") as f:
            f.write("\n".join(ORGS) + "\n")

    @classmethod
    def tearDownClass(cls):
        cls.daemon.stop()
        shutil.rmtree(cls.dir, ignore_errors=True)

    def assertMeasured(self, report, row, mode, callers):
        self.assertEqual((report["row"], report["mode"], report["callers"]), (row, mode, callers))
        self.assertNotIn("unavailable", report)
        self.assertEqual(report["errors"], 0, report.get("error"))
        self.assertGreater(report["lookups"], 0)
        self.assertGreater(report["rate"], 0)
        self.assertGreater(report["p50_us"], 0)
        self.assertGreaterEqual(report["p99_us"], report["p50_us"])
        self.assertGreater(report["client_cpu_us"], 0)

    def test_pure_client_in_every_mode(self):
        for mode, callers in (("sequential", 1), ("concurrent", 4), ("connect", 1)):
            with self.subTest(mode=mode):
                report = run_driver("pure", self.daemon.socket, self.orgs, mode, callers)
                self.assertMeasured(report, "Python (pure)", mode, callers)
                self.assertNotEqual(report["implementation"], "c")

    def test_extension_is_measured_or_says_it_is_not_built(self):
        import policyd_client

        report = run_driver("ext", self.daemon.socket, self.orgs, "sequential")
        if getattr(policyd_client, "IMPLEMENTATION", "python") == "c":
            self.assertMeasured(report, "Python (extension)", "sequential", 1)
        else:
            self.assertIn("not built", report["unavailable"])

    def test_asyncio_is_measured_or_says_it_does_not_import(self):
        try:
            from policyd_client import aio  # noqa: F401

            available = True
        except ImportError:
            available = False
        report = run_driver("aio", self.daemon.socket, self.orgs, "concurrent", 8)
        if available:
            self.assertMeasured(report, "Python asyncio", "concurrent", 8)
        else:
            self.assertIn("does not import", report["unavailable"])

    def test_a_daemon_that_is_not_there_is_an_error_in_the_report(self):
        report = run_driver("pure", os.path.join(self.dir, "nothing.sock"), self.orgs, "sequential")
        self.assertEqual((report["errors"], report["lookups"]), (1, 0))
        self.assertIn("cannot connect to policyd", report["error"])
        self.assertNotIn("p50_us", report)

    def test_redis_py_reads_the_values(self):
        try:
            import redis  # noqa: F401
        except ImportError:
            report = run_driver("redis", "/nonexistent.sock", self.orgs, "sequential")
            self.assertIn("redis-py not installed", report["unavailable"])
            return
        if shutil.which("redis-server") is None:
            self.skipTest("redis-server is not installed")
        server = RedisServer({org: b"x" * 200 for org in ORGS})
        try:
            for mode, callers in (("sequential", 1), ("concurrent", 4), ("connect", 1)):
                with self.subTest(mode=mode):
                    report = run_driver("redis", server.socket, self.orgs, mode, callers)
                    self.assertMeasured(report, "redis-py", mode, callers)
            for mode, callers in (("sequential", 1), ("concurrent", 8)):
                with self.subTest(target="redis-aio", mode=mode):
                    report = run_driver("redis-aio", server.socket, self.orgs, mode, callers)
                    self.assertMeasured(report, "redis-py asyncio", mode, callers)
                    self.assertIn("redis.asyncio", report["implementation"])
        finally:
            server.stop()


if __name__ == "__main__":
    unittest.main()
