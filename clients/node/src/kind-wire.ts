// The FlatBuffers tables of the policy kinds (schemas/common.fbs PasswordComplexityPolicy ...
// LabelPolicy) -> the values of kinds.ts, driven by each kind's spec.
//
// Pure. Applies the rules of policyd's C++ reader (src/wire/kind_wire.h ParseKindTable), since the
// npm FlatBuffers runtime has no Verifier: an enum number this client does not know (a newer
// daemon's) is kept; a negative enum number, a string over 4096 bytes, a list over 64 entries, an
// IdP link list over 1000 links, a link without an idp_id or with one over 200 bytes, a
// duration whose seconds and nanos differ in sign or whose nanos are beyond +-999,999,999 or that
// overflows int64 nanoseconds, details nanos outside 0..999,999,999 and a resource owner over 200
// bytes throw a TypeError (the client's INTERNAL, an undecodable answer).
import * as flatbuffers from 'flatbuffers';

import { Details as FbDetails } from './generated/policyd/fb/details';
import { Duration as FbDuration } from './generated/policyd/fb/duration';
import { IdpLink as FbIdpLink } from './generated/policyd/fb/idp-link';
import { PolicyResult } from './generated/policyd/fb/policy-result';
import { Timestamp as FbTimestamp } from './generated/policyd/fb/timestamp';
import {
  Duration, FieldSpec, GenericKind, IdpLink, KIND_SPECS, KindPolicies, KindPolicySet,
} from './kinds';
import { Details, Timestamp } from './types';

const MAX_STRING_BYTES = 4096;
const MAX_LIST_LENGTH = 64;
const MAX_IDP_LINKS = 1000;
const MAX_ID_BYTES = 200;
const NANOS = 1_000_000_000;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const utf8 = new TextDecoder();

// A generated table read by field name (the accessors are named like the JSON fields).
type Table = Record<string, (arg?: unknown) => unknown>;

function timestamp(t: FbTimestamp | null, what: string): Timestamp | null {
  if (t === null) return null;
  if (t.nanos() < 0 || t.nanos() >= NANOS) {
    throw new TypeError(`${what}.details: nanos out of range`);
  }
  return { seconds: Number(t.seconds()), nanos: t.nanos() };
}

function details(d: FbDetails | null, what: string): Details {
  if (d === null) return { sequence: 0n, creationDate: null, changeDate: null, resourceOwner: '' };
  const owner = d.resourceOwner(flatbuffers.Encoding.UTF8_BYTES) as Uint8Array | null;
  if (owner !== null && owner.length > MAX_ID_BYTES) {
    throw new TypeError(`${what}.details: resource owner too long`);
  }
  return {
    sequence: d.sequence(),
    creationDate: timestamp(d.creationDate(), what),
    changeDate: timestamp(d.changeDate(), what),
    resourceOwner: owner === null ? '' : utf8.decode(owner),
  };
}

function duration(d: FbDuration | null, what: string): Duration {
  if (d === null) return { seconds: 0n, nanos: 0 };
  const seconds = d.seconds();
  const nanos = d.nanos();
  if (nanos <= -NANOS || nanos >= NANOS || (seconds > 0n && nanos < 0) ||
      (seconds < 0n && nanos > 0)) {
    throw new TypeError(`${what}: not a valid duration`);
  }
  const total = seconds * BigInt(NANOS) + BigInt(nanos);
  if (total < INT64_MIN || total > INT64_MAX) throw new TypeError(`${what}: duration out of range`);
  return { seconds, nanos };
}

function enumNumber(n: unknown, what: string): number {
  if (typeof n !== 'number' || n < 0) throw new TypeError(`${what}: negative enum number ${n}`);
  return n;
}

function text(raw: Uint8Array | null, what: string): string {
  if (raw !== null && raw.length > MAX_STRING_BYTES) throw new TypeError(`${what}: too long`);
  return raw === null ? '' : utf8.decode(raw);
}

function links(table: Table, spec: FieldSpec, what: string): IdpLink[] {
  const n = (table[spec.name + 'Length'].bind(table))() as number;
  if (n > MAX_IDP_LINKS) throw new TypeError(`${what}: too many links`);
  const out: IdpLink[] = [];
  for (let i = 0; i < n; ++i) {
    const link = (table[spec.name].bind(table))(i) as FbIdpLink;
    const id = link.idpId(flatbuffers.Encoding.UTF8_BYTES) as Uint8Array | null;
    if (id === null || id.length === 0 || id.length > MAX_ID_BYTES) {
      throw new TypeError(`${what}: a link without a valid idp_id`);
    }
    out.push({
      idpId: utf8.decode(id),
      idpName: text(link.idpName(flatbuffers.Encoding.UTF8_BYTES) as Uint8Array | null,
                    `${what}.idpName`),
      idpType: enumNumber(link.idpType(), `${what}.idpType`),
    });
  }
  return out;
}

function field(table: Table, spec: FieldSpec, what: string): unknown {
  const get = table[spec.name].bind(table);
  switch (spec.type) {
    case 'bool':
      return get() === true;
    case 'uint64':
      return get() as bigint;
    case 'string':
      return text(get(flatbuffers.Encoding.UTF8_BYTES) as Uint8Array | null, what);
    case 'duration':
      return duration(get() as FbDuration | null, what);
    case 'enum':
      return enumNumber(get(), what);
    case 'enumList': {
      const n = (table[spec.name + 'Length'].bind(table))() as number;
      if (n > MAX_LIST_LENGTH) throw new TypeError(`${what}: too long`);
      const out: number[] = [];
      for (let i = 0; i < n; ++i) out.push(enumNumber(get(i), what));
      return out;
    }
    case 'idpLinks':
      return links(table, spec, what);
  }
}

/** The value of `kind` read from its generated table object. */
export function kindPolicy<K extends GenericKind>(kind: K, table: object): KindPolicies[K] {
  const spec = KIND_SPECS[kind];
  const t = table as unknown as Table;
  const out: Record<string, unknown> = {
    details: details(t.details() as FbDetails | null, spec.cliName),
  };
  for (const f of spec.fields) out[f.name] = field(t, f, `${spec.cliName}.${f.name}`);
  return out as unknown as KindPolicies[K];
}

/** Every kind table in a PolicyResult (policy, the domain policy, is left to the caller). */
export function resultKinds(r: PolicyResult): Omit<KindPolicySet, 'policy'> {
  const out: Record<string, unknown> = {};
  for (const spec of Object.values(KIND_SPECS)) {
    const table = (r[spec.answerField] as () => object | null).call(r);
    out[spec.answerField] = table === null ? null : kindPolicy(spec.kind, table);
  }
  return out as unknown as Omit<KindPolicySet, 'policy'>;
}
