// The upstream's JSON for the policy kinds beyond the domain policy, byte for byte as policyd
// writes it (src/json/kind_json.cc).
//
// Pure. protojson as the upstream's gateway writes it: compact, details first, then the fields in
// declaration order with isDefault at its place; false, 0, '' and empty lists omitted; uint64 as
// decimal strings; enums by name (an enum number this client does not know is omitted, and written
// as "" inside a list, as policyd does); durations always written ("864000s", "1.500s"); the login
// policy's idps as [{"idpId":"…","idpName":"…","idpType":"IDP_TYPE_OIDC"}], idpName left out when
// empty and idpType when 0 or a number this client does not know.
import {
  answerField, Duration, FieldSpec, GenericKind, IdpLink, KIND_SPECS, KindPolicies, KindPolicySet,
  PolicyKind,
} from './kinds';
import { detailsJson, policyJson } from './upstream-json';

const NANOS_PER_SECOND = 1_000_000_000n;

/**
 * A google.protobuf.Duration as protojson writes it: "864000s", "1.500s", "-0.000000001s" (the
 * fraction has 0, 3, 6 or 9 digits).
 */
export function formatDuration(d: Duration): string {
  let nanos = d.seconds * NANOS_PER_SECOND + BigInt(d.nanos);
  const sign = nanos < 0n ? '-' : '';
  if (nanos < 0n) nanos = -nanos;
  const seconds = nanos / NANOS_PER_SECOND;
  let fraction = nanos % NANOS_PER_SECOND;
  if (fraction === 0n) return `${sign}${seconds}s`;
  let digits = 9;
  while (digits > 3 && fraction % 1000n === 0n) {
    fraction /= 1000n;
    digits -= 3;
  }
  return `${sign}${seconds}.${String(fraction).padStart(digits, '0')}s`;
}

function enumName(spec: FieldSpec, value: number): string | undefined {
  // The generated enums also map names to numbers: only a number's own name counts.
  const name = spec.names?.[value];
  return typeof name === 'string' ? name : undefined;
}

function linkJson(spec: FieldSpec, link: IdpLink): string {
  let out = '{"idpId":' + JSON.stringify(link.idpId);
  if (link.idpName !== '') out += ',"idpName":' + JSON.stringify(link.idpName);
  const type = link.idpType !== 0 ? enumName(spec, link.idpType) : undefined;
  if (type !== undefined) out += `,"idpType":"${type}"`;
  return out + '}';
}

function fieldJson(spec: FieldSpec, value: unknown): string {
  const key = `,"${spec.name}":`;
  switch (spec.type) {
    case 'bool':
      return value ? key + 'true' : '';
    case 'uint64':
      return value !== 0n ? `${key}"${value}"` : '';
    case 'string':
      // JSON.stringify escapes exactly what policyd does (see upstream-json.ts).
      return value !== '' ? key + JSON.stringify(value) : '';
    case 'duration':
      return `${key}"${formatDuration(value as Duration)}"`;
    case 'enum': {
      const name = value !== 0 ? enumName(spec, value as number) : undefined;
      return name !== undefined ? `${key}"${name}"` : '';
    }
    case 'enumList': {
      const list = value as number[];
      if (list.length === 0) return '';
      return key + '[' + list.map((n) => `"${enumName(spec, n) ?? ''}"`).join(',') + ']';
    }
    case 'idpLinks': {
      const links = value as IdpLink[];
      if (links.length === 0) return '';
      return key + '[' + links.map((link) => linkJson(spec, link)).join(',') + ']';
    }
  }
}

/** The policy object of `kind` as the upstream's JSON. */
export function kindPolicyJson<K extends PolicyKind>(kind: K, policy: KindPolicies[K]): string {
  if (kind === PolicyKind.DOMAIN) return policyJson(policy as KindPolicies[PolicyKind.DOMAIN]);
  const values = policy as unknown as Record<string, unknown>;
  let out = '{"details":' + detailsJson(policy.details);
  for (const spec of KIND_SPECS[kind as GenericKind].fields) {
    out += fieldJson(spec, values[spec.name]);
  }
  return out + '}';
}

/**
 * The body of the upstream's GET of `kind`, {"policy":{...}}: the management API's (an org's
 * effective policy; with the deprecated top-level isDefault after it where that response has it)
 * or the admin API's (the instance default).
 */
export function kindGetResponseJson<K extends PolicyKind>(kind: K, policy: KindPolicies[K],
                                                          management: boolean): string {
  let out = '{"policy":' + kindPolicyJson(kind, policy);
  if (management && policy.isDefault && kind !== PolicyKind.DOMAIN &&
      KIND_SPECS[kind as GenericKind].managementHasIsDefault) {
    out += ',"isDefault":true';
  }
  return out + '}';
}

/**
 * The upstream's GET body of `kind` from a kinds answer: the management API's for an org, the
 * admin API's for the instance default (orgId null). Throws a TypeError when the answer does not
 * hold the kind (it was not asked for).
 */
export function kindsAnswerJson(answer: { orgId: string | null } & KindPolicySet,
                                kind: PolicyKind): string {
  const policy = answer[answerField(kind)];
  if (policy === null || policy === undefined) {
    throw new TypeError(`the answer holds no ${PolicyKind[kind] ?? kind} policy`);
  }
  return kindGetResponseJson(kind, policy as KindPolicies[PolicyKind], answer.orgId !== null);
}
