// The Node client's decoding of policy kinds beyond what a real daemon answers: an older daemon's
// domain-only answer, a newer one's enum numbers (IdP types too), tables and IdP links against the
// rules, and answers with random bytes changed.
import * as assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';

import * as flatbuffers from 'flatbuffers';

import {
  Code, formatDuration, IdpType, KIND_SPECS, kindPolicyJson, PolicydClient, PolicyKind,
  SecondFactorType,
} from '../src';
import { Duration as FbDuration } from '../src/generated/policyd/fb/duration';
import { DomainPolicy as FbDomainPolicy } from '../src/generated/policyd/fb/domain-policy';
import { IdpLink as FbIdpLink } from '../src/generated/policyd/fb/idp-link';
import { LoginPolicy as FbLoginPolicy } from '../src/generated/policyd/fb/login-policy';
import { PolicyResult } from '../src/generated/policyd/fb/policy-result';
import { Response } from '../src/generated/policyd/fb/response';
import { ResponseBody } from '../src/generated/policyd/fb/response-body';
import { answerField } from '../src/kinds';
import { DecodedResponse } from '../src/messages';
import { Daemon, FakeServer, rejectsWith, snapshotPath } from './fixtures';

const ORG_42 = '300000000000000042';
const ALL_KINDS = [0, 1, 2, 3, 4, 5, 6, 7] as PolicyKind[];

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
    frames.push(policyResultFrame(1n, false, loginWithLinks(SAMPLE_LINKS)).subarray(4));
  });

  it('fail with an Error and nothing else', () => {
    let seed = 14;
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    assert.notEqual(new DecodedResponse(frames[0]).kindsAnswer().login, null);
    assert.notEqual(new DecodedResponse(frames[1]).check().passwordComplexity, null);
    assert.equal(new DecodedResponse(frames[2]).kindsAnswer().login?.idps.length, 3);
    let failures = 0;
    for (const [i, frame] of frames.entries()) {
      for (let round = 0; round < 1500; ++round) {
        const data = Buffer.from(frame);
        for (let k = 1 + random(4); k > 0; --k) data[random(data.length)] = random(256);
        try {
          const r = new DecodedResponse(data);
          if (i === 1) r.check(); else r.kindsAnswer();
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

// [idpId, idpName, idpType] of a LoginPolicy's links; null: the field left out.
type LinkFields = [Uint8Array | string | null, string | null, number | null];
const SAMPLE_LINKS: LinkFields[] = [
  ['400000000000000001', 'Okta', 1], ['400000000000000002', null, 3],
  ['400000000000000003', 'GitHub \u00e9', null],
];

/** A LoginPolicy with IdP links. */
function loginWithLinks(links: LinkFields[]) {
  return (builder: flatbuffers.Builder): flatbuffers.Offset => {
    const offsets = links.map(([idpId, name, type]) => {
      const id = idpId === null ? 0 : builder.createString(idpId);
      const nameOffset = name === null ? 0 : builder.createString(name);
      FbIdpLink.startIdpLink(builder);
      if (id !== 0) FbIdpLink.addIdpId(builder, id);
      if (nameOffset !== 0) FbIdpLink.addIdpName(builder, nameOffset);
      if (type !== null) FbIdpLink.addIdpType(builder, type);
      return FbIdpLink.endIdpLink(builder);
    });
    const idps = FbLoginPolicy.createIdpsVector(builder, offsets);
    FbLoginPolicy.startLoginPolicy(builder);
    FbLoginPolicy.addIsDefault(builder, true);
    FbLoginPolicy.addIdps(builder, idps);
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

  it('decodes IdP links in order and writes them as policyd does', async () => {
    const { fake, client } = await serve(
        (id) => policyResultFrame(id, false, loginWithLinks(SAMPLE_LINKS)));
    const login = (await client.getOrgKinds('org-1', [PolicyKind.LOGIN])).login!;
    assert.deepEqual(login.idps, [
      { idpId: '400000000000000001', idpName: 'Okta', idpType: IdpType.IDP_TYPE_OIDC },
      { idpId: '400000000000000002', idpName: '', idpType: IdpType.IDP_TYPE_JWT },
      { idpId: '400000000000000003', idpName: 'GitHub \u00e9',
        idpType: IdpType.IDP_TYPE_UNSPECIFIED },
    ]);
    assert.equal(kindPolicyJson(PolicyKind.LOGIN, login),
                 '{"details":{},"isDefault":true,"passwordCheckLifetime":"0s",' +
                 '"externalLoginCheckLifetime":"0s","mfaInitSkipLifetime":"0s",' +
                 '"secondFactorCheckLifetime":"0s","multiFactorCheckLifetime":"0s",' +
                 '"idps":[{"idpId":"400000000000000001","idpName":"Okta",' +
                 '"idpType":"IDP_TYPE_OIDC"},{"idpId":"400000000000000002",' +
                 '"idpType":"IDP_TYPE_JWT"},{"idpId":"400000000000000003",' +
                 '"idpName":"GitHub \u00e9"}]}');
    client.close();
    await fake.stop();
  });

  it('keeps the IdP types of a newer daemon', async () => {
    const links: LinkFields[] = [['400000000000000001', 'A', 2], ['400000000000000002', 'B', 9]];
    const { fake, client } = await serve(
        (id) => policyResultFrame(id, false, loginWithLinks(links)));
    const login = (await client.getOrgKinds('org-1', [PolicyKind.LOGIN])).login!;
    assert.deepEqual(login.idps.map((l) => l.idpType), [2, 9]);
    // Written as policyd writes an enum it does not know: left out.
    assert.ok(kindPolicyJson(PolicyKind.LOGIN, login).endsWith(
        '"idps":[{"idpId":"400000000000000001","idpName":"A"},' +
        '{"idpId":"400000000000000002","idpName":"B"}]}'));
    client.close();
    await fake.stop();
  });

  it('takes IdP links against the rules for an undecodable answer', async () => {
    const cases: Record<string, LinkFields[]> = {
      'no idp_id': [[null, 'A', 1]],
      'empty idp_id': [[new Uint8Array(0), 'A', 1]],
      'idp_id over 200 bytes': [['4'.repeat(201), 'A', 1]],
      'idp_name over 4096 bytes': [['1', 'n'.repeat(4097), 1]],
      'negative idp_type': [['1', 'A', -1]],
      'over 1000 links':
          Array.from({ length: 1001 }, (_, i): LinkFields => [String(i), null, null]),
    };
    for (const [name, links] of Object.entries(cases)) {
      const { fake, client } = await serve(
          (id) => policyResultFrame(id, false, loginWithLinks(links)));
      await assert.rejects(client.getOrgKinds('org-1', [PolicyKind.LOGIN]),
                           rejectsWith(Code.INTERNAL), name);
      assert.equal(client.connected, false, name);
      await fake.stop();
    }
    // At the limits: 1000 links, a 200-byte id, a 4096-byte name.
    const links: LinkFields[] = [
      ['4'.repeat(200), 'n'.repeat(4096), 3],
      ...Array.from({ length: 999 }, (_, i): LinkFields => [String(i), null, 1]),
    ];
    const { fake, client } = await serve(
        (id) => policyResultFrame(id, false, loginWithLinks(links)));
    const idps = (await client.getOrgKinds('org-1', [PolicyKind.LOGIN])).login!.idps;
    assert.equal(idps.length, 1000);
    assert.deepEqual(idps[0], {
      idpId: '4'.repeat(200), idpName: 'n'.repeat(4096), idpType: IdpType.IDP_TYPE_JWT,
    });
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
