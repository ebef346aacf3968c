#include "cli/commands.h"

#include <sys/prctl.h>

#include <fstream>
#include <ostream>

#include "cli/check_output.h"
#include "cli/password_input.h"
#include "cli/status_output.h"
#include "client/client.h"
#include "json/kind_json.h"
#include "json/policy_json.h"
#include "json/snapshot_json.h"
#include "store/store.h"

namespace policyd {
namespace {

Result<Client> ConnectFor(const CliContext& ctx) {
  ClientOptions options;
  options.timeout = std::chrono::milliseconds(ctx.timeout_ms);
  return Client::Connect(ctx.socket_path, options);
}

}  // namespace

int ReportError(const CliContext& ctx, const Status& status, bool transport) {
  ctx.err << "policyctl: " << status.ToString() << '\n';
  if (transport) return kExitUnreachable;
  return status.code() == Code::kNotFound ? kExitNotFound : kExitError;
}

std::string PolicyKindNames() {
  std::string names;
  for (std::size_t k = 0; k < kPolicyKindCount; ++k) {
    if (k > 0) names += ", ";
    names += SpecOf(static_cast<PolicyKind>(k)).cli_name;
  }
  return names;
}

int RunGet(const CliContext& ctx, const std::string& org_id, bool strict, PolicyKind kind) {
  Result<Client> client = ConnectFor(ctx);
  if (!client) return ReportError(ctx, client.error(), /*transport=*/true);
  const bool domain = kind == PolicyKind::kDomain;
  Result<PolicyAnswer> answer =
      domain ? (org_id.empty() ? client->GetDefaultPolicy() : client->GetOrgPolicy(org_id, strict))
             : (org_id.empty() ? client->GetDefaultKinds(KindSet::Of(kind))
                               : client->GetOrgKinds(org_id, KindSet::Of(kind), strict));
  if (!answer) return ReportError(ctx, answer.error(), !client->connected());
  if (domain) {
    ctx.out << FormatGetPolicyResponse(answer->policy) << '\n';
  } else {
    // The client makes sure a kind asked for is in a successful answer (else UNIMPLEMENTED).
    const KindValue* value = answer->kind(kind);
    if (value == nullptr) {
      return ReportError(ctx, Status::Internal("policyd's answer lacks the kind asked for"), false);
    }
    ctx.out << FormatKindGetResponse(value->policy, value->is_default,
                                     /*management=*/!org_id.empty())
            << '\n';
  }
  if (answer->stale) ctx.err << "policyctl: warning: policyd's data is stale\n";
  return kExitOk;
}

int RunCheck(const CliContext& ctx, const CheckRequest& check, bool json) {
  Result<Client> client = ConnectFor(ctx);
  if (!client) return ReportError(ctx, client.error(), /*transport=*/true);
  Result<CheckAnswer> answer = client->Check(check);
  if (!answer) {
    const int code = ReportError(ctx, answer.error(), !client->connected());
    // 1 means "refused" here, so an error policyd answered gets its own code.
    return code == kExitError ? kExitCheckError : code;
  }
  ctx.out << (json ? FormatCheckJson(*answer) + '\n' : FormatCheckText(*answer));
  if (answer->stale) ctx.err << "policyctl: warning: policyd's data is stale\n";
  return answer->allowed ? kExitOk : kExitCheckRefused;
}

int RunCheckPassword(const CliContext& ctx, const std::string& org_id, bool strict, bool json,
                     int input_fd) {
  // No core dump or same-uid ptrace of a process that holds a password.
  prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  SecretBuffer password;  // wiped when this returns, whichever way
  const Status read = ReadPassword(input_fd, ctx.err, password);
  if (!read.ok()) {
    ctx.err << "policyctl: " << read.ToString() << '\n';
    return read.code() == Code::kInvalidArgument ? kExitUsage : kExitCheckError;
  }
  return RunCheck(ctx, CheckRequest{CheckKind::kPassword, org_id, password.view(), strict}, json);
}

int RunStatus(const CliContext& ctx, bool json) {
  Result<Client> client = ConnectFor(ctx);
  if (!client) return ReportError(ctx, client.error(), /*transport=*/true);
  Result<ServerStatus> status = client->GetStatus();
  if (!status) return ReportError(ctx, status.error(), !client->connected());
  ctx.out << (json ? FormatStatusJson(*status) + '\n' : FormatStatusText(*status));
  return kExitOk;
}

}  // namespace policyd

