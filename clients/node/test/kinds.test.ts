// The Node client's policy kinds and password check against the real policyd serving the example
// snapshot, and against fake servers for what a real daemon does not answer (an older daemon,
// enum numbers of a newer one). Expected policies come from the snapshot file: an org's own row of
// a kind, else the instance default (which carries isDefault true), compared byte for byte.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';

import * as flatbuffers from 'flatbuffers';

import {
  CheckKind, CheckReason, Code, formatDuration, KIND_SPECS, kindPolicyJson, KindPolicySet,
  kindsAnswerJson, KindsAnswer, PolicydClient, PolicydError, PolicyKind, SecondFactorType,
  ThemeMode,
} from '../src';
import { Duration as FbDuration } from '../src/generated/policyd/fb/duration';
import { DomainPolicy as FbDomainPolicy } from '../src/generated/policyd/fb/domain-policy';
import { LoginPolicy as FbLoginPolicy } from '../src/generated/policyd/fb/login-policy';
import { PolicyResult } from '../src/generated/policyd/fb/policy-result';
import { Response } from '../src/generated/policyd/fb/response';
import { ResponseBody } from '../src/generated/policyd/fb/response-body';
import { answerField, GenericKind } from '../src/kinds';
import { DecodedResponse } from '../src/messages';
import { Daemon, FakeServer, repo, snapshotPath } from './fixtures';

const UNKNOWN_ORG = 'no-such-org';
const ORG_42 = '300000000000000042'; // own password complexity (12 bytes, no symbol), login, label
const ORG_233 = '300000000000000233'; // own lockout and privacy
const ORG_107 = '300000000000000107'; // nothing of its own
const ALL_KINDS = [0, 1, 2, 3, 4, 5, 6, 7] as PolicyKind[];
const SNAPSHOT_NAMES: Record<GenericKind, string> = {
  [PolicyKind.PASSWORD_COMPLEXITY]: 'passwordComplexity',
  [PolicyKind.PASSWORD_AGE]: 'passwordAge',
  [PolicyKind.LOCKOUT]: 'lockout',
  [PolicyKind.LOGIN]: 'login',
  [PolicyKind.PRIVACY]: 'privacy',
  [PolicyKind.NOTIFICATION]: 'notification',
  [PolicyKind.LABEL]: 'label',
};
// The management Get<Kind>PolicyResponse messages with the deprecated top-level `is_default = 2`
// (../shared/upstream/zitadel-events-and-policies.md §3).
const TOP_LEVEL_IS_DEFAULT = new Set<PolicyKind>([
  PolicyKind.PASSWORD_COMPLEXITY, PolicyKind.PASSWORD_AGE, PolicyKind.LOCKOUT, PolicyKind.LOGIN,
  PolicyKind.LABEL,
]);

type Json = Record<string, unknown>;
interface SnapshotOrg { id: string; policy?: Json; policies?: Record<string, Json> }
const snapshot = JSON.parse(fs.readFileSync(snapshotPath(), 'utf8')) as {
  instance: { policy: Json; policies: Record<string, Json> };
  orgs: SnapshotOrg[];
};

/** The snapshot's policy object of the org's effective `kind`, and whether it is inherited. */
function expected(orgId: string | null, kind: PolicyKind): [Json, boolean] {
  const org = snapshot.orgs.find((o) => o.id === orgId);
  const name = kind === PolicyKind.DOMAIN ? null : SNAPSHOT_NAMES[kind as GenericKind];
  const own = name === null ? org?.policy : org?.policies?.[name];
  if (own !== undefined) return [own, false];
  const fallback = name === null ? snapshot.instance.policy : snapshot.instance.policies[name];
  assert.equal(fallback.isDefault, true, 'the instance defaults carry isDefault');
  return [fallback, true];
}

/** The upstream's GET body of `kind`: management for an org, admin for the instance. */
function getBody(orgId: string | null, kind: PolicyKind): string {
  const [policy, isDefault] = expected(orgId, kind);
  const top = orgId !== null && isDefault && TOP_LEVEL_IS_DEFAULT.has(kind);
  return '{"policy":' + JSON.stringify(policy) + (top ? ',"isDefault":true' : '') + '}';
}

