#include "cli/commands.h"

#include <fstream>
#include <ostream>

#include "cli/check_output.h"
#include "client/client.h"
#include "json/policy_json.h"
#include "json/snapshot_json.h"
#include "json/timestamp.h"
#include "store/store.h"

namespace policyd {
namespace {

Result<Client> ConnectFor(const CliContext& ctx) {
  ClientOptions options;
  options.timeout = std::chrono::milliseconds(ctx.timeout_ms);
  return Client::Connect(ctx.socket_path, options);
}

std::string TimeOrNever(Timestamp t) { return t.IsZero() ? "never" : FormatTimestamp(t); }

void PrintStatusJson(std::ostream& out, const ServerStatus& s) {
  std::string j = "{";
  auto field = [&j](std::string_view name) {
    if (j.size() > 1) j += ',';
    AppendJsonString(j, name);
    j += ':';
  };
  field("health");
  AppendJsonString(j, HealthName(s.health));
  field("instanceId");
  AppendJsonString(j, s.instance_id);
  field("orgCount");
  j += std::to_string(s.meta.org_count);
  field("customPolicyCount");
  j += std::to_string(s.meta.custom_policy_count);
  field("lastChange");
  s.meta.last_change.IsZero() ? (void)(j += "null")
                              : AppendJsonString(j, FormatTimestamp(s.meta.last_change));
  field("lastSync");
  s.meta.last_sync.IsZero() ? (void)(j += "null")
                            : AppendJsonString(j, FormatTimestamp(s.meta.last_sync));
  field("dataAgeMs");
  j += s.data_age_ms < 0 ? "null" : std::to_string(s.data_age_ms);
  field("stale");
  j += s.stale ? "true" : "false";
  field("source");
  AppendJsonString(j, s.meta.source);
  field("upstream");
  AppendJsonString(j, s.upstream);
  field("cursor");
  AppendJsonString(j, s.meta.cursor);
  field("consecutiveFailures");
  j += std::to_string(s.consecutive_failures);
  field("lastError");
  AppendJsonString(j, s.last_error);
  field("version");
  AppendJsonString(j, s.version);
  field("now");
  AppendJsonString(j, FormatTimestamp(s.now));
  j += "}";
  out << j << '\n';
}

void PrintStatusText(std::ostream& out, const ServerStatus& s) {
  out << "health:          " << HealthName(s.health) << '\n'
      << "instance:        " << (s.instance_id.empty() ? "(none yet)" : s.instance_id) << '\n'
      << "orgs:            " << s.meta.org_count << " (" << s.meta.custom_policy_count
      << " with their own policy)\n"
      << "last change:     " << TimeOrNever(s.meta.last_change) << '\n'
      << "last sync:       " << TimeOrNever(s.meta.last_sync) << '\n'
      << "data age:        "
      << (s.data_age_ms < 0 ? std::string("unknown") : std::to_string(s.data_age_ms / 1000) + " s")
      << (s.stale ? " (STALE)" : "") << '\n'
      << "source:          " << (s.meta.source.empty() ? "(none)" : s.meta.source) << '\n'
      << "upstream:        " << (s.upstream.empty() ? "(none)" : s.upstream) << '\n'
      << "cursor:          "
      << (s.meta.cursor.empty() ? "(none)" : s.meta.cursor.substr(0, s.meta.cursor.find('\n')))
      << '\n'
      << "sync failures:   " << s.consecutive_failures << " in a row"
      << (s.last_error.empty() ? "" : ", last: " + s.last_error) << '\n'
      << "version:         " << s.version << '\n';
}

}  // namespace

int ReportError(const CliContext& ctx, const Status& status, bool transport) {
  ctx.err << "policyctl: " << status.ToString() << '\n';
  if (transport) return kExitUnreachable;
  return status.code() == Code::kNotFound ? kExitNotFound : kExitError;
}

int RunGet(const CliContext& ctx, const std::string& org_id, bool strict) {
  Result<Client> client = ConnectFor(ctx);
  if (!client) return ReportError(ctx, client.error(), /*transport=*/true);
  Result<PolicyAnswer> answer =
      org_id.empty() ? client->GetDefaultPolicy() : client->GetOrgPolicy(org_id, strict);
  if (!answer) return ReportError(ctx, answer.error(), !client->connected());
  ctx.out << FormatGetPolicyResponse(answer->policy) << '\n';
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

int RunStatus(const CliContext& ctx, bool json) {
  Result<Client> client = ConnectFor(ctx);
  if (!client) return ReportError(ctx, client.error(), /*transport=*/true);
  Result<ServerStatus> status = client->GetStatus();
  if (!status) return ReportError(ctx, status.error(), !client->connected());
  json ? PrintStatusJson(ctx.out, *status) : PrintStatusText(ctx.out, *status);
  return kExitOk;
}

}  // namespace policyd

namespace policyd {

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
  Status read = Status::Ok();
  Status walk = (*store)->ForEach(
      [&](const InstanceRecord& instance) {
        read = (*store)->ReadDomains("", domains);  // no org: the instance's domains only
        AppendSnapshotBegin(buffer, instance, domains.instance);
        have_instance = true;
      },
      [&](const OrgRecord& org) {
        if (!have_instance) {
          return Status::FailedPrecondition("the store has orgs but no instance default");
        }
        POLICYD_RETURN_IF_ERROR(read);
        POLICYD_RETURN_IF_ERROR((*store)->ReadDomains(org.id, domains));
        AppendSnapshotOrg(buffer, org, first, domains.org);
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

}  // namespace policyd
