// Fuzzes every parser of JSON from outside: the upstream's bodies (policy, org list, org and
// instance domain lists, events, token, error), the service-account key file, the snapshot file,
// RFC 3339 timestamps, the other policy kinds' objects and GET bodies, and the benchmark's
// client-driver reports (flat objects). Whatever parses must format back and parse again to the
// same value.
#include <algorithm>
#include <cassert>
#include <cstdint>
#include <string>
#include <string_view>

#include "json/flat_json.h"
#include "json/kind_json.h"
#include "json/policy_json.h"
#include "json/snapshot_json.h"
#include "json/timestamp.h"
#include "json/upstream_json.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  // The first byte picks the parser, so one corpus covers them all.
  const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 10) {
    case 0: {
      auto p = policyd::ParseDomainPolicyJson(text);
      if (p) {
        std::string out;
        policyd::AppendDomainPolicyJson(out, {p->record.flags, p->is_default, p->record.details});
        auto again = policyd::ParseDomainPolicyJson(out);
        if (!again || again->record != p->record) __builtin_trap();
      }
      break;
    }
    case 1: {
      auto s = policyd::ParseSnapshot(text);
      if (s) {
        auto again = policyd::ParseSnapshot(policyd::FormatSnapshot(*s));
        if (!again) __builtin_trap();
        // Domains survive the round trip exactly (the policies' details may be normalised).
        if (again->org_domains != s->org_domains || again->instance_domains != s->instance_domains)
          __builtin_trap();
        // So do the other kinds' rows (written in kind order, so compared sorted).
        const auto sorted = [](std::vector<policyd::KindRow> rows) {
          std::sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) {
            return std::tie(a.org_id, a.policy.kind) < std::tie(b.org_id, b.policy.kind);
          });
          return rows;
        };
        if (sorted(again->kind_rows) != sorted(s->kind_rows)) __builtin_trap();
      }
      break;
    }
    case 2: {
      auto t = policyd::ParseTimestamp(text);
      if (t) {
        auto again = policyd::ParseTimestamp(policyd::FormatTimestamp(*t));
        if (!again || *again != *t) __builtin_trap();
      }
      break;
    }
    case 3:
      (void)policyd::ParseListEventsResponse(text);
      break;
    case 4: {
      auto page = policyd::ParseListOrgsResponse(text);
      if (page && page->primary_domains.size() != page->org_ids.size()) __builtin_trap();
      // The domain lists share the list shape ({"details":…,"result":[…]}): one selector.
      auto org_domains = policyd::ParseListOrgDomainsResponse(text, "42");
      if (org_domains) {
        for (const policyd::OrgDomain& d : org_domains->domains) {
          if (!policyd::ValidateDomainName("domain", d.name).ok()) __builtin_trap();
        }
      }
      auto instance_domains = policyd::ParseListInstanceDomainsResponse(text);
      if (instance_domains) {
        for (const std::string& name : instance_domains->names) {
          if (!policyd::ValidateDomainName("domain", name).ok()) __builtin_trap();
        }
      }
      break;
    }
    case 5:
      (void)policyd::ParseGetPolicyResponse(text);
      break;
    case 6:
      (void)policyd::ParseTokenResponse(text);
      (void)policyd::ParseErrorBody(text);
      break;
    case 7:
      (void)policyd::ParseServiceAccountKey(text);
      break;
    case 8: {
      // The next byte picks the kind.
      if (text.empty()) break;
      const auto kind = policyd::kGenericKinds[static_cast<unsigned char>(text[0]) %
                                               policyd::kGenericKinds.size()];
      const std::string_view json = text.substr(1);
      auto p = policyd::ParseKindPolicyJson(kind, json);
      if (p) {
        std::string out;
        policyd::AppendKindPolicyJson(out, p->policy, p->is_default);
        auto again = policyd::ParseKindPolicyJson(kind, out);
        if (!again || again->policy != p->policy || again->is_default != p->is_default)
          __builtin_trap();
      }
      (void)policyd::ParseKindGetResponse(kind, json);
      (void)policyd::ParseProtoDuration(json);
      break;
    }
    case 9: {
      auto o = policyd::ParseFlatJsonObject(text);
      if (o) {
        for (const auto& [name, value] : *o) {
          if (value.type == policyd::FlatJsonValue::Type::kString &&
              policyd::FlatString(*o, name) != &value.text)
            __builtin_trap();
        }
      }
      break;
    }
  }
  return 0;
}
