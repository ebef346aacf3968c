// ZITADEL's own TypeScript SDK (@zitadel/client's v1 management and admin clients and its v2
// settings client, over @connectrpc/connect-node's Connect transport) against the real policyd's
// --http-socket, as docs/connect.md tells users to point it: every policy read policyd serves,
// in JSON and in binary, for an org with its own policies, orgs on the defaults, an unknown org,
// and malformed requests. Every answer is compared deeply with the REST answer of the same daemon.
import * as assert from 'node:assert/strict';
import * as http from 'node:http';
import * as zlib from 'node:zlib';
import { after, before, describe, it } from 'node:test';

import { DescMessage, Message, toJson } from '@bufbuild/protobuf';
import { Code, ConnectError, Transport } from '@connectrpc/connect';
import { createConnectTransport } from '@connectrpc/connect-node';
import { createAdminServiceClient, createManagementServiceClient } from '@zitadel/client/v1';
import { createSettingsServiceClient, makeReqCtx } from '@zitadel/client/v2';
import { AdminService } from '@zitadel/proto/zitadel/admin_pb';
import { ManagementService } from '@zitadel/proto/zitadel/management_pb';
import { ErrorDetailSchema } from '@zitadel/proto/zitadel/message_pb';
import { GetDomainSettingsResponseSchema } from '@zitadel/proto/zitadel/settings/v2/settings_service_pb';

import { Daemon, snapshotPath } from './fixtures.js';

const ORG_OWN = '300000000000000042'; // own domain, password complexity, login (IdP links), label
const ORG_OWN_2 = '300000000000000233'; // own domain, lockout and privacy
const ORG_DEFAULT = '300000000000000107'; // every kind on the instance default
const ORG_UNKNOWN = '300000000000000999';
const ORGS = [ORG_OWN, ORG_OWN_2, ORG_DEFAULT];

/** Each kind's REST path under /admin/v1/policies/, /management/v1/policies/(default/). */
const KINDS: Record<string, string> = {
  PasswordComplexity: 'password/complexity',
  PasswordAge: 'password/age',
  Lockout: 'lockout',
  Login: 'login',
  Privacy: 'privacy',
  Notification: 'notification',
  Label: 'label',
};

interface Method {
  admin: boolean;
  name: string; // the SDK client's method: "getDomainPolicy"
  rest: (org: string) => string; // the REST GET path of the same read
  orgInRequest: boolean; // the admin's GetCustom*Policy: the org is the request's orgId
}

/** Every read policyd serves over Connect (src/connect/methods.cc), with its REST twin. */
function methods(): Method[] {
  const m = (admin: boolean, name: string, path: string): Method =>
    ({ admin, name, rest: () => path, orgInRequest: false });
  const out: Method[] = [
    m(false, 'getOrgIAMPolicy', '/management/v1/policies/orgiam'),
    m(false, 'getDomainPolicy', '/management/v1/policies/domain'),
    m(false, 'getPreviewLabelPolicy', '/management/v1/policies/label/_preview'),
    m(true, 'getOrgIAMPolicy', '/admin/v1/policies/orgiam'),
    m(true, 'getDomainPolicy', '/admin/v1/policies/domain'),
    m(true, 'getPreviewLabelPolicy', '/admin/v1/policies/label/_preview'),
  ];
  for (const what of ['OrgIAM', 'Domain']) {
    const path = what === 'OrgIAM' ? 'orgiam' : 'domain';
    out.push({ admin: true, name: `getCustom${what}Policy`, orgInRequest: true,
               rest: (org) => `/admin/v1/orgs/${org}/policies/${path}` });
  }
  for (const [kind, path] of Object.entries(KINDS)) {
    out.push(m(false, `get${kind}Policy`, `/management/v1/policies/${path}`));
    out.push(m(false, `getDefault${kind}Policy`, `/management/v1/policies/default/${path}`));
    out.push(m(true, `get${kind}Policy`, `/admin/v1/policies/${path}`));
  }
  return out;
}

interface Answer { status: number; type: string; body: string }

/** One HTTP/1.1 request on the unix socket: the REST reads, and raw Connect requests. */
function request(socketPath: string, method: string, path: string,
                 headers: Record<string, string>, body?: Buffer | string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath, method, path, headers, timeout: 10_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({
        status: res.statusCode ?? 0,
        type: String(res.headers['content-type']),
        body: Buffer.concat(chunks).toString(),
      }));
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error(`${method} ${path}: timed out`)));
    req.end(body);
  });
}

type Call = (req: object, options: { headers: Record<string, string> }) => Promise<Message>;

