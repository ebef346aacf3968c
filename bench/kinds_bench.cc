#include "kinds_bench.h"

#include <cstdio>
#include <memory>
#include <optional>

#include "bench_kinds.h"
#include "bench_support.h"
#include "servers.h"
#include "wire/request.h"
#include "wire/response.h"

namespace policyd::bench {
namespace {

// One GetOrgPolicy frame naming `kinds` (none: the request of a client written before kinds) for
// a random org, and its answer.
OpFactory KindLookups(const std::string& socket, const std::vector<std::string>& orgs,
                      std::optional<KindSet> kinds) {
  return [&socket, &orgs, kinds](int, std::string& error) -> Op {
    auto conn = std::make_shared<Conn>();
    if (!conn->Connect(socket, error)) return nullptr;
    auto req = std::make_shared<std::vector<std::uint8_t>>();
    req->reserve(256);
    return [conn, req, &orgs, kinds, id = std::uint64_t{0}](Rng& rng) mutable {
      req->clear();
      const std::string& org = orgs[rng.Next() % orgs.size()];
      if (kinds) {
        AppendGetOrgKinds(*req, ++id, org, *kinds, false);
      } else {
        AppendGetOrgPolicy(*req, ++id, org, false);
      }
      return conn->WriteAll(*req) && !conn->ReadFrame().empty();
    };
  };
}

// Asks org `index` for `kinds` and Fail()s unless the answer has the org and exactly the kinds
// asked, each own or default as bench_kinds.h made them.
void ProbeKinds(const std::string& socket, const std::vector<std::string>& orgs, int index,
                KindSet kinds) {
  std::vector<std::uint8_t> req;
  const std::string& org = orgs[static_cast<std::size_t>(index)];
  AppendGetOrgKinds(req, 1, org, kinds, false);
  const Response r = AskPolicyd(socket, req, "kinds probe, org " + org);
  if (r.kind != ResponseKind::kPolicy || r.policies.size() != 1 || !r.policies[0].status.ok()) {
    Fail("kinds probe: org " + org + " not answered");
  }
  const PolicyAnswer& a = r.policies[0];
  for (PolicyKind kind : kGenericKinds) {
    const KindValue* v = a.kind(kind);
    if (kinds.contains(kind) != (v != nullptr) ||
        (v != nullptr && v->is_default == HasOwnKind(index, kind))) {
      Fail("kinds probe: org " + org + ": kind " + std::string(SpecOf(kind).cli_name) +
           " answered wrong");
    }
  }
}

}  // namespace

std::vector<RunResult> RunKindLookups(const std::string& binary, const std::string& dir, int orgs,
                                      double seconds, int rounds, int cpu) {
  std::fprintf(stderr, "policyd_bench: kinds: a store of %d orgs with every kind\n", orgs);
  PreparedStore store = PrepareStore(binary, dir, "kinds-lookups", orgs, {}, true, true);
  const std::string& socket = store.serving.socket;
  const std::vector<std::string>& ids = store.org_ids;
  const KindSet login = KindSet::Of(PolicyKind::kLogin);
  const KindSet complexity = KindSet::Of(PolicyKind::kPasswordComplexity);
  for (int index : {0, 1, 3, 4, 7, 50}) {
    if (index >= orgs) continue;
    ProbeKinds(socket, ids, index, KindSet::All());
    ProbeKinds(socket, ids, index, login);
  }
  ReadEveryOrg(socket, ids);
  const pid_t pid = store.serving.pid;
  auto spec = [&](const char* row, std::optional<KindSet> kinds) {
    return LoadSpec{row, "single", 1, 1, seconds, pid, KindLookups(socket, ids, kinds), cpu};
  };
  std::vector<RunResult> runs =
      Interleaved({spec(kKindsDomainRow, std::nullopt), spec(kKindsComplexityRow, complexity),
                   spec(kKindsLoginRow, login), spec(kKindsAllRow, KindSet::All())},
                  rounds);
  StopPolicyd(store.serving);
  return runs;
}

}  // namespace policyd::bench
