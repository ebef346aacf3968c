// StatusReply.fleet as a publisher or follower sends it: the real ones need NATS, so the frames
// are built with the generated code as the daemon's encoder lays them out, and served by a fake
// server to the real client.
import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import * as flatbuffers from 'flatbuffers';

import {
  Code, FleetConnection, FleetRole, PolicydClient, PolicydError, ServerStatus,
} from '../src';
import { FleetStatus as FbFleetStatus } from '../src/generated/policyd/fb/fleet-status';
import { Response } from '../src/generated/policyd/fb/response';
import { StatusReply } from '../src/generated/policyd/fb/status-reply';
import { FakeServer, FleetFields, statusFrame } from './fixtures';

const FOLLOWER: FleetFields = {
  role: FleetRole.FOLLOWER,
  servers: 'nats://10.0.0.1:4222,nats://10.0.0.2:4222',
  bucket: 'policyd',
  connection: FleetConnection.RECONNECTING,
  cursor: 1234567890123n,
  caughtUp: true,
  counters: { valuesApplied: 11n, valuesSkipped: 12n, valuesRefused: 13n, coldStarts: 14n },
  publishers: [
    { id: 'pub-a', lastSync: [1765000195n, 500000000], source: 'iam.example.com' },
    { id: 'pub-b', lastSync: null, source: '/etc/policyd/snapshot.json' },
  ],
};

/** The status the real client decodes from `frame(id)` served by a fake server. */
async function statusFrom(frame: (id: bigint) => Buffer): Promise<ServerStatus> {
  const server = await FakeServer.start(frame);
  try {
    const client = await PolicydClient.connect(server.socket);
    try {
      return await client.getStatus();
    } finally {
      client.close();
    }
  } finally {
    await server.stop();
  }
}

describe('fleet status', () => {
  it('decodes a follower', async () => {
    const { fleet } = await statusFrom((id) => statusFrame(id, FOLLOWER));
    assert.ok(fleet !== null);
    assert.equal(fleet.role, FleetRole.FOLLOWER);
    assert.equal(fleet.roleName, 'FOLLOWER');
    assert.equal(fleet.servers, 'nats://10.0.0.1:4222,nats://10.0.0.2:4222');
    assert.equal(fleet.bucket, 'policyd');
    assert.equal(fleet.connection, FleetConnection.RECONNECTING);
    assert.equal(fleet.connectionName, 'RECONNECTING');
    assert.equal(fleet.cursor, 1234567890123n);
    assert.equal(fleet.caughtUp, true);
    assert.deepEqual(fleet.publishers, [
      { id: 'pub-a', lastSync: { seconds: 1765000195, nanos: 500000000 },
        source: 'iam.example.com' },
      { id: 'pub-b', lastSync: null, source: '/etc/policyd/snapshot.json' },
    ]);
    assert.deepEqual(
        [fleet.valuesApplied, fleet.valuesSkipped, fleet.valuesRefused, fleet.coldStarts,
         fleet.writes, fleet.writeConflicts, fleet.writeErrors, fleet.resyncPasses],
        [11, 12, 13, 14, 0, 0, 0, 0]);
  });

  it('decodes a publisher', async () => {
    const { fleet } = await statusFrom((id) => statusFrame(id, {
      role: FleetRole.PUBLISHER, bucket: 'prod', connection: FleetConnection.CONNECTED,
      cursor: 77n,
      counters: { writes: 21n, writeConflicts: 22n, writeErrors: 23n, resyncPasses: 24n },
      publishers: [{ id: 'host-1', lastSync: [1765000100n, 0], source: 'iam.example.com' }],
    }));
    assert.ok(fleet !== null);
    assert.equal(fleet.roleName, 'PUBLISHER');
    assert.equal(fleet.connectionName, 'CONNECTED');
    assert.deepEqual([fleet.cursor, fleet.writes, fleet.writeConflicts, fleet.writeErrors,
                      fleet.resyncPasses], [77n, 21, 22, 23, 24]);
    assert.equal(fleet.publishers.length, 1);
  });

  it('is null out of fleet mode', async () => {
    const status = await statusFrom((id) => statusFrame(id, null));
    assert.equal(status.fleet, null);
    assert.equal(status.orgCount, 3);
  });

  it("keeps a newer daemon's role and connection numbers", async () => {
    const { fleet } = await statusFrom((id) => statusFrame(id, { role: 9, connection: 7 }));
    assert.ok(fleet !== null);
    assert.equal(fleet.role, 9);
    assert.equal(fleet.roleName, 'UNKNOWN');
    assert.equal(fleet.connectionName, 'UNKNOWN');
  });

  const hostile: [string, FleetFields][] = [
    ['no role', { bucket: 'b' }],
    ['a publisher without an id',
     { ...FOLLOWER, publishers: [{ id: null, lastSync: [1n, 0], source: 'x' }] }],
    ['a publisher with an empty id',
     { ...FOLLOWER, publishers: [{ id: '', lastSync: [1n, 0], source: 'x' }] }],
    ['nanos out of range',
     { ...FOLLOWER, publishers: [{ id: 'p', lastSync: [1n, 1000000000], source: 'x' }] }],
  ];
  for (const [name, fields] of hostile) {
    it(`refuses a fleet table with ${name} as INTERNAL`, async () => {
      await assert.rejects(statusFrom((id) => statusFrame(id, fields)), (e: unknown) => {
        assert.ok(e instanceof PolicydError, `expected a PolicydError, got ${e}`);
        assert.equal(e.code, Code.INTERNAL, e.message);
        return true;
      });
    });
  }

  for (const length of [0x7fffffff, 0x80000000]) {  // the runtime reads the second as negative
    it(`refuses a publishers vector claiming ${length} entries`, async () => {
      await assert.rejects(statusFrom((id) => {
        const frame = statusFrame(id, { ...FOLLOWER, publishers: [
          { id: 'only', lastSync: null, source: 'x' }] });
        frame.writeUInt32LE(length, findVectorLength(frame));
        return frame;
      }), (e: unknown) => e instanceof PolicydError && e.code === Code.INTERNAL);
    });
  }
});

/** Where the publishers vector's length sits in a statusFrame (frame header included). */
function findVectorLength(frame: Buffer): number {
  const bb = new flatbuffers.ByteBuffer(new Uint8Array(frame.subarray(4)));
  const reply = Response.getRootAsResponse(bb).body(new StatusReply()) as StatusReply;
  const fleet = reply.fleet(new FbFleetStatus());
  assert.ok(fleet !== null);
  const field = bb.__offset(fleet.bb_pos, 16); // publishers: the 7th field
  return 4 + bb.__vector(fleet.bb_pos + field) - 4;
}
