// policyctl: ask a running policyd for policies and status, or dump its store.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <iostream>

#include "cli/commands.h"

namespace {

// `get --kind`: a name of policy_kinds.h's table; the error lists them.
CLI::Validator KindName() {
  return CLI::Validator(
      [](std::string& name) -> std::string {
        if (policyd::KindFromCliName(name)) return {};
        return "unknown kind \"" + name + "\"; one of " + policyd::PolicyKindNames();
      },
      "KIND");
}

// `check password ORG [--strict] [--json]`. The password never comes from the command line (`ps`
// shows it): the subcommand keeps extra arguments, which main refuses without repeating them
// (CLI11's own error would print them).
CLI::App* AddPasswordCheck(CLI::App& check, std::string& org, bool& strict, bool& json) {
  CLI::App* sub = check.add_subcommand(
      "password",
      "Does the password on standard input meet ORG's effective password complexity policy? "
      "Reads all of standard input (one trailing newline removed; at most 4096 bytes), or on a "
      "terminal one line typed without echo; never from the command line. Exit 0 allowed, 1 "
      "refused");
  sub->add_option("org", org, "Org id")->required();
  sub->add_flag("--strict", strict,
                "Fail (exit 3) for an org policyd does not know, instead of deciding on the "
                "instance default like the upstream");
  sub->add_flag("--json", json, "Print the answer as one line of JSON");
  sub->allow_extras();
  return sub;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "policyctl: query policyd, the local cache of ZITADEL's policies.\n"
      "Exit codes: 0 ok, 1 error answered by policyd (or other failure), 2 usage error,\n"
      "3 org not found (--strict), 4 policyd unreachable or not answering in time.\n"
      "check: 0 allowed, 1 refused, 5 an error policyd answered (2, 3, 4 as above; check\n"
      "password: 2 also for an empty password or one over 4096 bytes)."};
  app.set_version_flag("--version", "policyctl " POLICYD_VERSION);
  app.require_subcommand(1);
  std::string socket = "/run/policyd/policyd.sock";
  int timeout_ms = 5000;
  app.add_option("--socket", socket, "policyd's unix socket")->capture_default_str();
  app.add_option("--timeout-ms", timeout_ms, "Give up after this long")
      ->capture_default_str()
      ->check(CLI::Range(1, 3'600'000));

  std::string org;
  bool strict = false;
  std::string kind_name = "domain";
  CLI::App* get = app.add_subcommand(
      "get",
      "Print an org's effective policy of KIND (default domain) exactly as the upstream's "
      "management GET returns it (for domain: GET /management/v1/policies/domain, with the "
      "x-zitadel-orgid header); without --org, the instance default as the admin GET returns it "
      "(GET /admin/v1/policies/domain)");
  get->add_option("--kind", kind_name, "Policy kind: one of " + policyd::PolicyKindNames())
      ->capture_default_str()
      ->check(KindName());
  get->add_option("--org", org, "Org id");
  get->add_flag("--strict", strict,
                "Fail (exit 3) for an org policyd does not know, instead of "
                "answering with the instance default like the upstream");

  bool json = false;
  CLI::App* status = app.add_subcommand("status", "Print the store and sync state");
  status->add_flag("--json", json, "As JSON");

  policyd::TopOptions top_options;
  CLI::App* top = app.add_subcommand(
      "top",
      "Live view of request rate, latency percentiles, connections, sync state and data age, "
      "refreshed every second (q or Ctrl-C quits)");
  top->add_flag("--once", top_options.once,
                "Print one frame as plain text (rates over one interval) and exit");
  top->add_option("--interval-ms", top_options.interval_ms, "Time between refreshes")
      ->capture_default_str()
      ->check(CLI::Range(100, 3'600'000));
  top->add_option("--count", top_options.count, "Stop after this many frames (0: never)");

  // policyctl check login-name ORG NAME | smtp-sender ADDRESS | domain ORG DOMAIN
  CLI::App* check = app.add_subcommand(
      "check",
      "Ask policyd to decide a check locally, as the upstream would: exit 0 allowed, 1 refused "
      "(docs/checks.md has the rules)");
  check->require_subcommand(1);
  std::string check_org, check_value;
  bool check_strict = false, check_json = false;
  auto add_check = [&](const char* name, const char* help, bool with_org, const char* value_name,
                       const char* value_help) {
    CLI::App* sub = check->add_subcommand(name, help);
    if (with_org) {
      sub->add_option("org", check_org, "Org id")->required();
      sub->add_flag("--strict", check_strict,
                    "Fail (exit 3) for an org policyd does not know, instead of deciding on the "
                    "instance default like the upstream");
    }
    sub->add_option(value_name, check_value, value_help)->required();
    sub->add_flag("--json", check_json, "Print the answer as one line of JSON");
    return sub;
  };
  add_check("login-name",
            "May a user of ORG log in with NAME? With userLoginMustBeDomain the name must be "
            "username@<a verified domain of the org>; without it, the name is the username",
            true, "name", "The login name");
  CLI::App* check_smtp =
      add_check("smtp-sender",
                "May ADDRESS be the instance's SMTP sender? With the instance policy's "
                "smtpSenderAddressMatchesInstanceDomain its domain must be an instance domain",
                false, "address", "The sender address");
  CLI::App* check_domain =
      add_check("domain",
                "Is DOMAIN verified for ORG without a challenge? Refused when adding it needs "
                "verification (validateOrgDomains) or the org has it unverified",
                true, "domain", "The domain");

  CLI::App* check_password = AddPasswordCheck(*check, check_org, check_strict, check_json);

  std::string data_dir, output;
  CLI::App* dump = app.add_subcommand(
      "dump",
      "Write the store as a snapshot (the format --snapshot loads). By default policyd streams "
      "it over its socket, from one consistent view, to any peer it allows; with --data-dir "
      "policyctl reads the store files itself (offline mode; works while policyd runs, needs "
      "read access to the directory). Same bytes either way");
  dump->add_option("--socket", socket, "policyd's unix socket (as before the subcommand)");
  dump->add_option("--data-dir", data_dir, "Read this data directory instead of the socket");
  dump->add_option("--output,-o", output, "File to write (default: standard output)");

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "policyctl: " << e.what() << " (see --help)\n";
    return policyd::kExitUsage;
  }
  const policyd::CliContext ctx{socket, timeout_ms, std::cout, std::cerr};
  if (get->parsed()) {
    return policyd::RunGet(ctx, org, strict, *policyd::KindFromCliName(kind_name));
  }
  if (status->parsed()) return policyd::RunStatus(ctx, json);
  if (top->parsed()) return policyd::RunTop(ctx, top_options);
  if (check_password->parsed()) {
    if (check_password->remaining_size() > 0) {
      std::cerr << "policyctl: check password takes one argument, ORG: the password is read from "
                   "standard input, never from the command line (see --help)\n";
      return policyd::kExitUsage;
    }
    return policyd::RunCheckPassword(ctx, check_org, check_strict, check_json, STDIN_FILENO);
  }
  if (check->parsed()) {
    policyd::CheckRequest request{policyd::CheckKind::kLoginName, check_org, check_value,
                                  check_strict};
    if (check_smtp->parsed()) request.kind = policyd::CheckKind::kSmtpSender;
    if (check_domain->parsed()) request.kind = policyd::CheckKind::kDomainVerification;
    return policyd::RunCheck(ctx, request, check_json);
  }
  if (data_dir.empty()) return policyd::RunSocketDump(ctx, output);
  return policyd::RunDump(ctx, data_dir, output);
}
