// What the policyd client returns and rejects with: plain values, no I/O.
//
// Field names are the upstream's JSON names (zitadel.policy.v1.DomainPolicy as the REST API
// writes it: userLoginMustBeDomain, isDefault, ...); upstreamJson() in upstream-json.ts renders
// them byte for byte as the upstream and `policyctl get` do.
import { CheckKind } from './generated/policyd/fb/check-kind';
import { CheckReason } from './generated/policyd/fb/check-reason';
import { Code } from './generated/policyd/fb/code';
import { FleetConnection } from './generated/policyd/fb/fleet-connection';
import { FleetRole } from './generated/policyd/fb/fleet-role';
import { Health } from './generated/policyd/fb/health';
import type { KindPolicySet, PasswordComplexityPolicy } from './kinds';

// gRPC canonical status codes, the daemon's health, a fleet-mode daemon's role and NATS
// connection, and the checks' kinds and reasons, generated from schemas/.
export { CheckKind, CheckReason, Code, FleetConnection, FleetRole, Health };

/**
 * A failed request: `code` (a gRPC status code) and a one-line message.
 *
 * The daemon's own errors (NOT_FOUND for a strict lookup of an unknown org, INVALID_ARGUMENT for
 * a bad org id, RESOURCE_EXHAUSTED, PERMISSION_DENIED, UNAVAILABLE when it refuses stale data) and
 * transport failures: UNAVAILABLE (cannot connect, connection lost), DEADLINE_EXCEEDED (no answer
 * within the timeout), INTERNAL (an answer that does not decode or answers no request we sent).
 * Inside a batch, an org's error is returned in its entry, not thrown.
 */
export class PolicydError extends Error {
  readonly code: Code;
  readonly codeName: string;

  constructor(code: number, message: string) {
    const known = Code[code] !== undefined ? (code as Code) : Code.UNKNOWN;
    super(`${Code[known]}: ${message}`);
    this.name = 'PolicydError';
    this.code = known;
    this.codeName = Code[known];
  }
}

/** A point in time, UTC. `seconds` is exact for every date the daemon can hold. */
export interface Timestamp {
  seconds: number;
  nanos: number;
}

/** zitadel.v1.ObjectDetails of the policy row the answer came from. */
export interface Details {
  sequence: bigint; // 0n when unknown
  creationDate: Timestamp | null;
  changeDate: Timestamp | null;
  resourceOwner: string; // the org's id (own policy) or the instance id (default)
}

/** An effective domain policy. isDefault: inherited from the instance default. */
export interface DomainPolicy {
  details: Details;
  userLoginMustBeDomain: boolean;
  isDefault: boolean;
  validateOrgDomains: boolean;
  smtpSenderAddressMatchesInstanceDomain: boolean;
}

/**
 * The answer for one org, or for the instance default (orgId null). orgKnown: the daemon knows
 * the org (false: an unknown org got the instance default, as the upstream answers it). stale:
 * the daemon's data is older than its max-staleness.
 */
export interface PolicyAnswer {
  orgId: string | null;
  orgKnown: boolean;
  stale: boolean;
  policy: DomainPolicy;
}

/**
 * The answer of a kinds call for one org, or for the instance defaults (orgId null): the kinds
 * asked for (KindPolicySet: policy for DOMAIN, passwordComplexity, ..., label; null when not
 * asked for), each with isDefault, all read from one consistent view.
 */
export interface KindsAnswer extends KindPolicySet {
  orgId: string | null;
  orgKnown: boolean;
  stale: boolean;
}

/** One org of a kinds batch: its answer, or its own error (e.g. NOT_FOUND when strict). */
export type KindsBatchEntry =
  | ({ ok: true; error: null } & KindsAnswer)
  | ({ ok: false; orgId: string; orgKnown: boolean; stale: boolean; error: PolicydError } &
     { [K in keyof KindPolicySet]: null });

/** One org of a batch: its answer, or its own error (e.g. NOT_FOUND when strict). */
export type BatchEntry =
  | ({ ok: true; error: null } & PolicyAnswer)
  | {
      ok: false;
      orgId: string;
      orgKnown: boolean;
      stale: boolean;
      policy: null;
      error: PolicydError;
    };

/** A publisher's heartbeat as the daemon last read it from the NATS bucket. */
export interface FleetPublisher {
  id: string;
  lastSync: Timestamp | null; // its last successful upstream sync; null: never
  source: string; // its upstream's host, or its snapshot file
}

