// The Node client against the real policyd (serving a snapshot) and against fake servers.
// Expected policies come from the snapshot file itself: an org's own policy, or the instance
// default with isDefault for an org without one or unknown to the daemon.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { after, before, describe, it } from 'node:test';

import {
  BatchEntry, Code, formatTimestamp, Health, PolicyAnswer, PolicydClient, PolicydError,
  upstreamJson,
} from '../src';
import { Daemon, errorFrame, FakeServer, policyctl, snapshotPath } from './fixtures';

const UNKNOWN_ORG = 'no-such-org';

interface SnapshotOrg { id: string; policy?: Record<string, unknown> }
const snapshot = JSON.parse(fs.readFileSync(snapshotPath(), 'utf8')) as {
  instance: { id: string; policy: Record<string, unknown> };
  orgs: SnapshotOrg[];
};
const own = snapshot.orgs.filter((o) => o.policy !== undefined).map((o) => o.id);
const inheriting = snapshot.orgs.filter((o) => o.policy === undefined).map((o) => o.id);

/** The upstream's JSON object of the org's effective policy (null org: the default). */
function expectedPolicy(orgId: string | null): Record<string, unknown> {
  const org = snapshot.orgs.find((o) => o.id === orgId);
  return org?.policy ?? { ...snapshot.instance.policy, isDefault: true };
}

function assertPolicydError(code: Code): (e: unknown) => boolean {
  return (e: unknown) => {
    assert.ok(e instanceof PolicydError, `expected a PolicydError, got ${e}`);
    assert.equal(e.code, code, e.message);
    return true;
  };
}