/** A field's typed value as the upstream's JSON object gives it. */
function expectedValue(type: string, names: Record<string, unknown> | undefined,
                       raw: unknown): unknown {
  switch (type) {
    case 'bool': return raw === true;
    case 'uint64': return BigInt((raw as string | undefined) ?? '0');
    case 'string': return raw ?? '';
    case 'duration': return raw; // compared as formatDuration()
    case 'enum': return raw === undefined ? 0 : names![raw as string];
    default: return ((raw as string[] | undefined) ?? []).map((n) => names![n]);
  }
}

/** Every kind of `answer` equals the snapshot's effective policy of `lookup`, field by field. */
function assertMatches(answer: KindsAnswer, lookup: string | null): void {
  for (const kind of ALL_KINDS) {
    const [obj, isDefault] = expected(lookup, kind);
    const policy = answer[answerField(kind)];
    assert.ok(policy !== null, `${PolicyKind[kind]} answered`);
    assert.equal(policy.isDefault, isDefault, PolicyKind[kind]);
    assert.equal(kindPolicyJson(kind, policy), JSON.stringify(obj), PolicyKind[kind]);
    assert.equal(kindsAnswerJson(answer, kind), getBody(answer.orgId, kind), PolicyKind[kind]);
    const details = obj.details as Json;
    assert.equal(policy.details.sequence, BigInt(details.sequence as string));
    assert.equal(policy.details.resourceOwner, details.resourceOwner);
    if (kind === PolicyKind.DOMAIN) continue;
    const values = policy as unknown as Record<string, unknown>;
    for (const f of KIND_SPECS[kind as GenericKind].fields) {
      const value = f.type === 'duration' ? formatDuration(values[f.name] as never)
                                          : values[f.name];
      assert.deepEqual(value, expectedValue(f.type, f.names as never, obj[f.name]),
                       `${PolicyKind[kind]}.${f.name}`);
    }
  }
}

function rejectsWith(code: Code): (e: unknown) => boolean {
  return (e: unknown) => {
    assert.ok(e instanceof PolicydError, `expected a PolicydError, got ${e}`);
    assert.equal(e.code, code, e.message);
    return true;
  };
}

/** Whether `condition` holds within `ms` milliseconds, checked on every turn of the event loop. */
async function eventually(condition: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setImmediate(r));
  }
  return true;
}

/** Records every frame the client writes (the Buffer, and a copy of it at the time). */
function spyOnWrites(client: PolicydClient): { frame: Buffer; copy: Buffer }[] {
  const writes: { frame: Buffer; copy: Buffer }[] = [];
  const socket = (client as unknown as { socket: { write: (...a: unknown[]) => boolean } }).socket;
  const write = socket.write.bind(socket);
  socket.write = (...args: unknown[]) => {
    writes.push({ frame: args[0] as Buffer, copy: Buffer.from(args[0] as Buffer) });
    return write(...args);
  };
  return writes;
}

