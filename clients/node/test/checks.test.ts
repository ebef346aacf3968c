// The Node client's local checks against the real policyd serving a snapshot with domains. The
// orgs, domains and flags each case needs are picked from the snapshot file itself, so the
// expectations follow the snapshot rather than a copy of it.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { after, before, describe, it } from 'node:test';

import { CheckKind, CheckReason, Code, PolicydClient, PolicydError } from '../src';
import { Daemon, policyctl, snapshotPath } from './fixtures';

const UNKNOWN_ORG = 'no-such-org';

interface SnapshotDomain { domainName: string; isVerified?: boolean }
interface SnapshotOrg {
  id: string;
  policy?: Record<string, unknown>;
  domains?: SnapshotDomain[];
}
const snapshot = JSON.parse(fs.readFileSync(snapshotPath(), 'utf8')) as {
  instance: { id: string; policy: Record<string, unknown> };
  instanceDomains?: { domain: string }[];
  orgs: SnapshotOrg[];
};
const instanceDomains = (snapshot.instanceDomains ?? []).map((d) => d.domain);

const verified = (o: SnapshotOrg) =>
  (o.domains ?? []).filter((d) => d.isVerified).map((d) => d.domainName);
const unverified = (o: SnapshotOrg) =>
  (o.domains ?? []).filter((d) => !d.isVerified).map((d) => d.domainName);

/** The first org whose effective `flag` is `on`, with verified / unverified domains as asked. */
function orgWith(flag: string, on: boolean, withVerified: boolean,
                 withUnverified: boolean): SnapshotOrg {
  const org = snapshot.orgs.find((o) => {
    const flags = o.policy ?? snapshot.instance.policy;
    return (flags[flag] ?? false) === on && (!withVerified || verified(o).length > 0) &&
           (!withUnverified || unverified(o).length > 0);
  });
  assert.ok(org, `the snapshot needs an org with ${flag}=${on} and such domains`);
  return org;
}

function rejectsWith(code: Code): (e: unknown) => boolean {
  return (e: unknown) => {
    assert.ok(e instanceof PolicydError, `expected a PolicydError, got ${e}`);
    assert.equal(e.code, code, e.message);
    return true;
  };
}

