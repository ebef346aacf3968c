// The lookup's hand-laid request frame (src/fast-wire.ts) against the Builder's: the generated
// reader reads the same request from both, for ids across 32 bits, strict or not, and org ids of
// every length class and of multi-byte UTF-8; policyd itself answers it (client.test.ts).
import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import * as flatbuffers from 'flatbuffers';

import { GetOrgPolicy } from '../src/generated/policyd/fb/get-org-policy';
import { Request } from '../src/generated/policyd/fb/request';
import { RequestBody } from '../src/generated/policyd/fb/request-body';
import { encodeGetOrgPolicyFast } from '../src/fast-wire';
import { encodeGetOrgPolicy } from '../src/messages';

interface Read {
  id: bigint;
  bodyType: RequestBody;
  orgId: string | null;
  strict: boolean;
  kinds: number;
}

function read(frame: Buffer): Read {
  assert.equal(frame.readUInt32LE(0), frame.length - 4, 'frame length');
  const bb = new flatbuffers.ByteBuffer(new Uint8Array(frame.subarray(4)));
  assert.ok(bb.__has_identifier('PDRQ'));
  const request = Request.getRootAsRequest(bb);
  const body = request.body(new GetOrgPolicy()) as GetOrgPolicy | null;
  assert.ok(body !== null);
  return { id: request.id(), bodyType: request.bodyType(), orgId: body.orgId(),
           strict: body.strict(), kinds: body.kindsLength() };
}

describe('the fast GetOrgPolicy frame', () => {
  it('reads as the Builder frame does', () => {
    const orgs = ['', '1', '42', '300000000000000042', 'ü-org', '漢字', 'x'.repeat(255),
                  'a'.repeat(4096)];
    const ids = [1, 2, 255, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 32 + 7, 2 ** 53 - 1];
    for (const org of orgs) {
      for (const id of ids) {
        for (const strict of [false, true]) {
          const fast = read(encodeGetOrgPolicyFast(id, org, strict));
          const built = read(encodeGetOrgPolicy(BigInt(id), org, strict));
          assert.deepEqual(fast, built, `org ${JSON.stringify(org)} id ${id} strict ${strict}`);
          assert.equal(fast.id, BigInt(id));
          assert.equal(fast.orgId, org);
          assert.equal(fast.bodyType, RequestBody.GetOrgPolicy);
        }
      }
    }
  });

  it('aligns the id and ends the org id with a NUL', () => {
    const frame = encodeGetOrgPolicyFast(7, 'abc', false);
    const payload = frame.subarray(4);
    assert.equal(payload.readBigUInt64LE(32), 7n); // 8-aligned in the payload
    assert.equal(payload.length, 76 + 3 + 1);
    assert.equal(payload[payload.length - 1], 0);
  });
});
