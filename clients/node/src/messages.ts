// Requests and responses: client values <-> FlatBuffers (the flatc-generated code in generated/).
//
// Pure: bytes in, bytes or values out; the only module besides types.ts, kinds.ts and kind-wire.ts
// (the policy kinds' tables) that sees generated code.
// A new request kind in schemas/request.fbs needs one encode function here (and one client
// method); see scripts/gen-clients.sh.
//
// Frames are a 4-byte little-endian length followed by one FlatBuffer: a Request with file
// identifier PDRQ out, a Response with PDRS back (schemas/common.fbs). The npm flatbuffers
// runtime has no Verifier, so decoding checks the identifier, bounds every vector by what was
// asked for, and treats any exception as an undecodable answer.
import * as flatbuffers from 'flatbuffers';

import { Check } from './generated/policyd/fb/check';
import { CheckBatch } from './generated/policyd/fb/check-batch';
import { CheckResult } from './generated/policyd/fb/check-result';
import { CheckResultBatch } from './generated/policyd/fb/check-result-batch';
import { Details as FbDetails } from './generated/policyd/fb/details';
import { DomainPolicy as FbDomainPolicy } from './generated/policyd/fb/domain-policy';
import { Error as FbError } from './generated/policyd/fb/error';
import { FleetStatus as FbFleetStatus } from './generated/policyd/fb/fleet-status';
import { GetDefaultPolicy } from './generated/policyd/fb/get-default-policy';
import { GetOrgPolicies } from './generated/policyd/fb/get-org-policies';
import { GetOrgPolicy } from './generated/policyd/fb/get-org-policy';
import { GetStatus } from './generated/policyd/fb/get-status';
import { PolicyBatch } from './generated/policyd/fb/policy-batch';
import { PolicyResult } from './generated/policyd/fb/policy-result';
import { Request } from './generated/policyd/fb/request';
import { RequestBody } from './generated/policyd/fb/request-body';
import { Response } from './generated/policyd/fb/response';
import { ResponseBody } from './generated/policyd/fb/response-body';
import { StatusReply } from './generated/policyd/fb/status-reply';
import { Timestamp as FbTimestamp } from './generated/policyd/fb/timestamp';
import { kindPolicy, resultKinds } from './kind-wire';
import { PolicyKind } from './kinds';
import {
  BatchEntry, CheckAnswer, CheckEntry, CheckReason, CheckRequest, Code, Details, DomainPolicy,
  FleetConnection, FleetPublisher, FleetRole, FleetStatus, KindsAnswer, KindsBatchEntry,
  PolicyAnswer, PolicydError, ServerStatus, Timestamp,
} from './types';

export const FRAME_HEADER_BYTES = 4;
export const MIN_FRAME_BYTES = 8; // root offset + file identifier
const REQUEST_IDENTIFIER = 'PDRQ';
const RESPONSE_IDENTIFIER = 'PDRS';
const textEncoder = new TextEncoder();

// Copies the finished request into a fresh (unpooled) Buffer and zeroes the builder's: a frame may
// hold a password (encodeCheck), and the client zeroes the frame once written. The builder must
// have been big enough from the start, as growing it leaves the old buffer behind unwiped.
function frame(builder: flatbuffers.Builder, id: bigint, type: RequestBody,
               body: flatbuffers.Offset): Buffer {
  builder.finish(Request.createRequest(builder, id, type, body), REQUEST_IDENTIFIER);
  const payload = builder.asUint8Array();
  const out = Buffer.alloc(FRAME_HEADER_BYTES + payload.length);
  out.writeUInt32LE(payload.length, 0);
  out.set(payload, FRAME_HEADER_BYTES);
  builder.dataBuffer().bytes().fill(0);
  return out;
}

// The kinds vector; 0 (absent) asks for the domain policy only, as before policy kinds.
type KindsVector = (builder: flatbuffers.Builder, data: PolicyKind[]) => flatbuffers.Offset;
function kindsVector(builder: flatbuffers.Builder, create: KindsVector,
                     kinds: readonly PolicyKind[] | undefined): flatbuffers.Offset {
  return kinds === undefined ? 0 : create(builder, [...kinds]);
}

export function encodeGetOrgPolicy(id: bigint, orgId: string, strict: boolean,
                                   kinds?: readonly PolicyKind[]): Buffer {
  const builder = new flatbuffers.Builder(64 + 4 * orgId.length);
  const org = builder.createString(orgId);
  const body = GetOrgPolicy.createGetOrgPolicy(
      builder, org, strict, kindsVector(builder, GetOrgPolicy.createKindsVector, kinds));
  return frame(builder, id, RequestBody.GetOrgPolicy, body);
}

