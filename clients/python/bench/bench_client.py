#!/usr/bin/python3
"""Python client latency against redis-py, in one run (docs/clients-python.md has results).

Starts policyd on examples/snapshot.json and redis-server (a 200-byte value under one key), each
on a unix socket in a temp dir, then measures in rounds, the rows of a round one after the
other in a rotating order (so that drift on a shared machine hits them alike), each row in a
fresh worker process on one persistent connection:

    redis-py GET               redis.Redis(unix_socket_path=...).get(key)
    get_org_policy fast        policyd_client.Client, the fast wire path (the default)
    get_org_policy generated   the same Client with POLICYD_CLIENT_GENERATED=1
    get_org_policy baseline    with --baseline DIR: the client in DIR (e.g. an older checkout's
                               clients/python), to compare against the code before a change
    aio get_org_policy         policyd_client.aio.Client, one call awaited at a time
    aio gather x1000           1000 concurrent calls on one aio.Client (per-call latency is the
                               batch's wall time / 1000; p99 is of batches)

Each row prints the median over rounds of each round's p50 and p99 (microseconds per call), its
p50 over redis-py's, and the worker's CPU time per call (user + system, warm-up included): on a
loaded machine the latency of a CPU-bound row (the gather) says more about the CPU it was given
than about the client. Usage (from the repository root, after building policyd):

    /usr/bin/python3 clients/python/bench/bench_client.py [--ops 20000] [--rounds 5]
        [--policyd build/src/daemon/policyd] [--baseline DIR] [--pin CPU]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
CLIENT_DIR = os.path.join(REPO, "clients", "python")
ORG = "300000000000000042"
VALUE = b"v" * 200
WARMUP = 1000


# ---- Workers (run in their own process: `bench_client.py --worker ROW ...`) ----


def time_calls(call, ops: int) -> list[int]:
    for _ in range(WARMUP):
        call()
    clock = time.perf_counter_ns
    samples = [0] * ops
    for i in range(ops):
        start = clock()
        call()
        samples[i] = clock() - start
    return samples


def with_cpu(measure):
    """measure()'s samples and this process's CPU time (user + system) per call, in µs."""
    cpu = time.process_time()
    samples, calls = measure()
    return {"samples": samples, "cpu_us": (time.process_time() - cpu) * 1e6 / calls}


def worker(row: str, sock: str, ops: int) -> dict:
    if row == "redis":
        import redis

        r = redis.Redis(unix_socket_path=sock)
        if r.get("key") != VALUE:
            raise RuntimeError("redis does not hold the value")
        return with_cpu(lambda: (time_calls(lambda: r.get("key"), ops), WARMUP + ops))
    if row in ("fast", "generated", "baseline"):
        import policyd_client

        want = {"fast": "fast", "generated": "generated"}.get(row)
        if want is not None and policyd_client.IMPLEMENTATION != want:
            raise RuntimeError(f"client is {policyd_client.IMPLEMENTATION}, not {want}")
        client = policyd_client.Client(sock, timeout=5.0)
        if not client.get_org_policy(ORG).org_known:
            raise RuntimeError("policyd does not know the org")
        return with_cpu(lambda: (time_calls(lambda: client.get_org_policy(ORG), ops), WARMUP + ops))
    import asyncio

    from policyd_client import aio

    async def run() -> tuple[list[int], int]:
        client = await aio.connect(sock, timeout=5.0)
        if not (await client.get_org_policy(ORG)).org_known:
            raise RuntimeError("policyd does not know the org")
        clock = time.perf_counter_ns
        if row == "aio":
            for _ in range(WARMUP):
                await client.get_org_policy(ORG)
            samples = []
            for _ in range(ops):
                start = clock()
                await client.get_org_policy(ORG)
                samples.append(clock() - start)
            return samples, WARMUP + ops
        samples = []
        batches = max(ops // 1000, 3) + 1
        for i in range(batches):
            start = clock()
            answers = await asyncio.gather(*(client.get_org_policy(ORG) for _ in range(1000)))
            if i > 0:  # the first batch warms up
                samples.append((clock() - start) // 1000)
            assert len(answers) == 1000
        client.close()
        return samples, batches * 1000

    return with_cpu(lambda: asyncio.run(run()))


# ---- Harness ----


def wait_for_socket(path: str, process: subprocess.Popen, deadline: float) -> None:
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args[0]} exited with {process.returncode}")
        try:
            with socket.socket(socket.AF_UNIX) as s:
                s.connect(path)
            return
        except OSError:
            time.sleep(0.02)
    raise RuntimeError(f"{path} not accepting within the deadline")


def start_servers(tmp: str, policyd: str, pin):
    pinned = [] if pin is None else ["taskset", "-c", str(pin)]  # every thread, from the start
    policyd_sock = os.path.join(tmp, "policyd.sock")
    redis_sock = os.path.join(tmp, "redis.sock")
    log = open(os.path.join(tmp, "servers.log"), "wb")
    daemon = subprocess.Popen(
        [*pinned, policyd, "--socket", policyd_sock, "--data-dir", os.path.join(tmp, "data"),
         "--snapshot", os.path.join(REPO, "examples", "snapshot.json")],
        stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
    redis = subprocess.Popen(
        [*pinned, "redis-server", "--port", "0", "--unixsocket", redis_sock, "--save", "",
         "--appendonly", "no", "--dir", tmp],
        stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 30
    wait_for_socket(policyd_sock, daemon, deadline)
    wait_for_socket(redis_sock, redis, deadline)
    # policyd accepts before it serves the snapshot: the workers check their first answer.
    import redis as redis_py

    redis_py.Redis(unix_socket_path=redis_sock).set("key", VALUE)
    return daemon, redis, policyd_sock, redis_sock


def run_worker(row: str, sock: str, ops: int, path: str, pin, generated: bool) -> dict:
    env = dict(os.environ, PYTHONPATH=path, PYTHONDONTWRITEBYTECODE="1")
    env.pop("POLICYD_CLIENT_GENERATED", None)
    if generated:
        env["POLICYD_CLIENT_GENERATED"] = "1"
    command = [sys.executable, os.path.abspath(__file__), "--worker", row, "--socket", sock,
               "--ops", str(ops)]
    if pin is not None:
        command[:0] = ["taskset", "-c", str(pin)]
    out = subprocess.run(command, env=env, capture_output=True, check=False, timeout=600)
    if out.returncode != 0:
        raise RuntimeError(f"worker {row} failed: {out.stderr.decode(errors='replace')}")
    return json.loads(out.stdout)


def percentile(sorted_samples: list[int], q: float) -> float:
    return sorted_samples[min(len(sorted_samples) - 1, int(len(sorted_samples) * q))] / 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--worker")
    parser.add_argument("--socket")
    parser.add_argument("--ops", type=int, default=20000, help="calls per row and round")
    parser.add_argument("--rounds", type=int, default=5)
    policyd = os.path.join(REPO, "build", "src", "daemon", "policyd")
    parser.add_argument("--policyd", default=policyd)
    parser.add_argument("--baseline", help="a clients/python dir to measure as the baseline row")
    parser.add_argument("--pin", type=int, help="run servers and workers on this CPU only")
    args = parser.parse_args()
    if args.worker:
        json.dump(worker(args.worker, args.socket, args.ops), sys.stdout)
        return 0

    rows = [("redis-py GET", "redis", CLIENT_DIR, False),
            ("get_org_policy fast", "fast", CLIENT_DIR, False),
            ("get_org_policy generated", "generated", CLIENT_DIR, True)]
    if args.baseline:
        rows.append(("get_org_policy baseline", "baseline", os.path.abspath(args.baseline), False))
    rows += [("aio get_org_policy", "aio", CLIENT_DIR, False),
             ("aio gather x1000", "gather", CLIENT_DIR, False)]
    tmp = tempfile.mkdtemp(prefix="policyd-pybench-")
    daemon = redis = None
    try:
        daemon, redis, policyd_sock, redis_sock = start_servers(tmp, args.policyd, args.pin)
        results: dict[str, list[tuple[float, float, float]]] = {name: [] for name, *_ in rows}
        for r in range(args.rounds):
            order = rows[r % len(rows):] + rows[: r % len(rows)]
            for name, row, path, generated in order:
                sock = redis_sock if row == "redis" else policyd_sock
                measured = run_worker(row, sock, args.ops, path, args.pin, generated)
                samples = sorted(measured["samples"])
                results[name].append(
                    (percentile(samples, 0.5), percentile(samples, 0.99), measured["cpu_us"])
                )
        redis_p50 = statistics.median(r[0] for r in results["redis-py GET"])
        print(f"{args.rounds} rounds x {args.ops} calls per row; median of the rounds' "
              f"percentiles, microseconds per call")
        print(f"{'row':<26} {'p50':>8} {'p99':>8} {'p50 / redis':>12} {'client CPU':>11}")
        for name, *_ in rows:
            p50, p99, cpu = (statistics.median(r[i] for r in results[name]) for i in range(3))
            print(f"{name:<26} {p50:>8.1f} {p99:>8.1f} {p50 / redis_p50:>11.2f}x {cpu:>11.1f}")
    finally:
        for p in (daemon, redis):
            if p is not None and p.poll() is None:
                p.terminate()
                p.wait(timeout=10)
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
