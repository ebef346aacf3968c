// ConnectApi: the upstream's (ZITADEL's) v1 ManagementService and AdminService policy reads and
// the v2 SettingsService's GetDomainSettings as Connect unary calls on the HTTP socket, which is
// what ZITADEL's TypeScript SDK (@zitadel/client, over @connectrpc/connect-node's
// createConnectTransport) calls:
//
//   POST /zitadel.management.v1.ManagementService/GetDomainPolicy
//   Content-Type: application/json (body "{}")  or  application/proto (binary, empty body)
//   x-zitadel-orgid: 300000000000000042
//
// Each method (connect/methods.h) is answered by the REST read of the same data, called
// in-process with the request's org (x-zitadel-orgid, or the request's org_id for the admin's
// GetCustom*Policy, or GetDomainSettings' ctx as the query ctx.orgId= / ctx.instance=): the JSON
// answer is the REST body byte for byte, the binary answer the same values in the upstream's
// message (connect/codec.h), and a REST error becomes the Connect error with the same code and
// message (an unknown org in x-zitadel-orgid: permission_denied, 403, with the
// zitadel.v1.ErrorDetail "AUTH-Bs7Ds"). Stale answers keep x-policyd-stale.
//
// What the Connect protocol itself refuses (connect/protocol.h), on the three services' paths:
//   * another method name of the service: 404 unimplemented;
//   * a Content-Type other than application/json or application/proto (the streaming forms,
//     gRPC, gRPC-Web, anything else): 415 unimplemented, with Accept-Post naming the two;
//   * a request compressed other than with gzip or br (Content-Encoding), a
//     Connect-Protocol-Version other than 1, a bad Connect-Timeout-Ms: unimplemented /
//     invalid_argument (CheckRequestHeaders);
//   * a body that is not the request message: 400 invalid_argument;
//   * GET (Connect's GET form is for methods declared side-effect free; the upstream's are not)
//     and every other HTTP method: 405 unimplemented with Allow: POST.
// Paths of other services are the Router's 404, which Connect clients read as unimplemented.
//
// Thread-safety: the handlers run on any number of threads at once, as the REST handlers they
// call. The REST routes' owners must outlive the Router.
#pragma once

#include "base/status.h"
#include "connect/methods.h"
#include "connect/protocol.h"
#include "http/router.h"

namespace policyd::connect {

class ConnectApi {
 public:
  // Adds the routes above to `router`, which must already have the REST reads each method is
  // answered by (http::CompatApi and http::KindApi added). FAILED_PRECONDITION naming the first
  // missing one otherwise, or when the generated messages lack a method (nothing added then).
  static Status AddRoutes(http::Router& router);

  // The answer to the Connect call `request` of `spec`, answered by the REST read `rest`.
  static http::HttpResponse Call(const MethodSpec& spec, const http::Handler& rest,
                                 const http::HttpRequest& request);

  // The answer to a Connect error.
  static http::HttpResponse ErrorResponse(const Error& error);
};

}  // namespace policyd::connect