describe('policy kinds against policyd', () => {
  let daemon: Daemon;
  let client: PolicydClient;

  before(async () => {
    daemon = await Daemon.start(snapshotPath());
    client = await PolicydClient.connect(daemon.socket, { timeoutMs: 10_000 });
  });
  after(async () => {
    client?.close();
    await daemon?.stop();
  });

  it('answers every kind of an org with own rows in one frame', async () => {
    const answer = await client.getOrgKinds(ORG_42, [...ALL_KINDS].reverse());
    assert.equal(answer.orgId, ORG_42);
    assert.equal(answer.orgKnown, true);
    assert.equal(answer.stale, false);
    assertMatches(answer, ORG_42);
    assert.equal(answer.passwordComplexity?.minLength, 12n);
    assert.equal(answer.passwordComplexity?.hasSymbol, false);
    assert.equal(answer.login?.forceMfa, true);
    assert.deepEqual(answer.login?.passwordCheckLifetime, { seconds: 86400n, nanos: 0 });
    assert.deepEqual(answer.login?.secondFactors, [SecondFactorType.SECOND_FACTOR_TYPE_U2F]);
    assert.equal(answer.label?.themeMode, ThemeMode.THEME_MODE_LIGHT);
    assert.equal(answer.lockout?.isDefault, true);
  });

  it('answers own rows and inherited defaults per kind for every org', async () => {
    for (const org of snapshot.orgs) {
      const answer = await client.getOrgKinds(org.id, ALL_KINDS);
      assert.equal(answer.orgKnown, true);
      assertMatches(answer, org.id);
    }
    const answer = await client.getOrgKinds(ORG_233, [PolicyKind.LOCKOUT, PolicyKind.PRIVACY]);
    assert.equal(answer.lockout?.isDefault, false);
    assert.equal(answer.lockout?.maxPasswordAttempts, 5n);
    assert.equal(answer.privacy?.supportEmail, 'support@initech.io');
    assert.equal(answer.policy, null, 'DOMAIN was not asked for');
    assert.equal(answer.login, null);
    assert.throws(() => kindsAnswerJson(answer, PolicyKind.LOGIN), TypeError);
  });

  it('gives an unknown org the instance defaults unless strict', async () => {
    const answer = await client.getOrgKinds(UNKNOWN_ORG, ALL_KINDS);
    assert.equal(answer.orgKnown, false);
    assertMatches(answer, null);
    await assert.rejects(client.getOrgKinds(UNKNOWN_ORG, [PolicyKind.LOGIN], { strict: true }),
                         rejectsWith(Code.NOT_FOUND));
    assert.equal(client.connected, true);
  });

  it('answers the instance defaults as the admin API does', async () => {
    const answer = await client.getDefaultKinds(ALL_KINDS);
    assert.equal(answer.orgId, null);
    assertMatches(answer, null);
    for (const kind of ALL_KINDS) {
      assert.equal(answer[answerField(kind)]?.isDefault, true);
      assert.ok(!kindsAnswerJson(answer, kind).endsWith(',"isDefault":true}'), PolicyKind[kind]);
    }
  });

  it('answers every org of a batch with its own status', async () => {
    const orgs = [ORG_42, UNKNOWN_ORG, ORG_233];
    const kinds = [PolicyKind.PASSWORD_COMPLEXITY, PolicyKind.LOCKOUT, PolicyKind.LABEL];
    const loose = await client.getOrgsKinds(orgs, kinds);
    assert.deepEqual(loose.map((e) => [e.orgId, e.orgKnown, e.ok]),
                     [[ORG_42, true, true], [UNKNOWN_ORG, false, true], [ORG_233, true, true]]);
    assert.equal(loose[0].passwordComplexity?.isDefault, false);
    assert.equal(loose[1].passwordComplexity?.isDefault, true);
    assert.equal(loose[2].lockout?.isDefault, false);
    for (const entry of loose) {
      assert.ok(entry.ok);
      for (const kind of kinds) {
        assert.equal(kindsAnswerJson(entry, kind), getBody(entry.orgId, kind));
      }
    }
    const strict = await client.getOrgsKinds(orgs, kinds, { strict: true });
    assert.ok(strict[0].ok && strict[2].ok);
    const failed = strict[1];
    assert.ok(!failed.ok && failed.error.code === Code.NOT_FOUND);
    assert.equal(failed.passwordComplexity, null);
    assert.equal(kindsAnswerJson(strict[2], PolicyKind.LOCKOUT),
                 kindsAnswerJson(loose[2], PolicyKind.LOCKOUT));
  });

  it('refuses bad kinds before sending anything', async () => {
    const other = await PolicydClient.connect(daemon.socket, { timeoutMs: 10_000 });
    const writes = spyOnWrites(other);
    for (const kinds of [[], [8], [PolicyKind.LOGIN, 255]] as PolicyKind[][]) {
      await assert.rejects(other.getOrgKinds(ORG_42, kinds), rejectsWith(Code.INVALID_ARGUMENT));
    }
    assert.equal(writes.length, 0);
    // Repeats are asked once; the old call still answers the domain policy alone.
    const answer = await other.getOrgKinds(ORG_42, [PolicyKind.LOGIN, PolicyKind.LOGIN]);
    assert.notEqual(answer.login, null);
    const old = await other.getOrgPolicy(ORG_42);
    assert.equal((old as unknown as Partial<KindPolicySet>).login, undefined);
    other.close();
  });
});