export function encodeGetOrgPolicies(id: bigint, orgIds: readonly string[], strict: boolean,
                                     kinds?: readonly PolicyKind[]): Buffer {
  const builder = new flatbuffers.Builder(64 + 32 * orgIds.length);
  const offsets = orgIds.map((org) => builder.createString(org));
  const vector = GetOrgPolicies.createOrgIdsVector(builder, offsets);
  const body = GetOrgPolicies.createGetOrgPolicies(
      builder, vector, strict, kindsVector(builder, GetOrgPolicies.createKindsVector, kinds));
  return frame(builder, id, RequestBody.GetOrgPolicies, body);
}

export function encodeGetDefaultPolicy(id: bigint, kinds?: readonly PolicyKind[]): Buffer {
  const builder = new flatbuffers.Builder(64);
  const body = GetDefaultPolicy.createGetDefaultPolicy(
      builder, kindsVector(builder, GetDefaultPolicy.createKindsVector, kinds));
  return frame(builder, id, RequestBody.GetDefaultPolicy, body);
}

export function encodeGetStatus(id: bigint): Buffer {
  const builder = new flatbuffers.Builder(32);
  // with_counters (what `policyctl top` asks for) is not offered by this client.
  return frame(builder, id, RequestBody.GetStatus, GetStatus.createGetStatus(builder, false));
}

// What a check adds to a frame, at most (3 UTF-8 bytes per UTF-16 unit): builders are made big
// enough up front, so that none grows and leaves a copy of a password behind.
function checkBytes(c: CheckRequest): number {
  return 96 + 3 * ((c.orgId ?? '').length + (c.value ?? '').length);
}

function check(builder: flatbuffers.Builder, c: CheckRequest): flatbuffers.Offset {
  // An empty org id or value is left out (absent on the wire, read as empty).
  const org = c.orgId ? builder.createString(c.orgId) : 0;
  let value = 0;
  if (c.value !== undefined && c.value.length > 0) {
    // A string is encoded into bytes of our own, zeroed once copied into the builder (the string
    // itself cannot be wiped); a caller's Uint8Array is used as it is, and left alone.
    const bytes = typeof c.value === 'string' ? textEncoder.encode(c.value) : c.value;
    value = builder.createString(bytes);
    if (bytes !== c.value) bytes.fill(0);
  }
  return Check.createCheck(builder, c.kind, org, value, c.strict ?? false);
}

export function encodeCheck(id: bigint, c: CheckRequest): Buffer {
  const builder = new flatbuffers.Builder(64 + checkBytes(c));
  return frame(builder, id, RequestBody.Check, check(builder, c));
}

export function encodeCheckBatch(id: bigint, checks: readonly CheckRequest[]): Buffer {
  const builder = new flatbuffers.Builder(
      64 + checks.reduce((sum, c) => sum + checkBytes(c), 0));
  const offsets = checks.map((c) => check(builder, c));
  const body = CheckBatch.createCheckBatch(builder, CheckBatch.createChecksVector(builder, offsets));
  return frame(builder, id, RequestBody.CheckBatch, body);
}

// ---- Responses ----

function timestamp(t: FbTimestamp | null): Timestamp | null {
  return t === null ? null : { seconds: Number(t.seconds()), nanos: t.nanos() };
}

function error(e: FbError): PolicydError {
  // An error must never read as success, whatever a (future or broken) server sent.
  const code = e.code() === Code.OK ? Code.UNKNOWN : e.code();
  return new PolicydError(code, e.message() ?? '');
}

function policy(p: FbDomainPolicy): DomainPolicy {
  return {
    details: details(p.details()),
    userLoginMustBeDomain: p.userLoginMustBeDomain(),
    isDefault: p.isDefault(),
    validateOrgDomains: p.validateOrgDomains(),
    smtpSenderAddressMatchesInstanceDomain: p.smtpSenderAddressMatchesInstanceDomain(),
  };
}

function details(d: FbDetails | null): Details {
  return {
    sequence: d?.sequence() ?? 0n,
    creationDate: d === null ? null : timestamp(d.creationDate()),
    changeDate: d === null ? null : timestamp(d.changeDate()),
    resourceOwner: d?.resourceOwner() ?? '',
  };
}

const NO_KINDS = {
  policy: null, passwordComplexity: null, passwordAge: null, lockout: null, login: null,
  privacy: null, notification: null, label: null,
} as const;