describe('ZITADEL SDK (@zitadel/client v1) over Connect on the --http-socket', () => {
  let daemon: Daemon;
  let socket: string;
  before(async () => {
    daemon = await Daemon.start(snapshotPath(), true);
    socket = daemon.httpSocket!;
  });
  after(async () => daemon.stop());

  const transport = (binary: boolean): Transport => createConnectTransport({
    baseUrl: 'http://localhost', httpVersion: '1.1', useBinaryFormat: binary,
    nodeOptions: { socketPath: socket },
  });

  /** The SDK's call of `method` for `org` and the schema of its answer. */
  function sdk(t: Transport, method: Method): { call: Call; output: DescMessage } {
    const client = method.admin ? createAdminServiceClient(t) : createManagementServiceClient(t);
    const service = method.admin ? AdminService : ManagementService;
    const call = (client as unknown as Record<string, Call>)[method.name];
    const desc = (service.method as Record<string, { output: DescMessage }>)[method.name];
    assert.ok(call !== undefined && desc !== undefined, `the SDK has ${method.name}`);
    return { call: call.bind(client), output: desc.output };
  }

  async function ask(t: Transport, method: Method, org: string): Promise<unknown> {
    const { call, output } = sdk(t, method);
    const answer = method.orgInRequest
      ? await call({ orgId: org }, { headers: {} })
      : await call({}, { headers: { 'x-zitadel-orgid': org } });
    return toJson(output, answer as never);
  }

  async function rest(method: Method, org: string): Promise<Answer> {
    return request(socket, 'GET', method.rest(org),
                   method.orgInRequest ? {} : { 'x-zitadel-orgid': org });
  }

  for (const binary of [false, true]) {
    const codec = binary ? 'binary (application/proto)' : 'JSON (application/json)';

    it(`answers every served read in ${codec} as the REST read does`, async () => {
      const t = transport(binary);
      let answers = 0;
      let errors = 0;
      for (const method of methods()) {
        for (const org of ORGS) {
          const what = `${method.admin ? 'admin' : 'management'}.${method.name} org ${org}`;
          const want = await rest(method, org);
          if (want.status === 200) {
            assert.deepEqual(await ask(t, method, org), JSON.parse(want.body), what);
            answers++;
            continue;
          }
          // The example snapshot carries no label previews: REST answers 503, so must Connect.
          const restError = JSON.parse(want.body) as { code: number; message: string };
          await assert.rejects(ask(t, method, org), (e: unknown) => {
            const error = ConnectError.from(e);
            assert.equal(error.code, restError.code, `${what}: ${error.message}`);
            assert.equal(error.rawMessage, restError.message, what);
            return true;
          });
          errors++;
        }
      }
      assert.equal(answers + errors, 29 * ORGS.length);
      assert.equal(errors, 2 * ORGS.length, 'only the two label preview reads have no data');
    });

    it(`tells an org's own policy from the default in ${codec}`, async () => {
      const t = transport(binary);
      const domain = methods().find((m) => !m.admin && m.name === 'getDomainPolicy')!;
      const own = await ask(t, domain, ORG_OWN) as { policy: Record<string, unknown> };
      const inherited = await ask(t, domain, ORG_DEFAULT) as { policy: Record<string, unknown> };
      assert.equal(own.policy.isDefault, undefined);
      assert.equal((own.policy.details as Record<string, string>).resourceOwner, ORG_OWN);
      assert.equal(inherited.policy.isDefault, true);
      const login = methods().find((m) => !m.admin && m.name === 'getLoginPolicy')!;
      const links = ((await ask(t, login, ORG_OWN)) as { policy: { idps?: unknown[] } }).policy.idps;
      assert.ok(links !== undefined && links.length > 0, 'the example org links IdPs');
    });

    it(`answers an unknown org permission_denied in ${codec}, as REST answers 403`, async () => {
      const t = transport(binary);
      const want = await request(socket, 'GET', '/management/v1/policies/domain',
                                 { 'x-zitadel-orgid': ORG_UNKNOWN });
      assert.equal(want.status, 403);
      const restError = JSON.parse(want.body) as { code: number; message: string };
      for (const method of methods().filter((m) => !m.admin)) {
        await assert.rejects(ask(t, method, ORG_UNKNOWN), (e: unknown) => {
          assert.ok(e instanceof Error && 'code' in e, `${method.name}: ${e}`);
          const error = ConnectError.from(e);
          assert.equal(error.code, Code.PermissionDenied, method.name);
          assert.equal(error.code, restError.code, method.name);
          assert.equal(error.rawMessage, restError.message, method.name);
          const [detail] = error.findDetails(ErrorDetailSchema);
          assert.equal(detail?.id, 'AUTH-Bs7Ds', method.name);
          assert.equal(detail?.message, "Organisation doesn't exist", method.name);
          return true;
        });
      }
      // The admin's custom reads answer an unknown org with the default (no error), as REST.
      const custom = methods().find((m) => m.admin && m.name === 'getCustomDomainPolicy')!;
      const rested = await rest(custom, ORG_UNKNOWN);
      assert.deepEqual(await ask(t, custom, ORG_UNKNOWN), JSON.parse(rested.body));
    });

    it(`refuses a request without an org as invalid_argument in ${codec}`, async () => {
      const t = transport(binary);
      const management = createManagementServiceClient(t);
      await assert.rejects(management.getDomainPolicy({}), (e: unknown) => {
        const error = ConnectError.from(e);
        assert.equal(error.code, Code.InvalidArgument);
        assert.match(error.rawMessage, /x-zitadel-orgid header missing/);
        return true;
      });
      const admin = createAdminServiceClient(t);
      await assert.rejects(admin.getCustomDomainPolicy({ orgId: '' }), (e: unknown) => {
        const error = ConnectError.from(e);
        assert.equal(error.code, Code.InvalidArgument);
        assert.match(error.rawMessage, /GetCustomDomainPolicyRequest\.OrgId/);
        return true;
      });
    });

    it(`answers the v2 getDomainSettings in ${codec} as GET /v2/settings/domain does`, async () => {
      const settings = createSettingsServiceClient(transport(binary));
      // The request context (the SDK's makeReqCtx: an org, or the instance) and the REST query
      // of the same read; ORG_UNKNOWN's ctx.orgId is not checked (the default), as REST.
      const cases: [string | undefined, string][] = [
        [ORG_OWN, `?ctx.orgId=${ORG_OWN}`],
        [ORG_DEFAULT, `?ctx.orgId=${ORG_DEFAULT}`],
        [ORG_UNKNOWN, `?ctx.orgId=${ORG_UNKNOWN}`],
        [undefined, '?ctx.instance=true'],
      ];
      const owners = new Set<unknown>();
      for (const [org, query] of cases) {
        const want = await request(socket, 'GET', `/v2/settings/domain${query}`, {});
        assert.equal(want.status, 200, `${query}: ${want.body}`);
        const answer = await settings.getDomainSettings({ ctx: makeReqCtx(org) });
        const got = toJson(GetDomainSettingsResponseSchema, answer) as
          { settings: { resourceOwnerType: unknown } };
        assert.deepEqual(got, JSON.parse(want.body), query);
        owners.add(got.settings.resourceOwnerType);
      }
      assert.equal(owners.size, 2, 'an org with its own domain policy and the instance default');
      // Without ctx the org is the x-zitadel-orgid header, as REST; an unknown one is 403.
      await assert.rejects(
        settings.getDomainSettings({}, { headers: { 'x-zitadel-orgid': ORG_UNKNOWN } }),
        (e: unknown) => {
          assert.equal(ConnectError.from(e).code, Code.PermissionDenied);
          return true;
        });
    });

    it(`answers a call policyd does not serve unimplemented in ${codec}`, async () => {
      const management = createManagementServiceClient(transport(binary));
      await assert.rejects(management.getMyOrg({}, { headers: { 'x-zitadel-orgid': ORG_OWN } }),
                           (e: unknown) => {
                             assert.equal(ConnectError.from(e).code, Code.Unimplemented);
                             return true;
                           });
    });
  }

  it('refuses malformed requests with the Connect error format', async () => {
    const path = '/zitadel.management.v1.ManagementService/GetDomainPolicy';
    const headers = (type: string) => ({ 'content-type': type, 'connect-protocol-version': '1',
                                         'x-zitadel-orgid': ORG_OWN });
    const cases: [string, Record<string, string>, Buffer | string, number, string][] = [
      ['POST', headers('application/json'), '{"a":', 400, 'invalid_argument'],
      ['POST', headers('application/json'), '', 400, 'invalid_argument'],
      ['POST', headers('application/proto'), Buffer.from([0x0a, 0x09]), 400, 'invalid_argument'],
      ['POST', headers('application/connect+json'), '{}', 415, 'unimplemented'],
      ['POST', headers('text/plain'), '{}', 415, 'unimplemented'],
      ['POST', { ...headers('application/json'), 'content-encoding': 'zstd' }, '{}', 501,
       'unimplemented'],
      ['POST', { ...headers('application/json'), 'connect-protocol-version': '2' }, '{}', 400,
       'invalid_argument'],
      ['GET', headers('application/json'), '', 405, 'unimplemented'],
    ];
    for (const [method, h, body, status, code] of cases) {
      const what = `${method} ${JSON.stringify(h)} ${JSON.stringify(body.toString())}`;
      const answer = await request(socket, method, path, h, body);
      assert.equal(answer.status, status, `${what}: ${answer.body}`);
      assert.equal(answer.type, 'application/json', what);
      const error = JSON.parse(answer.body) as { code: string; message: string };
      assert.equal(error.code, code, what);
      assert.ok(error.message.length > 0, what);
    }
    // gzip (and br) request bodies are read: the answer is the uncompressed REST answer.
    const gzipped = await request(socket, 'POST', path,
                                  { ...headers('application/json'), 'content-encoding': 'gzip' },
                                  zlib.gzipSync('{}'));
    const want = await request(socket, 'GET', '/management/v1/policies/domain',
                               { 'x-zitadel-orgid': ORG_OWN });
    assert.equal(gzipped.status, 200, gzipped.body);
    assert.equal(gzipped.body, want.body);
  });
});
