// policyd client for Node.js: ask the local policyd daemon for ZITADEL domain policies over its
// unix socket. The FlatBuffers code in generated/ comes from schemas/ via scripts/gen-clients.sh;
// do not edit it.
export { ClientOptions, DEFAULT_SOCKET, LookupOptions, PolicydClient } from './client';
export {
  BatchEntry, CheckAnswer, CheckEntry, CheckKind, CheckReason, CheckRequest, Code, Details,
  DomainPolicy, FleetConnection, FleetPublisher, FleetRole, FleetStatus, Health, PolicyAnswer,
  PolicydError, ServerStatus, Timestamp,
} from './types';
export { formatTimestamp, policyJson, upstreamJson } from './upstream-json';