// An org whose own row of each kind sets every field of the upstream's message, to extreme values
// (uint64 max, Durations with fractions, negative and at Go's limit, escapes, non-ASCII text,
// every factor, the asset URLs): the example snapshot plus tests/clients/kinds_every_field.json,
// whose objects are in the upstream's field order.
describe('every field of every kind', () => {
  const org = JSON.parse(fs.readFileSync(
      path.join(repo, 'tests', 'clients', 'kinds_every_field.json'), 'utf8')) as SnapshotOrg;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'policyd-node-kinds-'));
  let daemon: Daemon;

  before(async () => {
    const file = path.join(dir, 'snapshot.json');
    fs.writeFileSync(file, JSON.stringify({ ...snapshot, orgs: [...snapshot.orgs, org] }));
    daemon = await Daemon.start(file);
  });
  after(async () => {
    await daemon?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('round-trips byte for byte', async () => {
    const client = await PolicydClient.connect(daemon.socket, { timeoutMs: 10_000 });
    const answer = await client.getOrgKinds(org.id, ALL_KINDS);
    client.close();
    for (const [kind, name] of Object.entries(SNAPSHOT_NAMES)) {
      const k = Number(kind) as GenericKind;
      const obj = org.policies![name];
      const policy = answer[answerField(k)]!;
      assert.equal(kindPolicyJson(k as PolicyKind, policy), JSON.stringify(obj), name);
      assert.equal(kindsAnswerJson(answer, k), `{"policy":${JSON.stringify(obj)}}`, name);
      const values = policy as unknown as Record<string, unknown>;
      for (const f of KIND_SPECS[k].fields) {
        const value = f.type === 'duration' ? formatDuration(values[f.name] as never)
                                            : values[f.name];
        assert.deepEqual(value, expectedValue(f.type, f.names as never, obj[f.name]), f.name);
      }
    }
    assert.equal(answer.passwordComplexity?.minLength, 2n ** 64n - 1n);
    assert.equal(answer.passwordComplexity?.details.sequence, 2n ** 64n - 1n);
    assert.equal(answer.passwordAge?.details.sequence, 2n ** 53n + 1n);
    assert.equal(answer.lockout?.maxOtpAttempts, 4294967296n);
    assert.deepEqual(answer.login?.mfaInitSkipLifetime, { seconds: -2n, nanos: -1 });
    assert.deepEqual(answer.login?.secondFactorCheckLifetime,
                     { seconds: 9223372036n, nanos: 854775807 });
    assert.equal(answer.login?.secondFactors.length, 4);
    assert.equal(answer.label?.themeMode, ThemeMode.THEME_MODE_DARK);
    assert.ok(answer.label?.fontUrl.endsWith('font-3.ttf'));
  });
});