function kindsEntry(r: PolicyResult, stale: boolean): KindsBatchEntry {
  const e = r.error();
  if (e !== null) {
    return { ok: false, orgId: r.orgId() ?? '', orgKnown: r.orgKnown(), stale, error: error(e),
             ...NO_KINDS };
  }
  const p = r.policy();
  return { ok: true, error: null, orgId: r.orgId(), orgKnown: r.orgKnown(), stale,
           policy: p === null ? null : policy(p), ...resultKinds(r) };
}

function entry(r: PolicyResult, stale: boolean): BatchEntry {
  const orgId = r.orgId();
  const e = r.error();
  if (e !== null) {
    return { ok: false, orgId: orgId ?? '', orgKnown: r.orgKnown(), stale, policy: null,
             error: error(e) };
  }
  const p = r.policy();
  if (p === null) throw new TypeError('PolicyResult has neither policy nor error');
  return { ok: true, error: null, orgId, orgKnown: r.orgKnown(), stale, policy: policy(p) };
}

function checkEntry(r: CheckResult, stale: boolean): CheckEntry {
  const orgId = r.orgId();
  const e = r.error();
  if (e !== null) {
    return { ok: false, kind: r.kind(), orgId, orgKnown: r.orgKnown(), allowed: false, stale,
             policy: null, error: error(e) };
  }
  const p = r.policy();
  const c = r.passwordComplexity();
  if (p === null && c === null) {
    throw new TypeError('CheckResult has neither a policy nor an error');
  }
  const passwordComplexity =
      c === null ? null : kindPolicy(PolicyKind.PASSWORD_COMPLEXITY, c);
  const reason = r.reason();
  return {
    ok: true,
    error: null,
    kind: r.kind(),
    orgId,
    orgKnown: r.orgKnown(),
    allowed: r.allowed(),
    reason,
    reasonName: CheckReason[reason] ?? 'UNKNOWN',
    matchedDomain: r.matchedDomain() ?? '',
    message: r.message() ?? '',
    policy: p === null ? null : policy(p),
    domainOnOrg: r.domainOnOrg(),
    domainVerified: r.domainVerified(),
    stale,
    errorId: r.errorId() ?? '',
    passwordComplexity,
    isDefault: p !== null ? p.isDefault() : passwordComplexity?.isDefault === true,
  };
}

// The rules the C++ decoder (src/wire/response.cc) also applies. `maxEntries` bounds the
// publishers vector by the frame's size (4 bytes per entry), as there is no Verifier.
function fleet(f: FbFleetStatus, maxEntries: number): FleetStatus {
  const role = f.role();
  if (role === FleetRole.NONE) throw new TypeError('fleet status without a fleet role');
  const n = f.publishersLength();
  if (n < 0 || n > maxEntries) throw new TypeError(`${n} fleet publishers in a smaller frame`);
  const publishers: FleetPublisher[] = [];
  for (let i = 0; i < n; ++i) {
    const p = f.publishers(i);
    const id = p?.id() ?? '';
    if (p === null || id === '') throw new TypeError('fleet publisher without an id');
    const lastSync = timestamp(p.lastSync());
    if (lastSync !== null && (lastSync.nanos < 0 || lastSync.nanos >= 1e9)) {
      throw new TypeError("fleet publisher's last sync is not a valid time");
    }
    publishers.push({ id, lastSync, source: p.source() ?? '' });
  }
  const connection = f.connection();
  return {
    role,
    roleName: FleetRole[role] ?? 'UNKNOWN',
    servers: f.servers() ?? '',
    bucket: f.bucket() ?? '',
    connection,
    connectionName: FleetConnection[connection] ?? 'UNKNOWN',
    cursor: f.cursor(),
    caughtUp: f.caughtUp(),
    publishers,
    valuesApplied: Number(f.valuesApplied()),
    valuesSkipped: Number(f.valuesSkipped()),
    valuesRefused: Number(f.valuesRefused()),
    writes: Number(f.writes()),
    writeConflicts: Number(f.writeConflicts()),
    writeErrors: Number(f.writeErrors()),
    coldStarts: Number(f.coldStarts()),
    resyncPasses: Number(f.resyncPasses()),
  };
}

/** One decoded response: id, stale, and either error or a body decoded on demand. */
export class DecodedResponse {
  readonly id: bigint;
  readonly stale: boolean;
  readonly error: PolicydError | null;
  private readonly response: Response;
  private readonly size: number;