describe('checks against policyd', () => {
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

  it('accepts a login name on a verified domain of an org that requires one', async () => {
    const org = orgWith('userLoginMustBeDomain', true, true, true);
    const domain = verified(org)[0];
    const answer = await client.checkLoginName(org.id, `alice@${domain.toUpperCase()}`);
    assert.equal(answer.allowed, true, answer.message);
    assert.equal(answer.reason, CheckReason.ALLOWED_VERIFIED_DOMAIN);
    assert.equal(answer.reasonName, 'ALLOWED_VERIFIED_DOMAIN');
    assert.equal(answer.matchedDomain, domain);
    assert.equal(answer.kind, CheckKind.LOGIN_NAME);
    assert.equal(answer.orgId, org.id);
    assert.equal(answer.orgKnown, true);
    assert.equal(answer.policy?.userLoginMustBeDomain, true);
    assert.equal(answer.policy.isDefault, org.policy === undefined);

    const refused = await client.checkLoginName(org.id, `alice@${unverified(org)[0]}`);
    assert.equal(refused.allowed, false);
    assert.equal(refused.reason, CheckReason.DOMAIN_NOT_VERIFIED);
    const bare = await client.checkLoginName(org.id, 'alice');
    assert.equal(bare.reason, CheckReason.MISSING_DOMAIN);
  });

  it('takes the whole name as the username without the flag', async () => {
    const org = orgWith('userLoginMustBeDomain', false, false, false);
    for (const name of ['alice', 'alice@anything.example']) {
      const answer = await client.checkLoginName(org.id, name);
      assert.equal(answer.allowed, true, answer.message);
      assert.equal(answer.reason, CheckReason.ALLOWED_BARE_USERNAME);
    }
    const empty = await client.checkLoginName(org.id, '');
    assert.equal(empty.reason, CheckReason.INVALID_LOGIN_NAME);
  });

  it('refuses a bare username on a domain another org has verified', async () => {
    const org = orgWith('userLoginMustBeDomain', false, true, false);
    const other = snapshot.orgs.find((o) => o.id !== org.id && verified(o).length > 0);
    assert.ok(other, 'the snapshot needs a second org with a verified domain');
    const taken = verified(other)[0];
    const answer = await client.checkLoginName(org.id, `bob@${taken.toUpperCase()}`);
    assert.equal(answer.allowed, false, answer.message);
    assert.equal(answer.reason, CheckReason.DOMAIN_NOT_ALLOWED_AS_USERNAME);
    assert.equal(answer.reasonName, 'DOMAIN_NOT_ALLOWED_AS_USERNAME');
    assert.equal(answer.matchedDomain, taken);
    assert.ok(answer.message.includes(other.id), answer.message);
    for (const name of [`bob@${verified(org)[0]}`, 'bob@gmail.example']) {
      const fine = await client.checkLoginName(org.id, name);
      assert.equal(fine.allowed, true, fine.message);
      assert.equal(fine.reason, CheckReason.ALLOWED_BARE_USERNAME);
    }
  });

  it('checks SMTP senders against the instance domains', async () => {
    assert.equal(snapshot.instance.policy.smtpSenderAddressMatchesInstanceDomain, true);
    assert.ok(instanceDomains.length > 0, 'the snapshot needs instance domains');
    const answer = await client.checkSmtpSender(`noreply@${instanceDomains[0]}`);
    assert.equal(answer.allowed, true, answer.message);
    assert.equal(answer.reason, CheckReason.ALLOWED_INSTANCE_DOMAIN);
    assert.equal(answer.orgId, null);
    assert.equal(answer.policy?.isDefault, true);
    const other = orgWith('userLoginMustBeDomain', true, true, false);
    const refused = await client.checkSmtpSender(`noreply@${verified(other)[0]}`);
    assert.equal(refused.reason, CheckReason.SENDER_DOMAIN_NOT_INSTANCE_DOMAIN);
  });

  it('says whether adding a domain needs verification', async () => {
    const org = orgWith('validateOrgDomains', true, true, true);
    const fresh = await client.checkDomainVerification(org.id, 'new-domain.example');
    assert.equal(fresh.allowed, false);
    assert.equal(fresh.reason, CheckReason.VERIFICATION_REQUIRED);
    assert.equal(fresh.domainOnOrg, false);
    const pending = await client.checkDomainVerification(org.id, unverified(org)[0]);
    assert.equal(pending.reason, CheckReason.DOMAIN_NOT_VERIFIED);
    assert.equal(pending.domainOnOrg, true);
    assert.equal(pending.domainVerified, false);
    const done = await client.checkDomainVerification(org.id, verified(org)[0]);
    assert.equal(done.allowed, true);
    assert.equal(done.domainVerified, true);
  });

  it('rejects with the daemon\'s errors and keeps the connection', async () => {
    await assert.rejects(client.checkLoginName(UNKNOWN_ORG, 'alice', { strict: true }),
                         rejectsWith(Code.NOT_FOUND));
    await assert.rejects(
        client.check({ kind: CheckKind.SMTP_SENDER, value: 'a@b.example', orgId: '42' }),
        rejectsWith(Code.INVALID_ARGUMENT));
    await assert.rejects(client.checkLoginName('', 'alice'), rejectsWith(Code.INVALID_ARGUMENT));
    assert.equal(client.connected, true);
    const fallback = await client.checkLoginName(UNKNOWN_ORG, 'alice');
    assert.equal(fallback.orgKnown, false);
    assert.equal(fallback.policy?.isDefault, true);
  });

  it('answers a batch in request order, each check on its own', async () => {
    const org = orgWith('userLoginMustBeDomain', true, true, false);
    const entries = await client.checkBatch([
      { kind: CheckKind.LOGIN_NAME, orgId: org.id, value: `alice@${verified(org)[0]}` },
      { kind: CheckKind.LOGIN_NAME, orgId: UNKNOWN_ORG, value: 'alice', strict: true },
      { kind: CheckKind.SMTP_SENDER, value: `noreply@${instanceDomains[0]}` },
      { kind: CheckKind.LOGIN_NAME, orgId: '', value: 'alice' },
    ]);
    assert.deepEqual(entries.map((e) => e.ok), [true, false, true, false]);
    assert.deepEqual(entries.map((e) => e.allowed), [true, false, true, false]);
    const notFound = entries[1];
    assert.ok(!notFound.ok && notFound.error.code === Code.NOT_FOUND);
    assert.equal(notFound.orgId, UNKNOWN_ORG);
    const bad = entries[3];
    assert.ok(!bad.ok && bad.error.code === Code.INVALID_ARGUMENT);
    // Overlapping calls are pipelined on the one connection.
    const [a, b] = await Promise.all([client.checkSmtpSender('x'),
                                      client.checkLoginName(org.id, 'alice')]);
    assert.equal(a.reason, CheckReason.INVALID_ADDRESS);
    assert.equal(b.reason, CheckReason.MISSING_DOMAIN);
  });

  it('gives the answer policyctl check prints', async () => {
    const org = orgWith('userLoginMustBeDomain', true, true, true);
    const name = `alice@${unverified(org)[0]}`;
    const ctl = policyctl(daemon.socket, 'check', 'login-name', org.id, name, '--json');
    assert.equal(ctl.status, 1, ctl.stderr);  // refused
    const printed = JSON.parse(ctl.stdout.toString());
    const answer = await client.checkLoginName(org.id, name);
    assert.equal(printed.allowed, answer.allowed);
    assert.equal(printed.reason, answer.reasonName);
    assert.equal(printed.matchedDomain, answer.matchedDomain);
    assert.equal(printed.message, answer.message);
  });
});
