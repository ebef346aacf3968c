// One measurement of a Node client for policyd_bench's "clients" section (bench/clients_bench.h).
//
//   node driver.js --target policyd|ioredis --socket PATH --orgs FILE
//                  --mode sequential|concurrent|connect [--callers N] [--seconds S]
//                  [--warmup 200]
//
// Looks up random org ids of FILE (one per line) for S seconds after a warm-up (--warmup lookups)
// and prints one JSON line: {row, mode, callers, lookups, errors, seconds, p50_us, p99_us, rate,
// client_cpu_us, implementation}; latencies per call from process.hrtime.bigint() around the
// awaited call, rate = lookups / seconds from the start to the last caller's end, client_cpu_us =
// process.cpuUsage() (all threads) during the run per lookup. When the client cannot run here it
// prints {row, mode, callers, unavailable: why}; when it fails (e.g. nothing listens on the
// socket) {row, mode, callers, lookups: 0, errors: 1, error}; both exit 0.
//
// Targets: `policyd` is PolicydClient.getOrgPolicy (answer verified and decoded); `ioredis` is
// ioredis (pinned in package-lock.json) GET of the org id, whose value the bench's Redis holds as
// policyd's answer bytes. Modes:
//   sequential  one connection, one call at a time (await each)
//   concurrent  N callers on ONE connection: N async loops, each awaiting its own call, so N
//               calls are always in flight (pipelined; policyd matches answers by request id,
//               ioredis by order). Node runs JavaScript on one thread: more connections would not
//               add a CPU.
//   connect     one call at a time, each on a new connection (connect, ask, close), as scripts do
import * as fs from 'fs';

import { PolicydClient } from '../src/index';

const ROWS: Record<string, string> = { policyd: 'Node (PolicydClient)', ioredis: 'Node ioredis' };

interface Args {
  target: string;
  socket: string;
  orgs: string;
  mode: string;
  callers: number;
  seconds: number;
  warmup: number;
}

class Unavailable extends Error {}

// A connection's lookup; `close` ends the connection.
interface Conn {
  lookup(org: string): Promise<void>;
  close(): void;
}

interface Target {
  open(): Promise<Conn>;
  implementation: string;
}

function parseArgs(argv: string[]): Args {
  const a: Args = {
    target: '', socket: '', orgs: '', mode: '', callers: 1, seconds: 2, warmup: 200,
  };
  for (let i = 0; i + 1 < argv.length; i += 2) {
    const [flag, value] = [argv[i], argv[i + 1]];
    if (flag === '--target') a.target = value;
    else if (flag === '--socket') a.socket = value;
    else if (flag === '--orgs') a.orgs = value;
    else if (flag === '--mode') a.mode = value;
    else if (flag === '--callers') a.callers = Number(value);
    else if (flag === '--seconds') a.seconds = Number(value);
    else if (flag === '--warmup') a.warmup = Number(value);
    else throw new Error(`unknown flag ${flag}`);
  }
  if (!(a.target in ROWS) || !a.socket || !a.orgs ||
      !['sequential', 'concurrent', 'connect'].includes(a.mode) ||
      !(Number.isInteger(a.callers) && a.callers >= 1) || !(a.seconds > 0) ||
      !(Number.isInteger(a.warmup) && a.warmup >= 0)) {
    throw new Error('usage: driver.js --target policyd|ioredis --socket PATH --orgs FILE ' +
                    '--mode sequential|concurrent|connect [--callers N] [--seconds S] [--warmup N]');
  }
  return a;
}

function policydTarget(socket: string): Target {
  return {
    implementation: `node ${process.version}`,
    async open() {
      const client = await PolicydClient.connect(socket);
      return {
        async lookup(org: string) {
          await client.getOrgPolicy(org);
        },
        close: () => client.close(),
      };
    },
  };
}

function ioredisTarget(socket: string): Target {
  let Redis: any;  // eslint-disable-line @typescript-eslint/no-explicit-any
  let version = '?';
  try {
    Redis = require('ioredis');  // not a dependency of the client: loaded only here
    version = require('ioredis/package.json').version;
  } catch (e) {
    throw new Unavailable(`ioredis not installed (npm ci in clients/node): ${(e as Error).message}`);
  }
  return {
    implementation: `ioredis ${version}`,
    async open() {
      // Defaults, as a service would use it (the ready check is one INFO round trip on connect).
      const r = new Redis({ path: socket, lazyConnect: true, maxRetriesPerRequest: 0 });
      await r.connect();
      return {
        async lookup(org: string) {
          if ((await r.getBuffer(org)) === null) throw new Error(`redis has no value for ${org}`);
        },
        close: () => r.disconnect(),
      };
    },
  };
}

