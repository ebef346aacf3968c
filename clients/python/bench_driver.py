#!/usr/bin/env python3
"""One measurement of a Python client for policyd_bench's "clients" section (bench/clients_bench.h).

    bench_driver.py --target pure|ext|aio|redis --socket PATH --orgs FILE
                    --mode sequential|concurrent|connect [--callers N] [--seconds S]
                    [--warmup 200]

Looks up random org ids of FILE (one per line) for S seconds after a warm-up (--warmup lookups
per caller) and prints one JSON line: {"row", "mode", "callers", "lookups", "errors", "seconds",
"p50_us", "p99_us", "rate", "client_cpu_us", "implementation"}. Latencies are per lookup, from
time.perf_counter_ns around the call; rate = lookups / seconds from the common start to the last
caller's end; client_cpu_us = this process's CPU time (all threads) meanwhile, per lookup. When
the client cannot run here it prints {"row", "mode", "callers", "unavailable": why}; when a caller
fails (e.g. nothing listens on the socket), "errors" counts the failed callers and "error" holds
the first error; both exit 0.

Targets (what a lookup is):
  pure   policyd_client.Client.get_org_policy with POLICYD_CLIENT_PURE=1 (the pure-Python client)
  ext    the same without it, measured only when policyd_client.IMPLEMENTATION == "c"
  aio    policyd_client.aio.Client.get_org_policy (asyncio), when the module exists
  redis  redis-py (Debian's python3-redis) GET of the org id; the bench's Redis holds policyd's
         answer bytes under each org id
  redis-aio  the same with redis-py's asyncio client (redis.asyncio.Redis), the baseline of aio:
         its tasks share one client, whose pool opens a connection per concurrent call
Modes:
  sequential  one connection, one call at a time
  concurrent  N callers: for the blocking clients N threads, each with its own connection (the
              GIL lets one run Python at a time); for aio N tasks sharing one connection
              (pipelined, answers matched by request id)
  connect     one call at a time, each on a new connection (connect, ask, close), as scripts do
"""

from __future__ import annotations

import argparse
import asyncio
import inspect
import json
import os
import random
import sys
import threading
import time

ROWS = {
    "pure": "Python (pure)",
    "ext": "Python (extension)",
    "aio": "Python asyncio",
    "redis": "redis-py",
    "redis-aio": "redis-py asyncio",
}


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--target", required=True, choices=sorted(ROWS))
    p.add_argument("--socket", required=True)
    p.add_argument("--orgs", required=True, help="file of org ids, one per line")
    p.add_argument("--mode", required=True, choices=["sequential", "concurrent", "connect"])
    p.add_argument("--callers", type=int, default=1)
    p.add_argument("--seconds", type=float, default=2.0)
    p.add_argument("--warmup", type=int, default=200, help="lookups per caller before timing")
    return p.parse_args(argv)


class Unavailable(Exception):
    pass


def load_client(target):
    """Returns (lookup factory, connect-per-call lookup, implementation name) for a blocking target.

    The factory makes one connection and returns its lookup function (org -> None)."""
    if target == "redis":
        try:
            import redis
        except ImportError as e:
            raise Unavailable(f"redis-py not installed ({e.name}; Debian: python3-redis)")
        sock = ARGS.socket

        def factory():
            r = redis.Redis(unix_socket_path=sock, single_connection_client=True)

            def lookup(org):
                if r.get(org) is None:
                    raise RuntimeError(f"redis has no value for {org}")

            return lookup

        def once(org):
            r = redis.Redis(unix_socket_path=sock, single_connection_client=True)
            try:
                if r.get(org) is None:
                    raise RuntimeError(f"redis has no value for {org}")
            finally:
                r.close()

        return factory, once, "redis-py " + redis.__version__
    if target == "pure":
        os.environ["POLICYD_CLIENT_PURE"] = "1"
    import policyd_client

    implementation = getattr(policyd_client, "IMPLEMENTATION", "python")
    if target == "ext" and implementation != "c":
        raise Unavailable("not built (policyd_client.IMPLEMENTATION is "
                          f"{implementation!r}, not 'c')")
    if target == "pure" and implementation == "c":
        raise Unavailable(f"POLICYD_CLIENT_PURE=1 still gives {implementation!r}")
    sock = ARGS.socket

    def factory():
        return policyd_client.Client(sock).get_org_policy

    def once(org):
        with policyd_client.Client(sock) as c:
            c.get_org_policy(org)

    return factory, once, implementation


def percentile(sorted_ns, q):
    return sorted_ns[min(len(sorted_ns) - 1, int(len(sorted_ns) * q))] / 1000.0


