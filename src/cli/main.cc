// policyctl: ask a running policyd for policies and status, or dump its store.
#include <CLI/CLI.hpp>
#include <iostream>

#include "cli/commands.h"

int main(int argc, char** argv) {
  CLI::App app{
      "policyctl: query policyd, the local domain-policy cache.\n"
      "Exit codes: 0 ok, 1 error answered by policyd (or other failure), 2 usage error,\n"
      "3 org not found (--strict), 4 policyd unreachable or not answering in time."};
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
  CLI::App* get = app.add_subcommand(
      "get",
      "Print an org's effective domain policy exactly as the upstream's "
      "GET /management/v1/policies/domain returns it; without --org, the instance default as "
      "GET /admin/v1/policies/domain returns it");
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

  std::string data_dir, output;
  CLI::App* dump = app.add_subcommand(
      "dump",
      "Write the store as a snapshot (the format --snapshot loads); works while policyd "
      "runs");
  dump->add_option("--data-dir", data_dir, "policyd's data directory")->required();
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
  if (get->parsed()) return policyd::RunGet(ctx, org, strict);
  if (status->parsed()) return policyd::RunStatus(ctx, json);
  if (top->parsed()) return policyd::RunTop(ctx, top_options);
  return policyd::RunDump(ctx, data_dir, output);
}
