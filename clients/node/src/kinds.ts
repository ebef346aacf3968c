// Every policy kind policyd answers beyond the domain policy, as plain values, and the spec each
// is read and written by.
//
// One interface per kind, named like the upstream's zitadel.policy.v1 message, with its fields'
// JSON (lowerCamel) names: details, the message's fields, isDefault (true: the org inherits the
// instance default). Value types: uint64 fields are bigint, bools boolean, strings string ('' when
// unset), enums the generated enums (a number a newer daemon added is kept as that number), enum
// lists arrays of them in the upstream's order, google.protobuf.Duration fields a Duration
// (formatDuration() gives the upstream's JSON form, "864000s"), and the login policy's idps an
// array of IdpLink. kindPolicyJson() in kind-json.ts renders a policy byte for byte as the
// upstream and policyd do.
//
// Pure: no I/O.
import { IdpType } from './generated/policyd/fb/idp-type';
import { MultiFactorType } from './generated/policyd/fb/multi-factor-type';
import { PasswordlessType } from './generated/policyd/fb/passwordless-type';
import { PolicyKind } from './generated/policyd/fb/policy-kind';
import { SecondFactorType } from './generated/policyd/fb/second-factor-type';
import { ThemeMode } from './generated/policyd/fb/theme-mode';
import { Details, DomainPolicy } from './types';

// Which policy (DOMAIN, PASSWORD_COMPLEXITY, ...; the wire's numbers) and the policy messages'
// enums, generated from schemas/.
// IdpType is zitadel.idp.v1.IDPType: IDP_TYPE_UNSPECIFIED (0: any IdP but generic OIDC and JWT),
// IDP_TYPE_OIDC (1), IDP_TYPE_JWT (3); there is no 2.
export { IdpType, MultiFactorType, PasswordlessType, PolicyKind, SecondFactorType, ThemeMode };

/**
 * google.protobuf.Duration: seconds and nanos (-999,999,999..999,999,999) of the same sign.
 * formatDuration(d) is the upstream's JSON form ("864000s", "1.500s").
 */
export interface Duration {
  seconds: bigint;
  nanos: number;
}

/** zitadel.policy.v1.PasswordComplexityPolicy. minLength counts BYTES (0n: no minimum). */
export interface PasswordComplexityPolicy {
  details: Details;
  minLength: bigint;
  hasUppercase: boolean;
  hasLowercase: boolean;
  hasNumber: boolean;
  hasSymbol: boolean;
  isDefault: boolean;
}

/** zitadel.policy.v1.PasswordAgePolicy (days). */
export interface PasswordAgePolicy {
  details: Details;
  maxAgeDays: bigint;
  expireWarnDays: bigint;
  isDefault: boolean;
}

/** zitadel.policy.v1.LockoutPolicy (failed checks before the user is locked; 0n: never). */
export interface LockoutPolicy {
  details: Details;
  maxPasswordAttempts: bigint;
  maxOtpAttempts: bigint;
  isDefault: boolean;
}

/**
 * zitadel.idp.v1.IDPLoginPolicyLink: an identity provider a login policy offers. idpId is never
 * empty; idpName may be ('': the upstream allows unnamed Google, GitHub ... IdPs); idpType is an
 * IdpType, or the number a newer daemon added.
 */
export interface IdpLink {
  idpId: string;
  idpName: string;
  idpType: IdpType;
}

/**
 * zitadel.policy.v1.LoginPolicy. idps (declared after multiFactors, as upstream) are the IdPs
 * the policy offers, in the order they were added (empty: none).
 */
export interface LoginPolicy {
  details: Details;
  allowUsernamePassword: boolean;
  allowRegister: boolean;
  allowExternalIdp: boolean;
  forceMfa: boolean;
  passwordlessType: PasswordlessType;
  isDefault: boolean;
  hidePasswordReset: boolean;
  ignoreUnknownUsernames: boolean;
  defaultRedirectUri: string;
  passwordCheckLifetime: Duration;
  externalLoginCheckLifetime: Duration;
  mfaInitSkipLifetime: Duration;
  secondFactorCheckLifetime: Duration;
  multiFactorCheckLifetime: Duration;
  secondFactors: SecondFactorType[];
  multiFactors: MultiFactorType[];
  idps: IdpLink[];
  allowDomainDiscovery: boolean;
  disableLoginWithEmail: boolean;
  disableLoginWithPhone: boolean;
  forceMfaLocalOnly: boolean;
  useDefaultUriForNotificationLinks: boolean;
}

