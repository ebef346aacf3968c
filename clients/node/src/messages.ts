// Requests and responses: client values <-> FlatBuffers (the flatc-generated code in generated/).
//
// Pure: bytes in, bytes or values out; the only module besides types.ts that sees generated code.
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
import {
  BatchEntry, CheckAnswer, CheckEntry, CheckReason, CheckRequest, Code, DomainPolicy,
  FleetConnection, FleetPublisher, FleetRole, FleetStatus, PolicyAnswer, PolicydError,
  ServerStatus, Timestamp,
} from './types';

export const FRAME_HEADER_BYTES = 4;
export const MIN_FRAME_BYTES = 8; // root offset + file identifier
const REQUEST_IDENTIFIER = 'PDRQ';
const RESPONSE_IDENTIFIER = 'PDRS';

function frame(builder: flatbuffers.Builder, id: bigint, type: RequestBody,
               body: flatbuffers.Offset): Buffer {
  builder.finish(Request.createRequest(builder, id, type, body), REQUEST_IDENTIFIER);
  const payload = builder.asUint8Array();
  const out = Buffer.allocUnsafe(FRAME_HEADER_BYTES + payload.length);
  out.writeUInt32LE(payload.length, 0);
  out.set(payload, FRAME_HEADER_BYTES);
  return out;
}

export function encodeGetOrgPolicy(id: bigint, orgId: string, strict: boolean): Buffer {
  const builder = new flatbuffers.Builder(64);
  // kinds (offset 0: absent) asks for the domain policy only, as before policy kinds.
  const body = GetOrgPolicy.createGetOrgPolicy(builder, builder.createString(orgId), strict, 0);
  return frame(builder, id, RequestBody.GetOrgPolicy, body);
}

export function encodeGetOrgPolicies(id: bigint, orgIds: readonly string[],
                                     strict: boolean): Buffer {
  const builder = new flatbuffers.Builder(64 + 32 * orgIds.length);
  const offsets = orgIds.map((org) => builder.createString(org));
  const vector = GetOrgPolicies.createOrgIdsVector(builder, offsets);
  const body = GetOrgPolicies.createGetOrgPolicies(builder, vector, strict, 0);  // no kinds
  return frame(builder, id, RequestBody.GetOrgPolicies, body);
}

export function encodeGetDefaultPolicy(id: bigint): Buffer {
  const builder = new flatbuffers.Builder(32);
  return frame(builder, id, RequestBody.GetDefaultPolicy,
               GetDefaultPolicy.createGetDefaultPolicy(builder, 0));  // no kinds
}

export function encodeGetStatus(id: bigint): Buffer {
  const builder = new flatbuffers.Builder(32);
  // with_counters (what `policyctl top` asks for) is not offered by this client.
  return frame(builder, id, RequestBody.GetStatus, GetStatus.createGetStatus(builder, false));
}

function check(builder: flatbuffers.Builder, c: CheckRequest): flatbuffers.Offset {
  // An empty org id or value is left out (absent on the wire, read as empty).
  const org = c.orgId ? builder.createString(c.orgId) : 0;
  const value = c.value ? builder.createString(c.value) : 0;
  return Check.createCheck(builder, c.kind, org, value, c.strict ?? false);
}

export function encodeCheck(id: bigint, c: CheckRequest): Buffer {
  const builder = new flatbuffers.Builder(64);
  return frame(builder, id, RequestBody.Check, check(builder, c));
}

export function encodeCheckBatch(id: bigint, checks: readonly CheckRequest[]): Buffer {
  const builder = new flatbuffers.Builder(64 + 48 * checks.length);
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
  const d = p.details();
  return {
    details: {
      sequence: d?.sequence() ?? 0n,
      creationDate: d === null ? null : timestamp(d.creationDate()),
      changeDate: d === null ? null : timestamp(d.changeDate()),
      resourceOwner: d?.resourceOwner() ?? '',
    },
    userLoginMustBeDomain: p.userLoginMustBeDomain(),
    isDefault: p.isDefault(),
    validateOrgDomains: p.validateOrgDomains(),
    smtpSenderAddressMatchesInstanceDomain: p.smtpSenderAddressMatchesInstanceDomain(),
  };
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
  if (p === null) throw new TypeError('CheckResult has neither policy nor error');
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
    policy: policy(p),
    domainOnOrg: r.domainOnOrg(),
    domainVerified: r.domainVerified(),
    stale,
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
    const batch = this.body(ResponseBody.PolicyBatch, new PolicyBatch());
    if (batch.resultsLength() !== expected) {
      throw new TypeError(`${batch.resultsLength()} results for ${expected} orgs`);
    }
    const out: BatchEntry[] = [];
    for (let i = 0; i < expected; ++i) {
      const r = batch.results(i);
      if (r === null) throw new TypeError(`batch result ${i} missing`);
      out.push(entry(r, this.stale));
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