def run_blocking(target, orgs, mode, callers, seconds):
    factory, once, implementation = load_client(target)
    n = callers if mode == "concurrent" else 1
    latencies = [[] for _ in range(n)]
    ended = [0] * n
    errors = [None] * n
    barrier = threading.Barrier(n + 1)
    start = [0]

    def caller(i):
        rng = random.Random(i + 1)
        keys = [rng.choice(orgs) for _ in range(4096)]
        try:
            lookup = once if mode == "connect" else factory()
            for k in range(ARGS.warmup):
                lookup(keys[k % len(keys)])
        except Exception as e:  # reported, not raised: the bench prints it in the row
            errors[i] = f"{type(e).__name__}: {e}"
        barrier.wait()
        barrier.wait()  # the main thread has set start[0]
        if errors[i] is not None:
            return
        deadline = start[0] + int(seconds * 1e9)
        lat = latencies[i]
        k = 0
        clock = time.perf_counter_ns
        try:
            while True:
                t0 = clock()
                lookup(keys[k & 4095])
                t1 = clock()
                lat.append(t1 - t0)
                k += 1
                if t1 >= deadline:
                    break
        except Exception as e:
            errors[i] = f"{type(e).__name__}: {e}"
        ended[i] = time.perf_counter_ns()

    threads = [threading.Thread(target=caller, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    barrier.wait()
    cpu = time.process_time_ns()
    start[0] = time.perf_counter_ns()
    barrier.wait()
    for t in threads:
        t.join()
    cpu = time.process_time_ns() - cpu
    return summarize(latencies, errors, start[0], max(ended), cpu, implementation)


async def aio_connect(aio, sock):
    """policyd_client.aio's client, whichever way the module opens one: aio.connect(path),
    await aio.Client.connect(path), or aio.Client(path) with connect() or async with."""
    if hasattr(aio, "connect"):
        return await aio.connect(sock)
    if isinstance(inspect.getattr_static(aio.Client, "connect", None), (classmethod, staticmethod)):
        return await aio.Client.connect(sock)
    client = aio.Client(sock)
    if hasattr(client, "connect"):
        await client.connect()
    elif hasattr(client, "__aenter__"):
        await client.__aenter__()
    return client


async def aio_close(client):
    close = getattr(client, "close", None)
    if close is not None:
        result = close()
        if asyncio.iscoroutine(result):
            await result


async def aio_lookups(target):
    """(lookup coroutine function, close coroutine function, implementation name) for an
    asyncio target, on one client."""
    if target == "redis-aio":
        try:
            import redis
            import redis.asyncio as redis_aio
        except ImportError as e:
            raise Unavailable(f"redis.asyncio does not import ({e.name}; Debian: python3-redis)")
        r = redis_aio.Redis(unix_socket_path=ARGS.socket)

        async def lookup(org):
            if await r.get(org) is None:
                raise RuntimeError(f"redis has no value for {org}")

        async def close():
            await r.close()

        return lookup, close, "redis.asyncio " + redis.__version__
    os.environ.pop("POLICYD_CLIENT_PURE", None)
    try:
        from policyd_client import aio
    except ImportError as e:  # the message without the package's path on this machine
        raise Unavailable(f"policyd_client.aio does not import ({str(e).split(' (/')[0]})")
    import policyd_client

    client = await aio_connect(aio, ARGS.socket)

    async def close():
        await aio_close(client)

    implementation = "asyncio/" + getattr(policyd_client, "IMPLEMENTATION", "python")
    return client.get_org_policy, close, implementation


async def run_aio(target, orgs, mode, callers, seconds):
    if mode == "connect":
        raise Unavailable("connection per lookup is measured with the blocking client")
    lookup, close, implementation = await aio_lookups(target)
    n = callers if mode == "concurrent" else 1
    latencies = [[] for _ in range(n)]
    errors = [None] * n
    ended = [0] * n
    rng = random.Random(1)
    keys = [rng.choice(orgs) for _ in range(4096)]
    for k in range(ARGS.warmup):
        await lookup(keys[k % len(keys)])
    cpu = time.process_time_ns()
    start = time.perf_counter_ns()
    deadline = start + int(seconds * 1e9)

    async def caller(i):
        lat = latencies[i]
        k = i * 256
        clock = time.perf_counter_ns
        try:
            while True:
                t0 = clock()
                await lookup(keys[k & 4095])
                t1 = clock()
                lat.append(t1 - t0)
                k += 1
                if t1 >= deadline:
                    break
        except Exception as e:
            errors[i] = f"{type(e).__name__}: {e}"
        ended[i] = time.perf_counter_ns()

    await asyncio.gather(*(caller(i) for i in range(n)))
    cpu = time.process_time_ns() - cpu
    await close()
    return summarize(latencies, errors, start, max(ended), cpu, implementation)


def summarize(latencies, errors, start, end, cpu_ns, implementation):
    """The JSON fields of a run; cpu_ns is the process's CPU time (all threads) meanwhile."""
    all_ns = sorted(ns for lat in latencies for ns in lat)
    failed = [e for e in errors if e is not None]
    out = {
        "lookups": len(all_ns),
        "errors": len(failed),
        "seconds": (end - start) / 1e9,
        "implementation": implementation,
    }
    if failed:
        out["error"] = failed[0]
    if all_ns:
        out["p50_us"] = percentile(all_ns, 0.50)
        out["p99_us"] = percentile(all_ns, 0.99)
        out["rate"] = len(all_ns) / out["seconds"] if out["seconds"] > 0 else 0.0
        out["client_cpu_us"] = cpu_ns / 1000.0 / len(all_ns)
    return out


def main(argv):
    global ARGS
    ARGS = parse_args(argv)
    report = {"row": ROWS[ARGS.target], "mode": ARGS.mode,
              "callers": ARGS.callers if ARGS.mode == "concurrent" else 1}
    try:
        with open(ARGS.orgs) as f:
            orgs = [line.strip() for line in f if line.strip()]
        if not orgs:
            raise Unavailable(f"{ARGS.orgs} holds no org ids")
        if ARGS.target in ("aio", "redis-aio"):
            report.update(
                asyncio.run(run_aio(ARGS.target, orgs, ARGS.mode, ARGS.callers, ARGS.seconds))
            )
        else:
            report.update(run_blocking(ARGS.target, orgs, ARGS.mode, ARGS.callers, ARGS.seconds))
    except Unavailable as e:
        report["unavailable"] = str(e)
    print(json.dumps(report), flush=True)
    return 0


ARGS = None

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