/**
 * The NATS side of a publisher or follower (policyd --publish-to / --follow). role and
 * connection may be a number a newer daemon added (roleName / connectionName then 'UNKNOWN').
 * cursor: a follower's bucket revision of the last value applied, a publisher's revision of its
 * last write (0n: none yet). publishers: a follower's every heartbeat seen, a publisher's own.
 * Counters are cumulative since the daemon started: a follower counts valuesApplied,
 * valuesSkipped, valuesRefused, coldStarts; a publisher writes, writeConflicts, writeErrors,
 * valuesSkipped, resyncPasses.
 */
export interface FleetStatus {
  role: FleetRole;
  roleName: string; // 'PUBLISHER', 'FOLLOWER'
  servers: string; // the NATS URLs, comma-separated, without credentials
  bucket: string;
  connection: FleetConnection;
  connectionName: string; // 'CONNECTING', 'CONNECTED', 'RECONNECTING', 'CLOSED'
  cursor: bigint;
  caughtUp: boolean; // follower: has read the bucket's backlog since it started
  publishers: FleetPublisher[];
  valuesApplied: number;
  valuesSkipped: number;
  valuesRefused: number;
  writes: number;
  writeConflicts: number;
  writeErrors: number;
  coldStarts: number;
  resyncPasses: number;
}

/** The daemon's store and sync state (what `policyctl status` shows). */
export interface ServerStatus {
  health: Health;
  instanceId: string;
  orgCount: number;
  customPolicyCount: number;
  hasInstance: boolean;
  lastChange: Timestamp | null; // null: never
  lastSync: Timestamp | null; // null: never
  dataAgeMs: number | null; // null: never synced
  stale: boolean;
  source: string; // the snapshot or upstream the state came from
  upstream: string; // configured upstream URL; '' without one
  cursor: string;
  consecutiveFailures: number;
  lastError: string;
  version: string;
  now: Timestamp | null; // the daemon's clock when it answered
  fleet: FleetStatus | null; // a publisher's or follower's NATS side; null otherwise
}

/**
 * One check to ask for (PolicydClient.check, checkBatch): `orgId` for LOGIN_NAME,
 * DOMAIN_VERIFICATION and PASSWORD, none for SMTP_SENDER (the instance policy decides); `value` is
 * the login name, the sender address, the domain or the password (a string, or its UTF-8 bytes);
 * `strict`: an unknown org is NOT_FOUND.
 */
export interface CheckRequest {
  kind: CheckKind;
  value: string | Uint8Array;
  orgId?: string;
  strict?: boolean;
}

/**
 * A check's answer (README "Checks" has the rules). allowed: LOGIN_NAME the name is acceptable;
 * SMTP_SENDER the address may be the sender; DOMAIN_VERIFICATION the domain is, or on adding would
 * at once be, verified. reason says why (reasonName its schema name, 'UNKNOWN' for a reason a
 * newer daemon added), message in words. matchedDomain: the domain that decided it, as stored
 * ('' when none). policy: the effective policy the decision used (the org's, or the instance
 * default for SMTP_SENDER); null for PASSWORD, which has passwordComplexity instead.
 * domainOnOrg / domainVerified: DOMAIN_VERIFICATION only. PASSWORD: reason is a PASSWORD_* reason,
 * errorId and message the upstream's for the first failing rule ('' when allowed). isDefault:
 * the policy used is the inherited instance default. The password is never in an answer.
 */
export interface CheckAnswer {
  kind: CheckKind;
  orgId: string | null;
  orgKnown: boolean;
  allowed: boolean;
  reason: CheckReason;
  reasonName: string;
  matchedDomain: string;
  message: string;
  policy: DomainPolicy | null;
  domainOnOrg: boolean;
  domainVerified: boolean;
  stale: boolean;
  errorId: string;
  passwordComplexity: PasswordComplexityPolicy | null;
  isDefault: boolean;
}

/** The answer of checkPassword: the policy used is always there. */
export interface PasswordCheckAnswer extends CheckAnswer {
  policy: null;
  passwordComplexity: PasswordComplexityPolicy;
}

/** One check of a batch: its answer, or its own error (e.g. NOT_FOUND when strict). */
export type CheckEntry =
  | ({ ok: true; error: null } & CheckAnswer)
  | {
      ok: false;
      kind: CheckKind;
      orgId: string | null;
      orgKnown: boolean;
      allowed: false;
      stale: boolean;
      policy: null;
      error: PolicydError;
    };