describe('password check against policyd', () => {
  let daemon: Daemon;
  let client: PolicydClient;

  before(async () => {
    daemon = await Daemon.start(snapshotPath());
    client = await PolicydClient.connect(daemon.socket, { timeoutMs: 10_000 });
  });
  after(async () => {
    client?.close();
    await daemon?.stop();
  });

  async function verdict(orgId: string, password: string, reason: CheckReason, errorId: string,
                         isDefault: boolean) {
    const answer = await client.checkPassword(orgId, password);
    const what = `${orgId} ${JSON.stringify(password)}: ${answer.message}`;
    assert.equal(answer.kind, CheckKind.PASSWORD);
    assert.equal(answer.reasonName, CheckReason[reason], what);
    assert.equal(answer.allowed, reason === CheckReason.PASSWORD_ALLOWED, what);
    assert.equal(answer.errorId, errorId, what);
    assert.equal(answer.message === '', reason === CheckReason.PASSWORD_ALLOWED, what);
    assert.equal(answer.policy, null);
    assert.equal(answer.isDefault, isDefault, what);
    assert.equal(answer.passwordComplexity.isDefault, isDefault, what);
    return answer;
  }

  it('applies each rule of an org\'s own policy', async () => {
    const r = CheckReason;
    await verdict(ORG_42, 'Abcdefghij1', r.PASSWORD_TOO_SHORT, 'DOMAIN-HuJf6', false);
    // Length counts bytes: 11 characters, 12 bytes.
    await verdict(ORG_42, 'Abcdéfghij1', r.PASSWORD_ALLOWED, '', false);
    await verdict(ORG_42, 'ABCDEFGHIJK1', r.PASSWORD_NO_LOWERCASE, 'DOMAIN-co3Xw', false);
    await verdict(ORG_42, 'abcdefghijk1', r.PASSWORD_NO_UPPERCASE, 'DOMAIN-VoaRj', false);
    await verdict(ORG_42, 'Abcdefghijkl', r.PASSWORD_NO_NUMBER, 'DOMAIN-ZBv4H', false);
    const fine = await verdict(ORG_42, 'Abcdefghijk1', r.PASSWORD_ALLOWED, '', false);  // no symbol
    assert.equal(fine.passwordComplexity.minLength, 12n);
    assert.equal(fine.orgId, ORG_42);
    const empty = await verdict(ORG_42, '', r.PASSWORD_TOO_SHORT, 'DOMAIN-HuJf6', false);
    assert.equal(empty.message, 'Password is too short');
  });

  it('applies each rule of the instance default', async () => {
    const r = CheckReason;
    for (const org of [ORG_107, ORG_233, UNKNOWN_ORG]) {
      await verdict(org, 'Ab1!xyz', r.PASSWORD_TOO_SHORT, 'DOMAIN-HuJf6', true);
      await verdict(org, 'AB1!XYZW', r.PASSWORD_NO_LOWERCASE, 'DOMAIN-co3Xw', true);
      await verdict(org, 'ab1!xyzw', r.PASSWORD_NO_UPPERCASE, 'DOMAIN-VoaRj', true);
      await verdict(org, 'Ab!!xyzw', r.PASSWORD_NO_NUMBER, 'DOMAIN-ZBv4H', true);
      await verdict(org, 'Ab1xyzwv', r.PASSWORD_NO_SYMBOL, 'DOMAIN-ZDLwA', true);
      await verdict(org, 'Ab1!xyzw', r.PASSWORD_ALLOWED, '', true);
      // A space and a non-ASCII letter count as symbols.
      await verdict(org, 'Ab1 xyzw', r.PASSWORD_ALLOWED, '', true);
      await verdict(org, 'Ab1éxyzw', r.PASSWORD_ALLOWED, '', true);
    }
    await assert.rejects(client.checkPassword(UNKNOWN_ORG, 'Ab1!xyzw', { strict: true }),
                         rejectsWith(Code.NOT_FOUND));
  });

  it('takes passwords as bytes and in a batch', async () => {
    const bytes = Buffer.from('Abcdefghijk1');
    assert.equal((await client.checkPassword(ORG_42, bytes)).allowed, true);
    assert.equal(bytes.toString(), 'Abcdefghijk1', "the caller's bytes are left alone");
    const entries = await client.checkBatch([
      { kind: CheckKind.PASSWORD, orgId: ORG_42, value: new TextEncoder().encode('short') },
      { kind: CheckKind.PASSWORD, orgId: UNKNOWN_ORG, value: 'Ab1!xyzw', strict: true },
      { kind: CheckKind.LOGIN_NAME, orgId: ORG_42, value: 'alice' },
    ]);
    assert.ok(entries[0].ok && entries[0].reason === CheckReason.PASSWORD_TOO_SHORT);
    assert.ok(!entries[1].ok && entries[1].error.code === Code.NOT_FOUND);
    assert.ok(entries[2].ok && entries[2].kind === CheckKind.LOGIN_NAME);
  });

  it('sends the password once, then zeroes the frame, and never gets it back', async () => {
    const other = await PolicydClient.connect(daemon.socket, { timeoutMs: 10_000 });
    const writes = spyOnWrites(other);
    const received: Buffer[] = [];
    const socket = (other as unknown as { socket: NodeJS.EventEmitter }).socket;
    socket.on('data', (chunk: Buffer) => received.push(Buffer.from(chunk)));
    const password = 'Sup3r secret!';
    const answer = await other.checkPassword(ORG_42, password);
    assert.equal(answer.allowed, true);
    assert.equal(writes.length, 1);
    assert.ok(writes[0].copy.includes(password), 'the frame held the password when written');
    // Zeroed in the write's callback, which may run just after the answer arrives.
    assert.ok(await eventually(() => writes[0].frame.every((b) => b === 0), 5000),
              'the frame is zeroed once written');
    assert.ok(!Buffer.concat(received).includes(password));
    assert.ok(!JSON.stringify(answer, (_k, v) => (typeof v === 'bigint' ? `${v}` : v))
                   .includes(password));
    other.close();
  });
});

