// policyd client for Node.js: ask the local policyd daemon for ZITADEL policies over its unix
// socket. The FlatBuffers code in generated/ comes from schemas/ via scripts/gen-clients.sh;
// do not edit it.
export { ClientOptions, DEFAULT_SOCKET, LookupOptions, PolicydClient } from './client';
export {
  BatchEntry, CheckAnswer, CheckEntry, CheckKind, CheckReason, CheckRequest, Code, Details,
  DomainPolicy, FleetConnection, FleetPublisher, FleetRole, FleetStatus, Health, KindsAnswer,
  KindsBatchEntry, PasswordCheckAnswer, PolicyAnswer, PolicydError, ServerStatus, Timestamp,
} from './types';
export {
  Duration, GenericKind, IdpLink, IdpType, KIND_SPECS, KindPolicies, KindPolicySet, LabelPolicy,
  LockoutPolicy, LoginPolicy, MultiFactorType, NotificationPolicy, PasswordAgePolicy,
  PasswordComplexityPolicy, PasswordlessType, PolicyKind, PrivacyPolicy, SecondFactorType,
  ThemeMode, kindName,
} from './kinds';
export { formatDuration, kindGetResponseJson, kindPolicyJson, kindsAnswerJson } from './kind-json';
export { formatTimestamp, policyJson, upstreamJson } from './upstream-json';
