// A promise-based policyd client over the daemon's unix socket.
//
//   const client = await PolicydClient.connect('/run/policyd/policyd.sock');
//   const answer = await client.getOrgPolicy('300000000000000042');
//   if (answer.policy.userLoginMustBeDomain) { ... }
//
// One client is one connection. Calls may overlap: each request is written at once with a fresh
// id (pipelining) and resolved by the answer carrying that id, so many lookups share one socket.
// Each call has its own timeout from when it was sent. A call the daemon fails (NOT_FOUND,
// INVALID_ARGUMENT, ...) rejects with its PolicydError and the connection stays open. A timeout,
// a lost connection or an undecodable answer closes the connection: the call rejects with
// DEADLINE_EXCEEDED, UNAVAILABLE or INTERNAL, every other pending call with UNAVAILABLE, and
// every later call with UNAVAILABLE; connect again.
//
// The socket does not keep Node's event loop alive by itself; pending calls do (the call timer).
import * as net from 'net';

import {
  DecodedResponse, encodeCheck, encodeCheckBatch, encodeGetDefaultPolicy, encodeGetOrgPolicies,
  encodeGetOrgPolicy, encodeGetStatus, FRAME_HEADER_BYTES, MIN_FRAME_BYTES,
} from './messages';
import { encodeGetOrgPolicyFast } from './fast-wire';
import { answerField, kindName, PolicyKind } from './kinds';
import {
  BatchEntry, CheckAnswer, CheckEntry, CheckKind, CheckRequest, Code, KindsAnswer,
  KindsBatchEntry, PasswordCheckAnswer, PolicyAnswer, PolicydError, ServerStatus,
} from './types';

export const DEFAULT_SOCKET = '/run/policyd/policyd.sock';

export interface ClientOptions {
  /** Per call (and for connecting), in milliseconds. Default 5000. */
  timeoutMs?: number;
  /** Largest answer accepted. Default 16 MiB. */
  maxResponseBytes?: number;
}

export interface LookupOptions {
  /** An unknown org is NOT_FOUND instead of getting the instance default (orgKnown false). */
  strict?: boolean;
}

interface Pending {
  decode: (response: DecodedResponse) => unknown;
  resolve: (value: unknown) => void;
  reject: (error: PolicydError) => void;
  deadline: number; // performance.now() when the call times out
}

export class PolicydClient {
  // In the order sent (a Map iterates in insertion order): the first is the oldest.
  private readonly pendingCalls = new Map<number, Pending>();
  private lastId = 0;
  // One timer for every pending call, due when the oldest is (see armTimer()): a timer per call
  // cost more than the rest of a lookup at many calls in flight. Referenced (keeping the event
  // loop alive) only while calls are pending.
  private timer: NodeJS.Timeout | null = null;
  private input: Buffer = Buffer.alloc(0);
  private closedBy: PolicydError | null = null;
  // True while the socket is corked for this turn of the event loop (see call()).
  private corked = false;