describe('mutated answers', () => {
  // Answers with random bytes changed (a broken or hostile peer; the npm FlatBuffers runtime has
  // no Verifier) decode or throw an Error, which the client reports as INTERNAL; never anything
  // else, and never a hang.
  const frames: Buffer[] = [];

  before(async () => {
    const daemon = await Daemon.start(snapshotPath());
    try {
      const client = await PolicydClient.connect(daemon.socket, { timeoutMs: 10_000 });
      const socket = (client as unknown as { socket: NodeJS.EventEmitter }).socket;
      const received: Buffer[] = [];
      socket.on('data', (chunk: Buffer) => received.push(Buffer.from(chunk)));
      await client.getOrgKinds(ORG_42, ALL_KINDS);
      frames.push(Buffer.concat(received.splice(0)).subarray(4));
      await client.checkPassword(ORG_42, 'short');
      frames.push(Buffer.concat(received.splice(0)).subarray(4));
      client.close();
    } finally {
      await daemon.stop();
    }
  });

  it('fail with an Error and nothing else', () => {
    let seed = 14;
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    assert.notEqual(new DecodedResponse(frames[0]).kindsAnswer().login, null);
    assert.notEqual(new DecodedResponse(frames[1]).check().passwordComplexity, null);
    let failures = 0;
    for (const [i, frame] of frames.entries()) {
      for (let round = 0; round < 1500; ++round) {
        const data = Buffer.from(frame);
        for (let k = 1 + random(4); k > 0; --k) data[random(data.length)] = random(256);
        try {
          const r = new DecodedResponse(data);
          if (i === 0) r.kindsAnswer(); else r.check();
        } catch (e) {
          assert.ok(e instanceof Error, `threw ${e}`);
          ++failures;
        }
      }
    }
    assert.ok(failures > 0, 'some mutations must break the frames');
  });
});

/** A framed PolicyResult for "org-1": the domain policy (when `domain`) and a LoginPolicy built
 * by `login` (none when null). */
function policyResultFrame(id: bigint, domain: boolean,
                           login: ((b: flatbuffers.Builder) => flatbuffers.Offset) | null): Buffer {
  const builder = new flatbuffers.Builder(256);
  const loginOffset = login === null ? 0 : login(builder);
  let policy = 0;
  if (domain) {
    FbDomainPolicy.startDomainPolicy(builder);
    FbDomainPolicy.addUserLoginMustBeDomain(builder, true);
    policy = FbDomainPolicy.endDomainPolicy(builder);
  }
  const org = builder.createString('org-1');
  PolicyResult.startPolicyResult(builder);
  PolicyResult.addOrgId(builder, org);
  PolicyResult.addOrgKnown(builder, true);
  if (policy !== 0) PolicyResult.addPolicy(builder, policy);
  if (loginOffset !== 0) PolicyResult.addLogin(builder, loginOffset);
  const body = PolicyResult.endPolicyResult(builder);
  Response.startResponse(builder);
  Response.addId(builder, id);
  Response.addBodyType(builder, ResponseBody.PolicyResult);
  Response.addBody(builder, body);
  builder.finish(Response.endResponse(builder), 'PDRS');
  const payload = builder.asUint8Array();
  const out = Buffer.alloc(4 + payload.length);
  out.writeUInt32LE(payload.length, 0);
  out.set(payload, 4);
  return out;
}