  /** Throws (any error) when `payload` is not a policyd Response. */
  constructor(payload: Uint8Array) {
    this.size = payload.length;
    const bb = new flatbuffers.ByteBuffer(payload);
    if (payload.length < MIN_FRAME_BYTES || !bb.__has_identifier(RESPONSE_IDENTIFIER)) {
      throw new TypeError('not a policyd Response (file identifier PDRS)');
    }
    this.response = Response.getRootAsResponse(bb);
    this.id = this.response.id();
    this.stale = this.response.stale();
    const e = this.response.error();
    this.error = e === null ? null : error(e);
    if (this.error === null && this.response.bodyType() === ResponseBody.NONE) {
      throw new TypeError('Response has neither error nor body');
    }
  }

  private body<T>(type: ResponseBody, table: T): T {
    if (this.response.bodyType() !== type) {
      throw new TypeError(`expected ${ResponseBody[type]}, got body type ` +
                          `${this.response.bodyType()}`);
    }
    const body = this.response.body(table) as T | null;
    if (body === null) throw new TypeError(`${ResponseBody[type]} body missing`);
    return body;
  }

  /** The PolicyResult body (GetOrgPolicy, GetDefaultPolicy); its error is thrown. */
  answer(): PolicyAnswer {
    const e = entry(this.body(ResponseBody.PolicyResult, new PolicyResult()), this.stale);
    if (!e.ok) throw e.error;
    const { orgId, orgKnown, stale, policy: p } = e;
    return { orgId, orgKnown, stale, policy: p };
  }

  /** The PolicyBatch body (GetOrgPolicies), which must hold `expected` results. */
  answers(expected: number): BatchEntry[] {
    return this.batch(expected, entry);
  }

  /** The PolicyResult body of a request that named kinds; its error is thrown. */
  kindsAnswer(): KindsAnswer {
    const e = kindsEntry(this.body(ResponseBody.PolicyResult, new PolicyResult()), this.stale);
    if (!e.ok) throw e.error;
    const { ok: _ok, error: _error, ...answer } = e;
    return answer;
  }

  /** The PolicyBatch body of a request that named kinds, with `expected` results. */
  kindsAnswers(expected: number): KindsBatchEntry[] {
    return this.batch(expected, kindsEntry);
  }

  private batch<T>(expected: number, decode: (r: PolicyResult, stale: boolean) => T): T[] {
    const batch = this.body(ResponseBody.PolicyBatch, new PolicyBatch());
    if (batch.resultsLength() !== expected) {
      throw new TypeError(`${batch.resultsLength()} results for ${expected} orgs`);
    }
    const out: T[] = [];
    for (let i = 0; i < expected; ++i) {
      const r = batch.results(i);
      if (r === null) throw new TypeError(`batch result ${i} missing`);
      out.push(decode(r, this.stale));
    }
    return out;
  }

  /** The CheckResult body (one Check); its error is thrown. */
  check(): CheckAnswer {
    const e = checkEntry(this.body(ResponseBody.CheckResult, new CheckResult()), this.stale);
    if (!e.ok) throw e.error;
    const { ok: _ok, error: _error, ...answer } = e;
    return answer;
  }

  /** The CheckResultBatch body (CheckBatch), which must hold `expected` results. */
  checks(expected: number): CheckEntry[] {
    const batch = this.body(ResponseBody.CheckResultBatch, new CheckResultBatch());
    if (batch.resultsLength() !== expected) {
      throw new TypeError(`${batch.resultsLength()} results for ${expected} checks`);
    }
    const out: CheckEntry[] = [];
    for (let i = 0; i < expected; ++i) {
      const r = batch.results(i);
      if (r === null) throw new TypeError(`check result ${i} missing`);
      out.push(checkEntry(r, this.stale));
    }
    return out;
  }

  status(): ServerStatus {
    const s = this.body(ResponseBody.StatusReply, new StatusReply());
    const age = Number(s.dataAgeMs());
    return {
      health: s.health(),
      instanceId: s.instanceId() ?? '',
      orgCount: Number(s.orgCount()),
      customPolicyCount: Number(s.customPolicyCount()),
      hasInstance: s.hasInstance(),
      lastChange: timestamp(s.lastChange()),
      lastSync: timestamp(s.lastSync()),
      dataAgeMs: age < 0 ? null : age,
      stale: s.stale(),
      source: s.source() ?? '',
      upstream: s.upstream() ?? '',
      cursor: s.cursor() ?? '',
      consecutiveFailures: s.consecutiveFailures(),
      lastError: s.lastError() ?? '',
      version: s.version() ?? '',
      now: timestamp(s.now()),
      fleet: ((f) => (f === null ? null : fleet(f, this.size / 4)))(s.fleet()),
    };
  }
}