describe('against policyd', () => {
  let daemon: Daemon;
  let client: PolicydClient;

  before(async () => {
    assert.ok(own.length > 0 && inheriting.length > 0, 'the snapshot needs both kinds of org');
    daemon = await Daemon.start(snapshotPath());
    client = await PolicydClient.connect(daemon.socket, { timeoutMs: 10_000 });
  });
  after(async () => {
    client?.close();
    await daemon?.stop();
  });

  it('answers an org with its own policy', async () => {
    const answer = await client.getOrgPolicy(own[0]);
    const expected = expectedPolicy(own[0]);
    const details = expected.details as Record<string, string>;
    assert.equal(answer.orgId, own[0]);
    assert.equal(answer.orgKnown, true);
    assert.equal(answer.stale, false);
    assert.equal(answer.policy.isDefault, false);
    assert.equal(answer.policy.userLoginMustBeDomain, expected.userLoginMustBeDomain ?? false);
    assert.equal(answer.policy.validateOrgDomains, expected.validateOrgDomains ?? false);
    assert.equal(answer.policy.smtpSenderAddressMatchesInstanceDomain,
                 expected.smtpSenderAddressMatchesInstanceDomain ?? false);
    assert.equal(answer.policy.details.sequence, BigInt(details.sequence));
    assert.equal(answer.policy.details.resourceOwner, own[0]);
    assert.equal(formatTimestamp(answer.policy.details.creationDate!), details.creationDate);
    assert.equal(formatTimestamp(answer.policy.details.changeDate!), details.changeDate);
    assert.deepEqual(JSON.parse(upstreamJson(answer)), { policy: expected });
  });

  it('answers an org without a policy with the default', async () => {
    const answer = await client.getOrgPolicy(inheriting[0]);
    assert.equal(answer.orgKnown, true);
    assert.equal(answer.policy.isDefault, true);
    assert.equal(answer.policy.details.resourceOwner, snapshot.instance.id);
    assert.deepEqual(JSON.parse(upstreamJson(answer)), { policy: expectedPolicy(inheriting[0]) });
  });

  it('answers an unknown org with the default and orgKnown false', async () => {
    const answer = await client.getOrgPolicy(UNKNOWN_ORG);
    assert.equal(answer.orgId, UNKNOWN_ORG);
    assert.equal(answer.orgKnown, false);
    assert.equal(answer.policy.isDefault, true);
    assert.deepEqual(JSON.parse(upstreamJson(answer)), { policy: expectedPolicy(UNKNOWN_ORG) });
  });

  it('rejects a strict lookup of an unknown org with NOT_FOUND (5), keeping the connection',
     async () => {
       await assert.rejects(client.getOrgPolicy(UNKNOWN_ORG, { strict: true }), (e: unknown) => {
         assert.ok(e instanceof PolicydError);
         assert.equal(e.code, 5);
         assert.equal(e.codeName, 'NOT_FOUND');
         assert.match(e.message, new RegExp(UNKNOWN_ORG));
         return true;
       });
       assert.equal(client.connected, true);
       assert.equal((await client.getOrgPolicy(own[0], { strict: true })).orgKnown, true);
     });

  it('passes the daemon\'s INVALID_ARGUMENT (3) for bad org ids', async () => {
    for (const bad of ['', 'x'.repeat(201)]) {
      await assert.rejects(client.getOrgPolicy(bad), assertPolicydError(Code.INVALID_ARGUMENT));
    }
    assert.equal(client.connected, true);
  });

  it('answers a batch in request order, each org on its own', async () => {
    const orgs = [inheriting[0], UNKNOWN_ORG, own[0], own[own.length - 1], inheriting[1] ?? ''];
    const entries = await client.getOrgPolicies(orgs);
    assert.deepEqual(entries.map((e) => e.orgId), orgs);
    for (const [i, entry] of entries.entries()) {
      if (orgs[i] === '') {
        assert.ok(!entry.ok && entry.error.code === Code.INVALID_ARGUMENT);
        continue;
      }
      assert.ok(entry.ok, `${orgs[i]}: ${entry.error}`);
      assert.equal(entry.orgKnown, orgs[i] !== UNKNOWN_ORG);
      assert.deepEqual(JSON.parse(upstreamJson(entry)), { policy: expectedPolicy(orgs[i]) });
    }
  });

  it('fails only the unknown org of a strict batch', async () => {
    const entries = await client.getOrgPolicies([own[0], UNKNOWN_ORG, inheriting[0]],
                                                { strict: true });
    assert.deepEqual(entries.map((e) => e.ok), [true, false, true]);
    const failed = entries[1];
    assert.ok(!failed.ok && failed.error.code === Code.NOT_FOUND && failed.policy === null);
    assert.equal(failed.orgKnown, false);
    assert.equal(entries[2].policy?.isDefault, true);
  });

  it('answers the default policy', async () => {
    const answer = await client.getDefaultPolicy();
    assert.equal(answer.orgId, null);
    assert.equal(answer.policy.isDefault, true);
    assert.equal(answer.policy.details.resourceOwner, snapshot.instance.id);
    assert.deepEqual(JSON.parse(upstreamJson(answer)), { policy: expectedPolicy(null) });
  });

  it('answers the status', async () => {
    const status = await client.getStatus();
    assert.equal(status.health, Health.SERVING);
    assert.equal(status.instanceId, snapshot.instance.id);
    assert.equal(status.orgCount, snapshot.orgs.length);
    assert.equal(status.customPolicyCount, own.length);
    assert.equal(status.hasInstance, true);
    assert.match(status.source, /snapshot/);
    assert.equal(status.upstream, '');
    assert.equal(status.stale, false);
    assert.ok(status.version.length > 0);
    assert.ok(status.now !== null && status.lastChange !== null);
    assert.ok(status.lastChange.seconds <= status.now.seconds);
  });

  it('renders the JSON byte for byte as policyctl get prints it', async () => {
    for (const org of [null, ...own, ...inheriting, UNKNOWN_ORG]) {
      const ctl = policyctl(daemon.socket, 'get', ...(org === null ? [] : ['--org', org]));
      assert.equal(ctl.status, 0, ctl.stderr);
      const answer =
          org === null ? await client.getDefaultPolicy() : await client.getOrgPolicy(org);
      assert.equal(Buffer.from(upstreamJson(answer) + '\n', 'utf8').toString('hex'),
                   ctl.stdout.toString('hex'), `org ${org}`);
    }
  });

  it('pipelines concurrent calls on one connection, each answered by its own id', async () => {
    const pipelined = await PolicydClient.connect(daemon.socket, { timeoutMs: 30_000 });
    try {
      type Check = (r: PromiseSettledResult<unknown>) => void;
      const calls: Promise<unknown>[] = [];
      const checks: Check[] = [];
      const orgs = [...own, ...inheriting, UNKNOWN_ORG];
      for (let i = 0; i < 400; ++i) {
        const org = orgs[i % orgs.length];
        switch (i % 5) {
          case 0:
          case 1:
            calls.push(pipelined.getOrgPolicy(org));
            checks.push((r) => {
              assert.equal(r.status, 'fulfilled');
              const answer = (r as PromiseFulfilledResult<PolicyAnswer>).value;
              assert.equal(answer.orgId, org);
              assert.deepEqual(JSON.parse(upstreamJson(answer)), { policy: expectedPolicy(org) });
            });
            break;
          case 2:
            calls.push(pipelined.getOrgPolicy(org, { strict: true }));
            checks.push((r) => {
              if (org === UNKNOWN_ORG) {
                assert.equal(r.status, 'rejected');
                assertPolicydError(Code.NOT_FOUND)((r as PromiseRejectedResult).reason);
              } else {
                assert.equal(r.status, 'fulfilled');
                assert.equal((r as PromiseFulfilledResult<PolicyAnswer>).value.orgId, org);
              }
            });
            break;
          case 3: {
            const batch = [org, orgs[(i + 1) % orgs.length]];
            calls.push(pipelined.getOrgPolicies(batch));
            checks.push((r) => {
              assert.equal(r.status, 'fulfilled');
              const entries = (r as PromiseFulfilledResult<BatchEntry[]>).value;
              assert.deepEqual(entries.map((e) => e.orgId), batch);
            });
            break;
          }
          default:
            calls.push(pipelined.getStatus());
            checks.push((r) => assert.equal(r.status, 'fulfilled'));
        }
      }
      // Every call was written before any answer was read: all 400 are in flight at once.
      assert.equal(pipelined.pending, calls.length);
      const results = await Promise.allSettled(calls);
      results.forEach((r, i) => checks[i](r));
      assert.equal(pipelined.pending, 0);
      assert.equal(pipelined.connected, true);
    } finally {
      pipelined.close();
    }
  });
});

