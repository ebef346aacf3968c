// The Node client's policy kinds against the real policyd serving the example snapshot (and an
// org setting every field). password.test.ts has the password check, kinds-wire.test.ts what a
// real daemon does not answer. Expected policies come from the snapshot file: an org's own row of
// a kind, else the instance default (which carries isDefault true), compared byte for byte.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';

import {
  Code, formatDuration, IdpType, KIND_SPECS, kindPolicyJson, KindPolicySet, kindsAnswerJson,
  KindsAnswer, PolicydClient, PolicyKind, SecondFactorType, ThemeMode,
} from '../src';
import { answerField, GenericKind, kindName } from '../src/kinds';
import { Daemon, policyctl, rejectsWith, repo, snapshotPath, spyOnWrites } from './fixtures';

const UNKNOWN_ORG = 'no-such-org';
const ORG_42 = '300000000000000042'; // own password complexity (12 bytes, no symbol), login, label
const ORG_233 = '300000000000000233'; // own lockout and privacy
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
    case 'idpLinks':
      return ((raw as Json[] | undefined) ?? []).map((o) => ({
        idpId: o.idpId,
        idpName: o.idpName ?? '',
        idpType: o.idpType === undefined ? 0 : names![o.idpType as string],
      }));
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
    // Its own login policy's IdP links, in order (the instance's link is not merged in).
    assert.deepEqual(answer.login?.idps, [
      { idpId: '300000000000000301', idpName: 'Acme Entra ID', idpType: IdpType.IDP_TYPE_OIDC },
      { idpId: '300000000000000302', idpName: 'Acme Partners', idpType: IdpType.IDP_TYPE_JWT },
    ]);
    assert.ok(kindsAnswerJson(answer, PolicyKind.LOGIN).includes(
        '"idps":[{"idpId":"300000000000000301","idpName":"Acme Entra ID",' +
        '"idpType":"IDP_TYPE_OIDC"}'));
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
    // The IdP links: OIDC, JWT and UNSPECIFIED (type left out), one without a name, in order.
    assert.deepEqual(answer.login?.idps, [
      { idpId: '400000000000000001', idpName: 'Okta "corp" é', idpType: IdpType.IDP_TYPE_OIDC },
      { idpId: '400000000000000002', idpName: '', idpType: IdpType.IDP_TYPE_JWT },
      { idpId: '400000000000000003', idpName: 'GitHub', idpType: IdpType.IDP_TYPE_UNSPECIFIED },
    ]);
    assert.ok(kindPolicyJson(PolicyKind.LOGIN, answer.login!).includes(
        '"multiFactors":["MULTI_FACTOR_TYPE_U2F_WITH_VERIFICATION"],"idps":[{"idpId":' +
        '"400000000000000001","idpName":"Okta \\"corp\\" é","idpType":"IDP_TYPE_OIDC"},' +
        '{"idpId":"400000000000000002","idpType":"IDP_TYPE_JWT"},' +
        '{"idpId":"400000000000000003","idpName":"GitHub"}],"allowDomainDiscovery":true'));
    assert.equal(answer.label?.themeMode, ThemeMode.THEME_MODE_DARK);
    assert.ok(answer.label?.fontUrl.endsWith('font-3.ttf'));
    // The daemon's own rendering (policyctl get), the IdP links included.
    for (const kind of Object.keys(SNAPSHOT_NAMES).map(Number) as GenericKind[]) {
      const ctl = policyctl(daemon.socket, 'get', '--kind', kindName(kind), '--org', org.id);
      assert.equal(ctl.status, 0, ctl.stderr);
      assert.equal(Buffer.from(kindsAnswerJson(answer, kind) + '\n', 'utf8').toString('hex'),
                   ctl.stdout.toString('hex'), kindName(kind));
    }
  });
});