/** zitadel.policy.v1.PrivacyPolicy. */
export interface PrivacyPolicy {
  details: Details;
  tosLink: string;
  privacyLink: string;
  isDefault: boolean;
  helpLink: string;
  supportEmail: string;
  docsLink: string;
  customLink: string;
  customLinkText: string;
}

/** zitadel.policy.v1.NotificationPolicy. */
export interface NotificationPolicy {
  details: Details;
  isDefault: boolean;
  passwordChange: boolean;
}

/** zitadel.policy.v1.LabelPolicy: the active one; the *Url fields are the upstream's asset URLs. */
export interface LabelPolicy {
  details: Details;
  primaryColor: string;
  isDefault: boolean;
  hideLoginNameSuffix: boolean;
  warnColor: string;
  backgroundColor: string;
  fontColor: string;
  primaryColorDark: string;
  backgroundColorDark: string;
  warnColorDark: string;
  fontColorDark: string;
  disableWatermark: boolean;
  logoUrl: string;
  iconUrl: string;
  logoUrlDark: string;
  iconUrlDark: string;
  fontUrl: string;
  themeMode: ThemeMode;
}

/** The value type of each kind. */
export interface KindPolicies {
  [PolicyKind.DOMAIN]: DomainPolicy;
  [PolicyKind.PASSWORD_COMPLEXITY]: PasswordComplexityPolicy;
  [PolicyKind.PASSWORD_AGE]: PasswordAgePolicy;
  [PolicyKind.LOCKOUT]: LockoutPolicy;
  [PolicyKind.LOGIN]: LoginPolicy;
  [PolicyKind.PRIVACY]: PrivacyPolicy;
  [PolicyKind.NOTIFICATION]: NotificationPolicy;
  [PolicyKind.LABEL]: LabelPolicy;
}

/** A kind other than DOMAIN. */
export type GenericKind = Exclude<PolicyKind, PolicyKind.DOMAIN>;

/**
 * The policies a kinds call (getOrgKinds, getOrgsKinds, getDefaultKinds) answers, all read from
 * one consistent view of the daemon: policy (DOMAIN) and one field per other kind, null when not
 * asked for.
 */
export interface KindPolicySet {
  policy: DomainPolicy | null;
  passwordComplexity: PasswordComplexityPolicy | null;
  passwordAge: PasswordAgePolicy | null;
  lockout: LockoutPolicy | null;
  login: LoginPolicy | null;
  privacy: PrivacyPolicy | null;
  notification: NotificationPolicy | null;
  label: LabelPolicy | null;
}

export type FieldType =
    'bool' | 'uint64' | 'string' | 'duration' | 'enum' | 'enumList' | 'idpLinks';

export interface FieldSpec {
  name: string; // the JSON name, also the generated accessor's
  type: FieldType;
  // enum, enumList: the generated enum (number -> name); idpLinks: IdpType, the links' idpType
  names?: Record<number, string>;
}

export interface KindSpec {
  kind: GenericKind;
  cliName: string; // `policyctl get --kind` name: 'password-complexity'
  answerField: Exclude<keyof KindPolicySet, 'policy'>;
  // Whether the upstream's management GET response repeats isDefault at the top level.
  managementHasIsDefault: boolean;
  fields: FieldSpec[]; // the message's fields in declaration order, without details
}

const bool = (name: string): FieldSpec => ({ name, type: 'bool' });
const uint64 = (name: string): FieldSpec => ({ name, type: 'uint64' });
const string = (name: string): FieldSpec => ({ name, type: 'string' });
const duration = (name: string): FieldSpec => ({ name, type: 'duration' });
const enumOf = (name: string, names: Record<number, string>): FieldSpec =>
  ({ name, type: 'enum', names });
const listOf = (name: string, names: Record<number, string>): FieldSpec =>
  ({ name, type: 'enumList', names });