describe('transport', () => {
  it('rejects with UNAVAILABLE when no daemon listens', async () => {
    await assert.rejects(PolicydClient.connect('/nonexistent/policyd.sock'),
                         assertPolicydError(Code.UNAVAILABLE));
  });

  it('times out against a server that never answers, and closes the connection', async () => {
    const server = await FakeServer.start(() => null);
    try {
      const client = await PolicydClient.connect(server.socket, { timeoutMs: 300 });
      const start = Date.now();
      const first = client.getOrgPolicy('42');
      const second = client.getStatus();
      await assert.rejects(first, assertPolicydError(Code.DEADLINE_EXCEEDED));
      const elapsed = Date.now() - start;
      assert.ok(elapsed >= 290 && elapsed < 5000, `timed out after ${elapsed} ms`);
      await assert.rejects(second, assertPolicydError(Code.UNAVAILABLE));
      assert.equal(client.connected, false);
      await assert.rejects(client.getStatus(), assertPolicydError(Code.UNAVAILABLE));
    } finally {
      await server.stop();
    }
  });

  it('times a later call out at its own deadline, not the first call\'s', async () => {
    let requests = 0;
    const server = await FakeServer.start(
        (id) => (++requests === 1 ? errorFrame(id, Code.NOT_FOUND, 'answered') : null));
    try {
      const client = await PolicydClient.connect(server.socket, { timeoutMs: 300 });
      await assert.rejects(client.getOrgPolicy('1'), assertPolicydError(Code.NOT_FOUND));
      await new Promise((resolve) => setTimeout(resolve, 150));
      const start = Date.now();
      await assert.rejects(client.getOrgPolicy('2'), assertPolicydError(Code.DEADLINE_EXCEEDED));
      const elapsed = Date.now() - start;
      assert.ok(elapsed >= 290 && elapsed < 5000, `timed out after ${elapsed} ms`);
    } finally {
      await server.stop();
    }
  });

  it('keeps the event loop alive only while calls are pending', async () => {
    const server = await FakeServer.start((id) => errorFrame(id, Code.NOT_FOUND, 'x'));
    try {
      const client = await PolicydClient.connect(server.socket);
      const timer = () => (client as unknown as { timer: NodeJS.Timeout | null }).timer;
      const call = client.getOrgPolicy('1');
      assert.equal(timer()?.hasRef(), true);
      await assert.rejects(call, assertPolicydError(Code.NOT_FOUND));
      assert.notEqual(timer()?.hasRef(), true);
      client.close();
      assert.equal(timer(), null);
    } finally {
      await server.stop();
    }
  });

  it('treats an answer to a request it did not send as INTERNAL', async () => {
    const server = await FakeServer.start((id) => errorFrame(id + 100n, Code.NOT_FOUND, 'x'));
    try {
      const client = await PolicydClient.connect(server.socket);
      await assert.rejects(client.getOrgPolicy('42'), assertPolicydError(Code.INTERNAL));
      assert.equal(client.connected, false);
    } finally {
      await server.stop();
    }
  });

  it('rejects with the code of a connection-level refusal (id 0)', async () => {
    const server = await FakeServer.start(
        () => errorFrame(0n, Code.RESOURCE_EXHAUSTED, 'policyd is serving its maximum'), true);
    try {
      const client = await PolicydClient.connect(server.socket);
      await assert.rejects(client.getDefaultPolicy(), (e: unknown) => {
        assertPolicydError(Code.RESOURCE_EXHAUSTED)(e);
        assert.match((e as Error).message, /maximum/);
        return true;
      });
    } finally {
      await server.stop();
    }
  });

  it('treats an undecodable answer as INTERNAL', async () => {
    const garbage = Buffer.from([12, 0, 0, 0, 8, 0, 0, 0, 0x58, 0x58, 0x58, 0x58, 0, 0, 0, 0]);
    const server = await FakeServer.start(() => garbage);
    try {
      const client = await PolicydClient.connect(server.socket);
      await assert.rejects(client.getStatus(), assertPolicydError(Code.INTERNAL));
      assert.equal(client.connected, false);
    } finally {
      await server.stop();
    }
  });

  it('rejects with UNAVAILABLE when the server closes the connection', async () => {
    const server = await FakeServer.start(() => Buffer.alloc(0), true);
    try {
      const client = await PolicydClient.connect(server.socket);
      await assert.rejects(client.getStatus(), assertPolicydError(Code.UNAVAILABLE));
    } finally {
      await server.stop();
    }
  });
});

describe('formatTimestamp', () => {
  it('formats like protojson', () => {
    const cases: [number, number, string][] = [
      [0, 0, '1970-01-01T00:00:00Z'],
      [1739260801, 500_000_000, '2025-02-11T08:00:01.500Z'],
      [1740820364, 123_456_000, '2025-03-01T09:12:44.123456Z'],
      [1740654352, 904_811_027, '2025-02-27T11:05:52.904811027Z'],
      [951782400, 0, '2000-02-29T00:00:00Z'],
      [-62135596800, 0, '0001-01-01T00:00:00Z'],
      [253402300799, 999_999_999, '9999-12-31T23:59:59.999999999Z'],
      [-1, 0, '1969-12-31T23:59:59Z'],
    ];
    for (const [seconds, nanos, text] of cases) {
      assert.equal(formatTimestamp({ seconds, nanos }), text);
    }
  });
});
