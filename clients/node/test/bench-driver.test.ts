// Smoke test of the benchmark's Node driver (clients/node/bench/driver.ts, run by policyd_bench's
// clients section): each mode for a fraction of a second against the real policyd serving the
// example snapshot, and ioredis against redis-server when it is installed, so the driver does not
// rot. The driver is compiled with the tests (tsconfig.json includes bench/).
import * as assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';

import { Daemon, snapshotPath } from './fixtures';

const DRIVER = path.join(__dirname, '..', 'bench', 'driver.js');
const ORGS = ['300000000000000042', '300000000000000107', '300000000000000233'];

type Report = Record<string, unknown>;

function runDriver(target: string, socket: string, orgs: string, mode: string,
                   callers = 1): Report {
  const p = spawnSync(process.execPath, [
    DRIVER, '--target', target, '--socket', socket, '--orgs', orgs, '--mode', mode,
    '--callers', String(callers), '--seconds', '0.1', '--warmup', '5',
  ], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(p.status, 0, `driver exited ${p.status}: ${p.stderr}`);
  const lines = p.stdout.split('\n').filter((l) => l.length > 0);
  assert.equal(lines.length, 1, `driver printed ${p.stdout}`);
  return JSON.parse(lines[0]) as Report;
}

function assertMeasured(r: Report, row: string, mode: string, callers: number): void {
  assert.deepEqual([r.row, r.mode, r.callers], [row, mode, callers]);
  assert.equal(r.unavailable, undefined);
  assert.equal(r.errors, 0, String(r.error));
  assert.ok((r.lookups as number) > 0);
  assert.ok((r.rate as number) > 0);
  assert.ok((r.p50_us as number) > 0);
  assert.ok((r.p99_us as number) >= (r.p50_us as number));
  assert.ok((r.client_cpu_us as number) > 0);
}

// redis-server on a unix socket in `dir`, ready once it answers PING (30 s at most).
async function startRedis(dir: string): Promise<{ socket: string; stop: () => void }> {
  const socket = path.join(dir, 'redis.sock');
  const child = spawn('redis-server', ['--port', '0', '--unixsocket', socket, '--save', '',
                                       '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' });
  const stop = () => child.kill('SIGTERM');
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`redis-server exited with ${child.exitCode}`);
    const pong = await new Promise<boolean>((resolve) => {
      const s = net.createConnection(socket);
      s.once('error', () => resolve(false));
      s.once('connect', () => s.write('PING\r\n'));
      s.once('data', (d) => {
        s.destroy();
        resolve(d.toString().startsWith('+PONG'));
      });
    });
    if (pong) return { socket, stop };
    await new Promise((r) => setTimeout(r, 20));
  }
  stop();
  throw new Error('redis-server not ready within 30 s');
}

function redisSet(socket: string, entries: [string, string][]): Promise<void> {
  const command = entries.map(([k, v]) =>
    `*3\r\n$3\r\nSET\r\n$${k.length}\r\n${k}\r\n$${v.length}\r\n${v}\r\n`).join('');
  return new Promise((resolve, reject) => {
    const s = net.createConnection(socket, () => s.write(command));
    let replies = '';
    s.on('data', (d) => {
      replies += d.toString();
      if (replies.split('\r\n').length > entries.length) {
        s.destroy();
        resolve();
      }
    });
    s.once('error', reject);
  });
}

describe('bench driver against policyd', () => {
  let daemon: Daemon;
  let dir: string;
  let orgs: string;

  before(async () => {
    daemon = await Daemon.start(snapshotPath());
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'policyd-driver-'));
    orgs = path.join(dir, 'orgs.txt');
    fs.writeFileSync(orgs, `${ORGS.join('\n')}\n`);
  });
  after(async () => {
    await daemon?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  for (const [mode, callers] of [['sequential', 1], ['concurrent', 64], ['connect', 1]] as const) {
    it(`measures PolicydClient: ${mode}`, () => {
      const r = runDriver('policyd', daemon.socket, orgs, mode, callers);
      assertMeasured(r, 'Node (PolicydClient)', mode, callers);
    });
  }

  it('reports a daemon that is not there as an error in its row', () => {
    const r = runDriver('policyd', path.join(dir, 'nothing.sock'), orgs, 'sequential');
    assert.deepEqual([r.errors, r.lookups, r.p50_us], [1, 0, undefined]);
    assert.match(String(r.error), /cannot connect to policyd/);
  });

  it('measures ioredis against redis-server', async (t) => {
    if (spawnSync('redis-server', ['--version']).status !== 0) {
      t.skip('redis-server is not installed');
      return;
    }
    const redis = await startRedis(dir);
    try {
      await redisSet(redis.socket, ORGS.map((o) => [o, 'x'.repeat(200)]));
      for (const [mode, callers] of [['sequential', 1], ['concurrent', 16], ['connect', 1]]) {
        const r = runDriver('ioredis', redis.socket, orgs, mode as string, callers as number);
        assertMeasured(r, 'Node ioredis', mode as string, callers as number);
      }
    } finally {
      redis.stop();
    }
  });
});