/** A LoginPolicy with enum numbers this client does not know (a newer daemon's). */
function newerLogin(secondFactors = [2, 9], passwordless = 7, nanos = 1) {
  return (builder: flatbuffers.Builder): flatbuffers.Offset => {
    const factors = FbLoginPolicy.createSecondFactorsVector(builder, secondFactors);
    FbLoginPolicy.startLoginPolicy(builder);
    FbLoginPolicy.addPasswordlessType(builder, passwordless);
    FbLoginPolicy.addIsDefault(builder, true);
    FbLoginPolicy.addPasswordCheckLifetime(builder, FbDuration.createDuration(builder, 1n, nanos));
    FbLoginPolicy.addSecondFactors(builder, factors);
    return FbLoginPolicy.endLoginPolicy(builder);
  };
}

describe('policy kinds against fake servers', () => {
  async function serve(reply: (id: bigint) => Buffer) {
    const fake = await FakeServer.start(reply);
    const client = await PolicydClient.connect(fake.socket, { timeoutMs: 5000 });
    return { fake, client };
  }

  it("rejects an older daemon's domain-only answer with UNIMPLEMENTED", async () => {
    const { fake, client } = await serve((id) => policyResultFrame(id, true, null));
    await assert.rejects(client.getOrgKinds('org-1', [PolicyKind.DOMAIN, PolicyKind.LOGIN]),
                         (e: unknown) => rejectsWith(Code.UNIMPLEMENTED)(e) &&
                                         (e as Error).message.includes('login'));
    client.close();
    await fake.stop();
  });

  it('keeps the enum numbers of a newer daemon', async () => {
    const { fake, client } = await serve((id) => policyResultFrame(id, false, newerLogin()));
    const answer = await client.getOrgKinds('org-1', [PolicyKind.LOGIN]);
    const login = answer.login!;
    assert.equal(login.passwordlessType, 7);
    assert.deepEqual(login.secondFactors, [SecondFactorType.SECOND_FACTOR_TYPE_U2F, 9]);
    assert.equal(formatDuration(login.passwordCheckLifetime), '1.000000001s');
    // Written as policyd writes them: an unknown enum left out, "" inside a list.
    assert.equal(kindPolicyJson(PolicyKind.LOGIN, login),
                 '{"details":{},"isDefault":true,"passwordCheckLifetime":"1.000000001s",' +
                 '"externalLoginCheckLifetime":"0s","mfaInitSkipLifetime":"0s",' +
                 '"secondFactorCheckLifetime":"0s","multiFactorCheckLifetime":"0s",' +
                 '"secondFactors":["SECOND_FACTOR_TYPE_U2F",""]}');
    client.close();
    await fake.stop();
  });

  it('takes a kind table against the rules for an undecodable answer', async () => {
    for (const login of [newerLogin([2], -1), newerLogin(Array(65).fill(1)),
                         newerLogin([2], 0, -5)]) {
      const { fake, client } = await serve((id) => policyResultFrame(id, false, login));
      await assert.rejects(client.getOrgKinds('org-1', [PolicyKind.LOGIN]),
                           rejectsWith(Code.INTERNAL));
      assert.equal(client.connected, false);
      await fake.stop();
    }
  });

  it('formats durations as protojson', () => {
    const cases: [bigint, number, string][] = [
      [0n, 0, '0s'], [864000n, 0, '864000s'], [1n, 500_000_000, '1.500s'],
      [0n, -1, '-0.000000001s'], [1n, 1000, '1.000001s'], [-2n, -500_000_000, '-2.500s'],
    ];
    for (const [seconds, nanos, text] of cases) {
      assert.equal(formatDuration({ seconds, nanos }), text);
    }
  });

  it('has a spec and an answer field for every kind', () => {
    const fields = new Set<string>();
    for (const kind of ALL_KINDS) fields.add(answerField(kind));
    assert.equal(fields.size, ALL_KINDS.length);
    for (const [kind, spec] of Object.entries(KIND_SPECS)) {
      assert.equal(spec.kind, Number(kind));
      assert.ok(spec.fields.some((f) => f.name === 'isDefault'), spec.cliName);
    }
  });
});