function randomKeys(orgs: string[], seed: number): string[] {
  let s = seed;
  const keys: string[] = [];
  for (let i = 0; i < 4096; ++i) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    keys.push(orgs[s % orgs.length]);
  }
  return keys;
}

async function measure(a: Args, target: Target, orgs: string[]): Promise<Record<string, unknown>> {
  const n = a.mode === 'concurrent' ? a.callers : 1;
  const keys = randomKeys(orgs, 1);
  const shared = a.mode === 'connect' ? null : await target.open();
  const lookupOnce = async (org: string) => {
    if (shared !== null) return shared.lookup(org);
    const c = await target.open();
    try {
      await c.lookup(org);
    } finally {
      c.close();
    }
  };
  for (let k = 0; k < a.warmup; ++k) await lookupOnce(keys[k & 4095]);
  const latencies: bigint[][] = [];
  const errors: string[] = [];
  const ended: bigint[] = [];
  const cpu = process.cpuUsage();
  const start = process.hrtime.bigint();
  const deadline = start + BigInt(Math.round(a.seconds * 1e9));
  const caller = async (i: number) => {
    const lat: bigint[] = [];
    latencies.push(lat);
    let k = i * 256;
    try {
      for (;;) {
        const t0 = process.hrtime.bigint();
        await lookupOnce(keys[k++ & 4095]);
        const t1 = process.hrtime.bigint();
        lat.push(t1 - t0);
        if (t1 >= deadline) break;
      }
    } catch (e) {
      errors.push(e instanceof Error ? e.message : String(e));
    }
    ended.push(process.hrtime.bigint());
  };
  await Promise.all(Array.from({ length: n }, (_, i) => caller(i)));
  const used = process.cpuUsage(cpu);
  shared?.close();
  const end = ended.reduce((x, y) => (y > x ? y : x), start);
  return summarize(latencies, errors, Number(end - start) / 1e9, used.user + used.system,
                   target.implementation);
}

// cpuUs: the process's CPU time (all threads) during the run.
function summarize(latencies: bigint[][], errors: string[], seconds: number, cpuUs: number,
                   implementation: string): Record<string, unknown> {
  const all = latencies.flat().sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));
  const out: Record<string, unknown> = {
    lookups: all.length, errors: errors.length, seconds, implementation,
  };
  if (errors.length > 0) out.error = errors[0];
  if (all.length > 0) {
    const at = (q: number) => Number(all[Math.min(all.length - 1, Math.floor(all.length * q))]) / 1e3;
    out.p50_us = at(0.5);
    out.p99_us = at(0.99);
    out.rate = seconds > 0 ? all.length / seconds : 0;
    out.client_cpu_us = cpuUs / all.length;
  }
  return out;
}

async function main(): Promise<void> {
  const a = parseArgs(process.argv.slice(2));
  const report: Record<string, unknown> = {
    row: ROWS[a.target], mode: a.mode, callers: a.mode === 'concurrent' ? a.callers : 1,
  };
  try {
    const orgs = fs.readFileSync(a.orgs, 'utf8').split('\n').map((l) => l.trim())
                     .filter((l) => l.length > 0);
    if (orgs.length === 0) throw new Unavailable(`${a.orgs} holds no org ids`);
    const target = a.target === 'policyd' ? policydTarget(a.socket) : ioredisTarget(a.socket);
    Object.assign(report, await measure(a, target, orgs));
  } catch (e) {
    if (e instanceof Unavailable) {
      report.unavailable = e.message;
    } else {  // e.g. no daemon on the socket: reported in the row, as bench_driver.py does
      Object.assign(report, { lookups: 0, errors: 1, error: e instanceof Error ? e.message : e });
    }
  }
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

main().catch((e) => {
  process.stderr.write(`driver: ${e instanceof Error ? e.stack : e}\n`);
  process.exit(1);
});