const idpLinks = (name: string): FieldSpec => ({ name, type: 'idpLinks', names: IdpType });
const isDefault = bool('isDefault');

/** The spec of every kind but DOMAIN, by kind (the C++ side's model/policy_kinds.cc). */
export const KIND_SPECS: Record<GenericKind, KindSpec> = {
  [PolicyKind.PASSWORD_COMPLEXITY]: {
    kind: PolicyKind.PASSWORD_COMPLEXITY, cliName: 'password-complexity',
    answerField: 'passwordComplexity', managementHasIsDefault: true,
    fields: [uint64('minLength'), bool('hasUppercase'), bool('hasLowercase'), bool('hasNumber'),
             bool('hasSymbol'), isDefault],
  },
  [PolicyKind.PASSWORD_AGE]: {
    kind: PolicyKind.PASSWORD_AGE, cliName: 'password-age', answerField: 'passwordAge',
    managementHasIsDefault: true,
    fields: [uint64('maxAgeDays'), uint64('expireWarnDays'), isDefault],
  },
  [PolicyKind.LOCKOUT]: {
    kind: PolicyKind.LOCKOUT, cliName: 'lockout', answerField: 'lockout',
    managementHasIsDefault: true,
    fields: [uint64('maxPasswordAttempts'), uint64('maxOtpAttempts'), isDefault],
  },
  [PolicyKind.LOGIN]: {
    kind: PolicyKind.LOGIN, cliName: 'login', answerField: 'login', managementHasIsDefault: true,
    fields: [
      bool('allowUsernamePassword'), bool('allowRegister'), bool('allowExternalIdp'),
      bool('forceMfa'), enumOf('passwordlessType', PasswordlessType), isDefault,
      bool('hidePasswordReset'), bool('ignoreUnknownUsernames'), string('defaultRedirectUri'),
      duration('passwordCheckLifetime'), duration('externalLoginCheckLifetime'),
      duration('mfaInitSkipLifetime'), duration('secondFactorCheckLifetime'),
      duration('multiFactorCheckLifetime'), listOf('secondFactors', SecondFactorType),
      listOf('multiFactors', MultiFactorType), idpLinks('idps'), bool('allowDomainDiscovery'),
      bool('disableLoginWithEmail'), bool('disableLoginWithPhone'), bool('forceMfaLocalOnly'),
      bool('useDefaultUriForNotificationLinks'),
    ],
  },
  [PolicyKind.PRIVACY]: {
    kind: PolicyKind.PRIVACY, cliName: 'privacy', answerField: 'privacy',
    managementHasIsDefault: false,
    fields: [string('tosLink'), string('privacyLink'), isDefault, string('helpLink'),
             string('supportEmail'), string('docsLink'), string('customLink'),
             string('customLinkText')],
  },
  [PolicyKind.NOTIFICATION]: {
    kind: PolicyKind.NOTIFICATION, cliName: 'notification', answerField: 'notification',
    managementHasIsDefault: false,
    fields: [isDefault, bool('passwordChange')],
  },
  [PolicyKind.LABEL]: {
    kind: PolicyKind.LABEL, cliName: 'label', answerField: 'label', managementHasIsDefault: true,
    fields: [
      string('primaryColor'), isDefault, bool('hideLoginNameSuffix'), string('warnColor'),
      string('backgroundColor'), string('fontColor'), string('primaryColorDark'),
      string('backgroundColorDark'), string('warnColorDark'), string('fontColorDark'),
      bool('disableWatermark'), string('logoUrl'), string('iconUrl'), string('logoUrlDark'),
      string('iconUrlDark'), string('fontUrl'), enumOf('themeMode', ThemeMode),
    ],
  },
};

/** The `policyctl get --kind` name of a kind ('domain', 'password-complexity', ...). */
export function kindName(kind: PolicyKind): string {
  return kind === PolicyKind.DOMAIN ? 'domain'
                                    : KIND_SPECS[kind as GenericKind]?.cliName ?? String(kind);
}

/** The KindPolicySet field of a kind. */
export function answerField(kind: PolicyKind): keyof KindPolicySet {
  return kind === PolicyKind.DOMAIN ? 'policy' : KIND_SPECS[kind as GenericKind].answerField;
}