  private constructor(private readonly socket: net.Socket, private readonly timeoutMs: number,
                      private readonly maxResponseBytes: number) {
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (e: Error) => {
      this.fail(new PolicydError(Code.UNAVAILABLE, `connection to policyd: ${e.message}`));
    });
    socket.on('close', () => {
      this.fail(new PolicydError(Code.UNAVAILABLE, 'policyd closed the connection'));
    });
    socket.unref();
  }

  /**
   * Connects. Rejects with UNAVAILABLE when policyd cannot be reached, DEADLINE_EXCEEDED when
   * connecting takes longer than the timeout.
   */
  static connect(socketPath: string = DEFAULT_SOCKET,
                 options: ClientOptions = {}): Promise<PolicydClient> {
    const timeoutMs = options.timeoutMs ?? 5000;
    const maxResponseBytes = options.maxResponseBytes ?? 16 << 20;
    return new Promise((resolve, reject) => {
      const socket = net.createConnection(socketPath);
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new PolicydError(
            Code.DEADLINE_EXCEEDED,
            `cannot connect to policyd at ${socketPath} within ${timeoutMs} ms`));
      }, timeoutMs);
      const onError = (e: Error) => {
        clearTimeout(timer);
        reject(new PolicydError(Code.UNAVAILABLE,
                                `cannot connect to policyd at ${socketPath}: ${e.message}`));
      };
      socket.once('error', onError);
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.removeListener('error', onError);
        resolve(new PolicydClient(socket, timeoutMs, maxResponseBytes));
      });
    });
  }

  /** Calls sent and not yet answered. */
  get pending(): number {
    return this.pendingCalls.size;
  }

  /** False once the connection is closed (close(), a timeout or a transport failure). */
  get connected(): boolean {
    return this.closedBy === null;
  }

  /** Closes the connection; pending calls reject with UNAVAILABLE. */
  close(): void {
    this.fail(new PolicydError(Code.UNAVAILABLE, 'the client was closed'));
  }

  // ---- Requests: one method per request kind in schemas/request.fbs ----

  /** The effective policy of one org. */
  getOrgPolicy(orgId: string, options: LookupOptions = {}): Promise<PolicyAnswer> {
    const strict = options.strict ?? false;
    return this.call((id) => encodeGetOrgPolicyFast(id, orgId, strict), answer);
  }

  /**
   * Many orgs (1..1024) in one round trip, in request order. Each entry has its own outcome
   * (e.g. NOT_FOUND when strict): `entry.ok ? entry.policy : entry.error`.
   */
  getOrgPolicies(orgIds: readonly string[], options: LookupOptions = {}): Promise<BatchEntry[]> {
    const ids = [...orgIds];
    return this.call((id) => encodeGetOrgPolicies(BigInt(id), ids, options.strict ?? false),
                     (r) => r.answers(ids.length));
  }

  /** The instance default (orgId null, policy.isDefault true). */
  getDefaultPolicy(): Promise<PolicyAnswer> {
    return this.call((id) => encodeGetDefaultPolicy(BigInt(id)), answer);
  }

  // Several policy kinds in one round trip, all read from one consistent view of the daemon.
  // `kinds` lists PolicyKind values (order and repeats do not matter); the answer's policy
  // (DOMAIN), passwordComplexity, passwordAge, lockout, login, privacy, notification and label
  // hold the kinds asked for, each with isDefault, and null for the others; kindsAnswerJson()
  // renders one as the upstream's GET body. No kinds, or a number that is no kind, rejects with
  // INVALID_ARGUMENT and sends nothing. A successful answer that lacks a kind asked for rejects
  // with UNIMPLEMENTED: a daemon older than policy kinds answers the domain policy alone.

  /**
   * The effective policies of `kinds` for one org: its own, else the instance default (isDefault
   * true). An unknown org gets the instance defaults with orgKnown false; with `strict` the call
   * rejects with NOT_FOUND.
   */
  getOrgKinds(orgId: string, kinds: readonly PolicyKind[],
              options: LookupOptions = {}): Promise<KindsAnswer> {
    return this.kindsCall(kinds, (wanted) => this.call(
        (id) => encodeGetOrgPolicy(BigInt(id), orgId, options.strict ?? false, wanted),
        (r) => answeredAll(r.kindsAnswer(), wanted)));
  }

  /**
   * Many orgs (1..1024), the same kinds for each, in one round trip, in request order. Each entry
   * has its own outcome (e.g. NOT_FOUND when strict): `entry.ok ? entry.login : entry.error`.
   */
  getOrgsKinds(orgIds: readonly string[], kinds: readonly PolicyKind[],
               options: LookupOptions = {}): Promise<KindsBatchEntry[]> {
    const ids = [...orgIds];
    return this.kindsCall(kinds, (wanted) => this.call(
        (id) => encodeGetOrgPolicies(BigInt(id), ids, options.strict ?? false, wanted),
        (r) => r.kindsAnswers(ids.length).map((e) => (e.ok ? answeredAll(e, wanted) : e))));
  }

  /** The instance defaults of `kinds` (orgId null, each isDefault true). */
  getDefaultKinds(kinds: readonly PolicyKind[]): Promise<KindsAnswer> {
    return this.kindsCall(kinds, (wanted) => this.call(
        (id) => encodeGetDefaultPolicy(BigInt(id), wanted),
        (r) => answeredAll(r.kindsAnswer(), wanted)));
  }

  // Local policy checks (README "Checks"), each one round trip. A value that is no login name,
  // address or domain is answered (allowed false, an INVALID_* reason), not rejected.

  /**
   * May a user of the org log in with `loginName`? With userLoginMustBeDomain it must be
   * username@<a verified domain of the org>; without it, it is the username itself. An unknown org
   * is decided on the instance default; with `strict` the call rejects with NOT_FOUND.
   */
  checkLoginName(orgId: string, loginName: string,
                 options: LookupOptions = {}): Promise<CheckAnswer> {
    return this.check({ kind: CheckKind.LOGIN_NAME, orgId, value: loginName,
                        strict: options.strict });
  }

  /** May `address` be the instance's SMTP sender (the instance policy and domains decide)? */
  checkSmtpSender(address: string): Promise<CheckAnswer> {
    return this.check({ kind: CheckKind.SMTP_SENDER, value: address });
  }

  /**
   * Is `domain` verified for the org without a challenge? Refused when adding it needs
   * verification (validateOrgDomains) or the org has it unverified; domainOnOrg and
   * domainVerified say whether the org already has it.
   */
  checkDomainVerification(orgId: string, domain: string,
                          options: LookupOptions = {}): Promise<CheckAnswer> {
    return this.check({ kind: CheckKind.DOMAIN_VERIFICATION, orgId, value: domain,
                        strict: options.strict });
  }

  /**
   * Does `password` satisfy the org's effective password complexity policy (the upstream's
   * PasswordComplexityPolicy.Check)? The answer has allowed, reason (PASSWORD_*), errorId and
   * message of the first failing rule, and passwordComplexity, the policy used (isDefault: the
   * instance default). The password is only sent: never logged, kept or in an error; the frame
   * holding it is zeroed once written (README "Clients" says what a JS string cannot guarantee;
   * pass a Uint8Array and zero it yourself to keep the copies down to what this client wipes).
   */
  async checkPassword(orgId: string, password: string | Uint8Array,
                      options: LookupOptions = {}): Promise<PasswordCheckAnswer> {
    const answer = await this.check({ kind: CheckKind.PASSWORD, orgId, value: password,
                                      strict: options.strict });
    if (answer.passwordComplexity === null) {
      throw new PolicydError(Code.INTERNAL, 'policyd answered a password check without a policy');
    }
    return answer as PasswordCheckAnswer;
  }

  /** Any one check; rejects with the daemon's errors (INVALID_ARGUMENT, NOT_FOUND, ...). */
  check(request: CheckRequest): Promise<CheckAnswer> {
    const c = { ...request };
    return this.call((id) => encodeCheck(BigInt(id), c), (r) => r.check(), true);
  }

  /**
   * 1..1024 checks in one round trip, in request order. Each entry has its own outcome (a bad org
   * id, NOT_FOUND when strict): `entry.ok ? entry.allowed : entry.error`.
   */
  checkBatch(requests: readonly CheckRequest[]): Promise<CheckEntry[]> {
    const checks = requests.map((c) => ({ ...c }));
    return this.call((id) => encodeCheckBatch(BigInt(id), checks), (r) => r.checks(checks.length),
                     true);
  }

  /** The daemon's store and sync state. */
  getStatus(): Promise<ServerStatus> {
    return this.call((id) => encodeGetStatus(BigInt(id)), (r) => r.status());
  }

  // ---- Transport ----

  // Sends one request. `secret`: the frame may hold a password (checks), zeroed once written.
  private call<T>(encode: (id: number) => Buffer, decode: (response: DecodedResponse) => T,
                  secret = false): Promise<T> {
    if (this.closedBy !== null) {
      return Promise.reject(new PolicydError(
          Code.UNAVAILABLE, `the connection to policyd is closed (${this.closedBy.message})`));
    }
    const id = ++this.lastId;
    const frame = encode(id);
    return new Promise<T>((resolve, reject) => {
      const settle = resolve as (value: unknown) => void;
      const alone = this.pendingCalls.size === 0;
      this.pendingCalls.set(id, { decode, resolve: settle, reject,
                                  deadline: performance.now() + this.timeoutMs });
      if (alone) this.armTimer();
      // Calls made while others are in flight (Promise.all, many callers) go out in one writev at
      // the end of this turn of the event loop rather than one write(2) each, which cost most of
      // the client's CPU at 64 calls in flight (docs/clients-node.md); a call alone goes at once.
      if (!alone && !this.corked) {
        this.corked = true;
        this.socket.cork();
        process.nextTick(() => {
          this.corked = false;
          this.socket.uncork();
        });
      }
      if (secret) {
        this.socket.write(frame, () => frame.fill(0));
      } else {
        this.socket.write(frame);
      }
    });
  }

  // With calls pending: makes sure the timer is referenced and will fire by the oldest call's
  // deadline. Later calls have later deadlines, so the timer only moves when it fires.
  private armTimer(): void {
    if (this.timer !== null) {
      this.timer.ref();
      return;
    }
    this.timer = setTimeout(() => this.onTimer(), this.timeoutMs);
  }

  // Fails the oldest call if it is past its deadline, else waits for that deadline; with no call
  // pending, the timer ends.
  private onTimer(): void {
    this.timer = null;
    const oldest = this.pendingCalls.entries().next();
    if (oldest.done === true) return;
    const [id, call] = oldest.value;
    const left = call.deadline - performance.now();
    if (left > 0) {
      this.timer = setTimeout(() => this.onTimer(), Math.ceil(left));
      return;
    }
    this.onTimeout(id);
  }

  // Checks `kinds` (each once, in number order, as policyd's C++ client sends them) and runs
  // `send` with them; rejects with INVALID_ARGUMENT without sending for none or a non-kind.
  private kindsCall<T>(kinds: readonly PolicyKind[],
                       send: (wanted: PolicyKind[]) => Promise<T>): Promise<T> {
    const wanted = [...new Set(kinds)].sort((a, b) => a - b);
    const bad = wanted.find((k) => !Number.isInteger(k) || PolicyKind[k] === undefined);
    if (wanted.length === 0 || bad !== undefined) {
      return Promise.reject(new PolicydError(
          Code.INVALID_ARGUMENT,
          bad === undefined ? 'no policy kind asked for' : `${bad} is no policy kind`));
    }
    return send(wanted);
  }

  private onTimeout(id: number): void {
    const call = this.pendingCalls.get(id);
    if (call === undefined) return;
    this.pendingCalls.delete(id);
    call.reject(new PolicydError(Code.DEADLINE_EXCEEDED,
                                 `no answer from policyd within ${this.timeoutMs} ms`));
    // Answers come in request order, so everything sent later is stuck behind this one.
    this.fail(new PolicydError(Code.UNAVAILABLE,
                               `closed: request ${id} got no answer within ${this.timeoutMs} ms`));
  }

  private onData(chunk: Buffer): void {
    this.input = this.input.length === 0 ? chunk : Buffer.concat([this.input, chunk]);
    while (this.closedBy === null && this.input.length >= FRAME_HEADER_BYTES) {
      const length = this.input.readUInt32LE(0);
      if (length < MIN_FRAME_BYTES || length > this.maxResponseBytes) {
        this.fail(new PolicydError(Code.INTERNAL, `bad frame from policyd: length ${length}`));
        return;
      }
      if (this.input.length < FRAME_HEADER_BYTES + length) return;
      const payload = this.input.subarray(FRAME_HEADER_BYTES, FRAME_HEADER_BYTES + length);
      this.input = this.input.subarray(FRAME_HEADER_BYTES + length);
      this.onFrame(payload);
    }
  }

  private onFrame(payload: Uint8Array): void {
    let response: DecodedResponse;
    try {
      response = new DecodedResponse(payload);
    } catch (e) {
      this.fail(undecodable(e));
      return;
    }
    const id = Number(response.id);
    const call = this.pendingCalls.get(id);
    if (call === undefined) {
      // Id 0 with an error: a connection-level refusal (connection limit, peer not allowed) or a
      // framing error, answered before the daemon could read a request id.
      this.fail(response.id === 0n && response.error !== null
                    ? response.error
                    : new PolicydError(
                          Code.INTERNAL,
                          `policyd answered request ${response.id}, which is not pending`));
      return;
    }
    this.pendingCalls.delete(id);
    if (this.pendingCalls.size === 0) this.timer?.unref();
    if (response.error !== null) {
      call.reject(response.error);
      return;
    }
    let value: unknown;
    try {
      value = call.decode(response);
    } catch (e) {
      if (e instanceof PolicydError) {
        call.reject(e);  // an error inside the answer, e.g. a PolicyResult's own error
        return;
      }
      const error = undecodable(e);
      call.reject(error);
      this.fail(error);
      return;
    }
    call.resolve(value);
  }

  // Closes the connection and rejects every pending call with `error`. Idempotent.
  private fail(error: PolicydError): void {
    if (this.closedBy !== null) return;
    this.closedBy = error;
    this.socket.destroy();
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    const calls = [...this.pendingCalls.values()];
    this.pendingCalls.clear();
    for (const call of calls) call.reject(error);
  }
}

// A daemon older than policy kinds ignores `kinds` and answers the domain policy alone.
function answeredAll<T extends KindsAnswer>(answer: T, kinds: readonly PolicyKind[]): T {
  for (const kind of kinds) {
    if (answer[answerField(kind)] === null) {
      throw new PolicydError(Code.UNIMPLEMENTED, `policyd did not answer policy kind ` +
                                                     `${kindName(kind)} (a daemon older than ` +
                                                     `policy kinds?)`);
    }
  }
  return answer;
}

function answer(response: DecodedResponse): PolicyAnswer {
  return response.answer();
}

function undecodable(e: unknown): PolicydError {
  return new PolicydError(Code.INTERNAL,
                          `undecodable answer from policyd: ${e instanceof Error ? e.message : e}`);
}
