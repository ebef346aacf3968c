// Test fixtures: the real policyd on a temp socket, and fake servers for transport faults.
//
// POLICYD_BIN / POLICYCTL_BIN name the binaries (ctest sets them; default: build/ of the repo,
// found from the working directory clients/node), POLICYD_SNAPSHOT the snapshot to serve
// (default: examples/snapshot.json).
import * as assert from 'assert/strict';
import { ChildProcess, spawn, spawnSync } from 'child_process';
import * as flatbuffers from 'flatbuffers';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';

import { Code, PolicydClient, PolicydError } from '../src';
import { Error as FbError } from '../src/generated/policyd/fb/error';
import { FleetPublisher } from '../src/generated/policyd/fb/fleet-publisher';
import { FleetStatus } from '../src/generated/policyd/fb/fleet-status';
import { Health } from '../src/generated/policyd/fb/health';
import { Request } from '../src/generated/policyd/fb/request';
import { Response } from '../src/generated/policyd/fb/response';
import { ResponseBody } from '../src/generated/policyd/fb/response-body';
import { StatusReply } from '../src/generated/policyd/fb/status-reply';
import { Timestamp } from '../src/generated/policyd/fb/timestamp';

/** The repository (the tests run in clients/node). */
export const repo = path.resolve(process.cwd(), '..', '..');

function binary(env: string, fallback: string): string {
  const file = process.env[env] || path.join(repo, 'build', fallback);
  fs.accessSync(file, fs.constants.X_OK);
  return file;
}

export function snapshotPath(): string {
  return process.env.POLICYD_SNAPSHOT || path.join(repo, 'examples', 'snapshot.json');
}

