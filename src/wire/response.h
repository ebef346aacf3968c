// Responses on the wire: encoding (server side) and decoding (client side).
//
// ResponseEncoder reuses one FlatBufferBuilder, so after warm-up encoding does not allocate.
// Not thread-safe: use one encoder per connection / thread. Decoding is pure and thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "check/check.h"
#include "model/domain_policy.h"
#include "model/policy_kinds.h"
#include "model/store_state.h"
#include "resolve/resolve.h"

namespace policyd {

// One generic kind's effective policy as the server answers it (resolve/resolve.h): `policy`
// (null: not asked; else must pass CheckKindPolicy) points into the caller's data (e.g. the
// store's read batch) and is only read while encoding: nothing is copied.
using KindAnswer = KindResolution;

// What one PolicyResult answers beyond org_id/org_known: the domain policy or not, and the
// generic kinds asked (request.h RequestView::kinds()).
struct KindAnswers {
  bool domain = true;  // write the domain policy (Resolution::policy / the default policy)
  // Indexed by kind number; [kDomain] is unused. kinds[k].policy->kind must be k.
  std::array<KindAnswer, kPolicyKindCount> kinds{};
};

// One org's answer: either a resolution or a per-org error.
struct OrgAnswer {
  std::string_view org_id;
  const Resolution* resolution = nullptr;  // set on success
  const Status* error = nullptr;           // set on failure
  // Set on success when the request named kinds; null: the domain policy only (as before kinds).
  const KindAnswers* kinds = nullptr;
};

// One check's answer (server side): either a decision, with the policy it was made from, or a
// per-check error.
struct CheckResultView {
  CheckKind kind = CheckKind::kUnspecified;
  std::string_view org_id;  // empty for SMTP_SENDER
  bool org_known = false;
  const DomainPolicy* policy = nullptr;     // set with decision
  const CheckDecision* decision = nullptr;  // set on success
  const Status* error = nullptr;            // set on failure
  // PASSWORD: the effective password complexity policy the decision used (instead of `policy`,
  // which is then null), whether it is the instance default, and the failing rule's upstream
  // error id (empty when allowed). The decision's reason and message come from
  // check/password.h (PasswordCheckReason, PasswordVerdict::message); never the password.
  const KindPolicy* password_policy = nullptr;
  bool password_is_default = false;
  std::string_view error_id{};
};

class ResponseEncoder {
 public:
  ResponseEncoder();
  ~ResponseEncoder();
  ResponseEncoder(const ResponseEncoder&) = delete;
  ResponseEncoder& operator=(const ResponseEncoder&) = delete;

  // Each call appends one complete frame (length prefix included) to `out`.
  void AppendOrgPolicy(std::vector<std::uint8_t>& out, std::uint64_t id, std::string_view org_id,
                       const Resolution& resolution, bool stale);
  void AppendDefaultPolicy(std::vector<std::uint8_t>& out, std::uint64_t id,
                           const DomainPolicy& policy, bool stale);
  void AppendBatch(std::vector<std::uint8_t>& out, std::uint64_t id,
                   std::span<const OrgAnswer> answers, bool stale);
  // A GetOrgPolicy / GetDefaultPolicy that named kinds: the domain policy when kinds.domain, and
  // each generic kind set in `kinds`. Like the calls above, no allocation after warm-up.
  void AppendOrgKinds(std::vector<std::uint8_t>& out, std::uint64_t id, std::string_view org_id,
                      const Resolution& resolution, const KindAnswers& kinds, bool stale);
  void AppendDefaultKinds(std::vector<std::uint8_t>& out, std::uint64_t id,
                          const DomainPolicy& policy, const KindAnswers& kinds, bool stale);
  void AppendStatus(std::vector<std::uint8_t>& out, std::uint64_t id, const ServerStatus& status);
  // `result` must be a success (a whole-request failure is AppendError).
  void AppendCheck(std::vector<std::uint8_t>& out, std::uint64_t id, const CheckResultView& result,
                   bool stale);
  void AppendCheckBatch(std::vector<std::uint8_t>& out, std::uint64_t id,
                        std::span<const CheckResultView> results, bool stale);
  void AppendError(std::vector<std::uint8_t>& out, std::uint64_t id, const Status& error);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// A decoded generic kind: the policy and whether it is the inherited instance default.
struct KindValue {
  KindPolicy policy;
  bool is_default = false;

  friend bool operator==(const KindValue&, const KindValue&) = default;
};

// A decoded response, owning its data (client side).
struct PolicyAnswer {
  std::string org_id;  // "" for the instance default
  bool org_known = false;
  Status status;        // OK, or the per-org error (batch) / whole-request error
  DomainPolicy policy;  // meaningful when status is OK and has_domain
  bool stale = false;   // the data was older than the daemon's max-staleness
  // False when the request's kinds left DOMAIN out (then `policy` is empty).
  bool has_domain = true;
  // The generic kinds answered, in kind number order (empty for a domain-only request).
  std::vector<KindValue> kinds;

  // The answered policy of `kind`, or null when it was not in the answer.
  const KindValue* kind(PolicyKind kind) const;
};

// A decoded check answer, owning its data (client side).
struct CheckAnswer {
  CheckKind kind = CheckKind::kUnspecified;
  std::string org_id;  // "" for SMTP_SENDER
  bool org_known = false;
  Status status;  // OK, or the per-check error (batch)
  // Meaningful when status is OK:
  bool allowed = false;
  CheckReason reason = CheckReason::kUnspecified;  // a newer daemon's reason keeps its number
  std::string matched_domain;
  std::string message;
  DomainPolicy policy;  // the effective policy the decision used
  bool domain_on_org = false;
  bool domain_verified = false;
  bool stale = false;  // the data was older than the daemon's max-staleness
  // PASSWORD: the failing rule's upstream error id ("DOMAIN-HuJf6"; empty when allowed) and the
  // effective password complexity policy the decision used (`policy` is then empty).
  std::string error_id;
  std::optional<KindValue> password_complexity;
};

// One frame of a Dump's answer (wire/dump.h), owning its bytes (client side).
struct DumpChunk {
  std::uint64_t offset = 0;  // where `data` begins in the snapshot document
  std::string data;          // the next bytes of the document
  bool last = false;         // the document ends with this chunk
  std::uint64_t orgs = 0;    // last chunk: the document's org count
};

enum class ResponseKind : std::uint8_t {
  kError,
  kPolicy,
  kBatch,
  kStatus,
  kCheck,
  kCheckBatch,
  kDump,
};

struct Response {
  std::uint64_t id = 0;
  ResponseKind kind = ResponseKind::kError;
  Status error;  // kError: why the request failed
  bool stale = false;
  std::vector<PolicyAnswer> policies;  // kPolicy: one; kBatch: one per requested org
  ServerStatus status;                 // kStatus
  std::vector<CheckAnswer> checks;     // kCheck: one; kCheckBatch: one per check asked
  DumpChunk dump;                      // kDump
};

// Verifies and decodes one response frame (without the length prefix; 8-byte aligned).
// Errors: INVALID_ARGUMENT for a buffer that does not verify or lacks required parts, or whose
// status carries a fleet table without a role, a publisher without an id, or a publisher's last
// sync with nanos outside 0..999,999,999, or a policy kind table that breaks the rules of
// wire/kind_wire.h ParseKindTable (an unknown enum number is kept, a negative one refused).
Result<Response> DecodeResponse(std::span<const std::uint8_t> frame);

}  // namespace policyd
