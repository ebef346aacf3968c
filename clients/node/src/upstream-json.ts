// The upstream's JSON for domain policies, byte for byte as policyd's policyctl writes it.
//
// Pure. Mirrors src/json/policy_json.cc and src/json/timestamp.cc: protojson field order
// (details, userLoginMustBeDomain, isDefault, validateOrgDomains,
// smtpSenderAddressMatchesInstanceDomain), false booleans and empty fields omitted, details always
// present, the uint64 sequence as a string, timestamps in RFC 3339 UTC with 0, 3, 6 or 9
// fractional digits.
import { Details, DomainPolicy, Timestamp } from './types';

const SECONDS_PER_DAY = 86_400;
const NANOS_PER_SECOND = 1_000_000_000;

// Howard Hinnant's civil_from_days, as in src/json/timestamp.cc (Math.floor replaces the sign
// correction of C++'s truncating division).
function civilFromDays(days: number): [number, number, number] {
  days += 719_468;
  const era = Math.floor(days / 146_097);
  const dayOfEra = days - era * 146_097;
  const yearOfEra = Math.floor(
    (dayOfEra - Math.floor(dayOfEra / 1460) + Math.floor(dayOfEra / 36_524) -
      Math.floor(dayOfEra / 146_096)) / 365);
  const dayOfYear =
    dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
  const mp = Math.floor((5 * dayOfYear + 2) / 153);
  const day = dayOfYear - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  return [yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day];
}

function pad(value: number, width: number): string {
  return String(value).padStart(width, '0');
}

/** RFC 3339 in UTC as protojson writes it: 2025-03-01T09:12:44.123456Z. */
export function formatTimestamp(ts: Timestamp): string {
  const nanos = Math.min(Math.max(ts.nanos, 0), NANOS_PER_SECOND - 1);
  const days = Math.floor(ts.seconds / SECONDS_PER_DAY);
  const secondOfDay = ts.seconds - days * SECONDS_PER_DAY;
  const [year, month, day] = civilFromDays(days);
  const yearText = year >= 0 && year <= 9999 ? pad(year, 4) : String(year);
  let fraction = '';
  if (nanos % 1_000_000 === 0) {
    fraction = nanos === 0 ? '' : '.' + pad(nanos / 1_000_000, 3);
  } else if (nanos % 1_000 === 0) {
    fraction = '.' + pad(nanos / 1_000, 6);
  } else {
    fraction = '.' + pad(nanos, 9);
  }
  return `${yearText}-${pad(month, 2)}-${pad(day, 2)}T${pad(Math.floor(secondOfDay / 3600), 2)}:` +
    `${pad(Math.floor(secondOfDay / 60) % 60, 2)}:${pad(secondOfDay % 60, 2)}${fraction}Z`;
}

function present(ts: Timestamp | null): ts is Timestamp {
  return ts !== null && (ts.seconds !== 0 || ts.nanos !== 0);
}

export function detailsJson(details: Details): string {
  const fields: string[] = [];
  if (details.sequence !== 0n) fields.push(`"sequence":"${details.sequence}"`);
  if (present(details.creationDate)) {
    fields.push(`"creationDate":"${formatTimestamp(details.creationDate)}"`);
  }
  if (present(details.changeDate)) {
    fields.push(`"changeDate":"${formatTimestamp(details.changeDate)}"`);
  }
  // JSON.stringify escapes exactly what policyd does: '"', '\\' and control characters
  // (\b \f \n \r \t, others as \u00xx); everything else is written as is.
  if (details.resourceOwner !== '') {
    fields.push(`"resourceOwner":${JSON.stringify(details.resourceOwner)}`);
  }
  return '{' + fields.join(',') + '}';
}

/** zitadel.policy.v1.DomainPolicy as the upstream's JSON. */
export function policyJson(policy: DomainPolicy): string {
  let out = '{"details":' + detailsJson(policy.details);
  if (policy.userLoginMustBeDomain) out += ',"userLoginMustBeDomain":true';
  if (policy.isDefault) out += ',"isDefault":true';
  if (policy.validateOrgDomains) out += ',"validateOrgDomains":true';
  if (policy.smtpSenderAddressMatchesInstanceDomain) {
    out += ',"smtpSenderAddressMatchesInstanceDomain":true';
  }
  return out + '}';
}

/**
 * What `policyctl get` prints (without its newline): the upstream's GET .../policies/domain
 * response, {"policy":{...}}.
 */
export function upstreamJson(answer: { policy: DomainPolicy }): string {
  return '{"policy":' + policyJson(answer.policy) + '}';
}
