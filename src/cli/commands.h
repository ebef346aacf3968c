// policyctl's commands, apart from argument parsing (cli/main.cc) so they can be tested.
//
// Each command writes its result to `out`, a one-line error to `err`, and returns the process
// exit code (see ExitCode).
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>

#include "base/status.h"
#include "check/check.h"
#include "model/policy_kinds.h"

namespace policyd {

// policyctl's exit codes (documented in --help and the README).
enum ExitCode : int {
  kExitOk = 0,
  kExitError = 1,        // the daemon answered with an error, or something else failed
  kExitUsage = 2,        // bad command line
  kExitNotFound = 3,     // strict lookup of an org policyd does not know
  kExitUnreachable = 4,  // no daemon on the socket, or it did not answer in time
  // `policyctl check` only: 1 means "refused" there, so what the others report as 1 is 5.
  kExitCheckRefused = 1,
  kExitCheckError = 5,
};

struct CliContext {
  std::string socket_path;
  int timeout_ms = 5000;
  std::ostream& out;
  std::ostream& err;
};

// `policyctl get [--kind KIND] [--org ID] [--strict]`: prints exactly the body of the upstream's
// management GET of `kind` for the org's effective policy (SpecOf(kind).management_path, with the
// deprecated top-level isDefault where that response has it), or without --org the admin GET of
// the instance default (admin_path). kDomain is the domain policy, as before kinds existed.
int RunGet(const CliContext& ctx, const std::string& org_id, bool strict,
           PolicyKind kind = PolicyKind::kDomain);

// The names `get --kind` takes, in kind number order: "domain, password-complexity, ..., label".
std::string PolicyKindNames();

// `policyctl status [--json]`.
int RunStatus(const CliContext& ctx, bool json);

struct TopOptions {
  int interval_ms = 1000;   // between refreshes
  std::uint64_t count = 0;  // frames to show, 0: until q / Ctrl-C
  bool once = false;        // one frame with rates (two samples an interval apart), plain text
};

// `policyctl top [--once] [--interval-ms N] [--count N]`: the live view (cli/top_view.h).
int RunTop(const CliContext& ctx, const TopOptions& options);

// `policyctl check login-name ORG NAME | smtp-sender ADDRESS | domain ORG DOMAIN [--strict]
// [--json]`: asks policyd to decide `check` and prints the answer (cli/check_output.h). Exit
// codes: 0 allowed, 1 refused, 2 usage, 3 unknown org with --strict, 4 unreachable, 5 any other
// error.
int RunCheck(const CliContext& ctx, const CheckRequest& check, bool json);

// `policyctl check password ORG [--strict] [--json]`: reads the password from `input_fd`
// (cli/password_input.h: all of it, or one line typed with echo off on a terminal; one trailing
// newline removed), asks policyd to check it against the org's effective password complexity
// policy and prints the answer; the password is wiped before this returns. Exit codes as
// RunCheck's, plus 2 for an empty or over-long password.
int RunCheckPassword(const CliContext& ctx, const std::string& org_id, bool strict, bool json,
                     int input_fd);

// `policyctl dump --data-dir DIR [--output FILE]`: writes the store as a snapshot, reading the
// RocksDB files directly (the offline mode: needs read access to the data directory).
int RunDump(const CliContext& ctx, const std::string& data_dir, const std::string& output);

// `policyctl dump [--socket PATH] [--output FILE]`: asks the daemon on ctx.socket_path for the
// same document (Client::Dump) and writes it as it arrives; --timeout-ms applies to each frame.
// Exit codes: 0, 4 unreachable (or the connection lost midway), 1 any other failure (the output
// is then incomplete).
int RunSocketDump(const CliContext& ctx, const std::string& output);

// Prints a failure as one line ("policyctl: <CODE>: <message>") and maps it to an exit code:
// `transport` failures (no daemon, connection lost, timeout) are kExitUnreachable.
int ReportError(const CliContext& ctx, const Status& status, bool transport);

}  // namespace policyd