namespace policyd {

namespace {

// Reads the rows of the other policy kinds, one org (or the instance) at a time, for the dump.
class KindRowsReader {
 public:
  explicit KindRowsReader(const Store& store) : store_(store) { batch_.set_kinds(KindSet::All()); }
  // The instance's defaults when `org_id` is empty, else the org's own rows.
  Status Read(std::string_view org_id) {
    batch_.Clear();
    if (!org_id.empty()) batch_.Add(org_id);
    POLICYD_RETURN_IF_ERROR(store_.Read(batch_));
    rows_.clear();
    for (const PolicyKind kind : kGenericKinds) {
      const KindPolicy* row =
          org_id.empty() ? batch_.kind_default(kind) : batch_.kind_policy(0, kind);
      if (row != nullptr) rows_.push_back(row);
    }
    return Status::Ok();
  }
  std::span<const KindPolicy* const> rows() const { return rows_; }

 private:
  const Store& store_;
  LookupBatch batch_;
  std::vector<const KindPolicy*> rows_;
};

}  // namespace

int RunDump(const CliContext& ctx, const std::string& data_dir, const std::string& output) {
  StoreOptions options;
  options.read_only = true;
  options.block_cache_bytes = 8u << 20;
  Result<std::unique_ptr<Store>> store = OpenRocksStore(data_dir, options);
  if (!store) return ReportError(ctx, store.error(), /*transport=*/false);

  std::ofstream file;
  if (!output.empty()) {
    file.open(output, std::ios::binary | std::ios::trunc);
    if (!file) return ReportError(ctx, Status::InvalidArgument("cannot write " + output), false);
  }
  std::ostream& out = output.empty() ? ctx.out : file;
  std::string buffer;
  bool have_instance = false;
  bool first = true;
  // A read-only store shows the state as of opening, so the per-org domain reads below and the
  // walk see one and the same state.
  DomainSet domains;
  KindRowsReader kinds(**store);
  Status read = Status::Ok();
  Status walk = (*store)->ForEach(
      [&](const InstanceRecord& instance) {
        read = (*store)->ReadDomains("", domains);  // no org: the instance's domains only
        if (read.ok()) read = kinds.Read("");
        AppendSnapshotBegin(buffer, instance, domains.instance, kinds.rows());
        have_instance = true;
      },
      [&](const OrgRecord& org) {
        if (!have_instance) {
          return Status::FailedPrecondition("the store has orgs but no instance default");
        }
        POLICYD_RETURN_IF_ERROR(read);
        POLICYD_RETURN_IF_ERROR((*store)->ReadDomains(org.id, domains));
        POLICYD_RETURN_IF_ERROR(kinds.Read(org.id));
        AppendSnapshotOrg(buffer, org, first, domains.org, kinds.rows());
        first = false;
        if (buffer.size() > (1u << 20)) {
          out << buffer;
          buffer.clear();
        }
        return Status::Ok();
      });
  if (walk.ok()) walk = read;
  if (walk.ok() && !have_instance) {
    walk = Status::FailedPrecondition("the store holds no state yet (no instance default)");
  }
  if (!walk.ok()) return ReportError(ctx, walk.WithContext("dump " + data_dir), false);
  AppendSnapshotEnd(buffer);
  out << buffer;
  out.flush();
  if (!out) return ReportError(ctx, Status::Internal("write failed"), false);
  return kExitOk;
}

int RunSocketDump(const CliContext& ctx, const std::string& output) {
  Result<Client> client = ConnectFor(ctx);
  if (!client) return ReportError(ctx, client.error(), /*transport=*/true);
  std::ofstream file;
  if (!output.empty()) {
    file.open(output, std::ios::binary | std::ios::trunc);
    if (!file) return ReportError(ctx, Status::InvalidArgument("cannot write " + output), false);
  }
  std::ostream& out = output.empty() ? ctx.out : file;
  bool write_failed = false;
  Result<DumpSummary> dump = client->Dump([&out, &write_failed](std::string_view bytes) {
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    write_failed = !out;
    return write_failed ? Status::Internal("write failed") : Status::Ok();
  });
  if (!dump) {
    return ReportError(ctx, dump.error().WithContext("dump"),
                       !write_failed && !client->connected());
  }
  out.flush();
  if (!out) return ReportError(ctx, Status::Internal("write failed"), false);
  return kExitOk;
}

}  // namespace policyd