export class Daemon {
  readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), 'policyd-node-'));
  readonly socket = path.join(this.dir, 'policyd.sock');
  /** The --http-socket (the upstream's REST and Connect reads), when started with one. */
  readonly httpSocket: string | null;
  private readonly process: ChildProcess;
  private log = '';

  private constructor(snapshot: string, withHttp: boolean) {
    this.httpSocket = withHttp ? path.join(this.dir, 'http.sock') : null;
    const http = this.httpSocket === null ? [] : ['--http-socket', this.httpSocket];
    this.process = spawn(binary('POLICYD_BIN', 'src/daemon/policyd'), [
      '--socket', this.socket, '--data-dir', path.join(this.dir, 'data'), '--snapshot', snapshot,
      ...http,
    ], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.process.stdout!.on('data', (d: Buffer) => { this.log += d.toString(); });
    this.process.stderr!.on('data', (d: Buffer) => { this.log += d.toString(); });
  }

  /**
   * Starts policyd and waits until it answers a status request (30 s at most); with `withHttp`
   * also on an --http-socket, which policyd binds before it serves the lookup socket.
   */
  static async start(snapshot: string, withHttp = false): Promise<Daemon> {
    const daemon = new Daemon(snapshot, withHttp);
    const deadline = Date.now() + 30_000;
    let last: unknown;
    while (Date.now() < deadline) {
      if (daemon.process.exitCode !== null) {
        throw new Error(`policyd exited with ${daemon.process.exitCode}: ${daemon.log}`);
      }
      try {
        const client = await PolicydClient.connect(daemon.socket, { timeoutMs: 1000 });
        await client.getStatus();
        client.close();
        return daemon;
      } catch (e) {
        last = e;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    await daemon.stop();
    throw new Error(`policyd not ready within 30 s (${last}): ${daemon.log}`);
  }

  async stop(): Promise<void> {
    if (this.process.exitCode === null && this.process.signalCode === null) {
      const exited = new Promise((r) => this.process.once('exit', r));
      this.process.kill('SIGTERM');
      const timer = setTimeout(() => this.process.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/** `policyctl --socket SOCKET ARGS...`: exit status and stdout bytes. */
export function policyctl(socket: string, ...args: string[]):
    { status: number | null; stdout: Buffer; stderr: string } {
  const r = spawnSync(binary('POLICYCTL_BIN', 'src/cli/policyctl'), ['--socket', socket, ...args],
                      { timeout: 30_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr.toString() };
}

/** A framed Response carrying an error, as the daemon would write it. */
export function errorFrame(id: bigint, code: number, message: string): Buffer {
  const builder = new flatbuffers.Builder(64);
  const error = FbError.createError(builder, code, builder.createString(message));
  Response.startResponse(builder);
  Response.addId(builder, id);
  Response.addError(builder, error);
  builder.finish(Response.endResponse(builder), 'PDRS');
  const payload = builder.asUint8Array();
  const out = Buffer.alloc(4 + payload.length);
  out.writeUInt32LE(payload.length, 0);
  out.set(payload, 4);
  return out;
}

/** The FleetStatus of statusFrame: scalars as on the wire, strings, and the publishers. */
export interface FleetFields {
  role?: number;
  servers?: string;
  bucket?: string;
  connection?: number;
  cursor?: bigint;
  caughtUp?: boolean;
  counters?: Partial<Record<'valuesApplied' | 'valuesSkipped' | 'valuesRefused' | 'writes' |
                            'writeConflicts' | 'writeErrors' | 'coldStarts' | 'resyncPasses',
                            bigint>>;
  // id null: left out; lastSync null: never.
  publishers?: { id: string | null; lastSync: [bigint, number] | null; source: string }[];
}

/** A framed StatusReply as a fleet-mode daemon would write it (fleet null: not in fleet mode). */
export function statusFrame(id: bigint, fleet: FleetFields | null): Buffer {
  const builder = new flatbuffers.Builder(256);
  let fleetOffset = 0;
  if (fleet !== null) {
    const publishers = (fleet.publishers ?? []).map((p) => {
      const pubId = p.id === null ? 0 : builder.createString(p.id);
      const source = builder.createString(p.source);
      FleetPublisher.startFleetPublisher(builder);
      if (pubId !== 0) FleetPublisher.addId(builder, pubId);
      if (p.lastSync !== null) {
        FleetPublisher.addLastSync(builder, Timestamp.createTimestamp(builder, ...p.lastSync));
      }
      FleetPublisher.addSource(builder, source);
      return FleetPublisher.endFleetPublisher(builder);
    });
    const vector = FleetStatus.createPublishersVector(builder, publishers);
    const servers = fleet.servers === undefined ? 0 : builder.createString(fleet.servers);
    const bucket = fleet.bucket === undefined ? 0 : builder.createString(fleet.bucket);
    const c = fleet.counters ?? {};
    fleetOffset = FleetStatus.createFleetStatus(
        builder, fleet.role ?? 0, servers, bucket, fleet.connection ?? 0, fleet.cursor ?? 0n,
        fleet.caughtUp ?? false, vector, c.valuesApplied ?? 0n, c.valuesSkipped ?? 0n,
        c.valuesRefused ?? 0n, c.writes ?? 0n, c.writeConflicts ?? 0n, c.writeErrors ?? 0n,
        c.coldStarts ?? 0n, c.resyncPasses ?? 0n);
  }
  const version = builder.createString('9.9.9');
  StatusReply.startStatusReply(builder);
  StatusReply.addOrgCount(builder, 3n);
  StatusReply.addHasInstance(builder, true);
  StatusReply.addHealth(builder, Health.SERVING);
  StatusReply.addVersion(builder, version);
  StatusReply.addNow(builder, Timestamp.createTimestamp(builder, 1765000200n, 0));
  if (fleetOffset !== 0) StatusReply.addFleet(builder, fleetOffset);
  const body = StatusReply.endStatusReply(builder);
  Response.startResponse(builder);
  Response.addId(builder, id);
  Response.addBodyType(builder, ResponseBody.StatusReply);
  Response.addBody(builder, body);
  builder.finish(Response.endResponse(builder), 'PDRS');
  const payload = builder.asUint8Array();
  const out = Buffer.alloc(4 + payload.length);
  out.writeUInt32LE(payload.length, 0);
  out.set(payload, 4);
  return out;
}

/**
 * A unix socket server that reads request frames and answers each with `reply(requestId)`
 * (nothing when it returns null; the connection is closed after it when `close`).
 */
export class FakeServer {
  readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), 'policyd-fake-'));
  readonly socket = path.join(this.dir, 'fake.sock');
  private readonly server: net.Server;
  private readonly connections = new Set<net.Socket>();

  private constructor(reply: (id: bigint) => Buffer | null, close: boolean) {
    this.server = net.createServer((conn) => {
      this.connections.add(conn);
      conn.on('close', () => this.connections.delete(conn));
      conn.on('error', () => {});
      let input = Buffer.alloc(0);
      conn.on('data', (chunk: Buffer) => {
        input = Buffer.concat([input, chunk]);
        while (input.length >= 4 && input.length >= 4 + input.readUInt32LE(0)) {
          const frame = input.subarray(4, 4 + input.readUInt32LE(0));
          input = input.subarray(4 + frame.length);
          const id = Request.getRootAsRequest(new flatbuffers.ByteBuffer(frame)).id();
          const answer = reply(id);
          if (answer !== null) conn.write(answer);
          if (close) conn.end();
        }
      });
    });
  }

  static async start(reply: (id: bigint) => Buffer | null, close = false): Promise<FakeServer> {
    const fake = new FakeServer(reply, close);
    await new Promise<void>((resolve) => fake.server.listen(fake.socket, resolve));
    return fake;
  }

  async stop(): Promise<void> {
    for (const conn of this.connections) conn.destroy();
    await new Promise((r) => this.server.close(r));
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A predicate for assert.rejects: a PolicydError with `code`. */
export function rejectsWith(code: Code): (e: unknown) => boolean {
  return (e: unknown) => {
    assert.ok(e instanceof PolicydError, `expected a PolicydError, got ${e}`);
    assert.equal(e.code, code, e.message);
    return true;
  };
}

/** Whether `condition` holds within `ms` milliseconds, checked on every turn of the event loop. */
export async function eventually(condition: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setImmediate(r));
  }
  return true;
}

/** Records every frame the client writes (the Buffer, and a copy of it at the time). */
export function spyOnWrites(client: PolicydClient): { frame: Buffer; copy: Buffer }[] {
  const writes: { frame: Buffer; copy: Buffer }[] = [];
  const socket = (client as unknown as { socket: { write: (...a: unknown[]) => boolean } }).socket;
  const write = socket.write.bind(socket);
  socket.write = (...args: unknown[]) => {
    writes.push({ frame: args[0] as Buffer, copy: Buffer.from(args[0] as Buffer) });
    return write(...args);
  };
  return writes;
}

