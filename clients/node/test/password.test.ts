// The Node client's password check against the real policyd serving the example snapshot: each
// rule of an org's own password complexity policy and of the instance default, and the password
// sent once, wiped, and never answered back.
import * as assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { CheckKind, CheckReason, Code, PolicydClient } from '../src';
import { Daemon, eventually, rejectsWith, snapshotPath, spyOnWrites } from './fixtures';

const UNKNOWN_ORG = 'no-such-org';
const ORG_42 = '300000000000000042'; // own password complexity: 12 bytes, no symbol
const ORG_233 = '300000000000000233'; // the instance default (8 bytes, all four classes)
const ORG_107 = '300000000000000107'; // the instance default

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

