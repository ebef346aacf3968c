// Test support: run the real policyd / policyctl binaries and wait on them with deadlines.
#pragma once

#include <gtest/gtest.h>
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace policyd::testing_support {

// Where the build put the binaries (POLICYD_BIN_DIR, set by ctest) and the source tree.
std::string BinDir();
std::string SourceDir();

// The number in environment variable `name` (decimal), or `fallback` when it is unset or empty:
// the knobs of long and replayed test runs (seeds, step counts).
std::uint64_t EnvNumber(const char* name, std::uint64_t fallback);

// A fresh directory under $TMPDIR, removed (recursively) on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string Join(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// Polls `condition` until it holds or `timeout` passes.
::testing::AssertionResult WaitFor(const std::function<bool()>& condition,
                                   std::chrono::milliseconds timeout, const std::string& what);

struct CommandResult {
  int exit_code = -1;  // -1: killed by a signal
  std::string out;
  std::string err;
};

// Runs `argv` to completion (killed after `timeout`), capturing stdout and stderr; standard
// input is /dev/null.
CommandResult RunCommand(const std::vector<std::string>& argv,
                         std::chrono::milliseconds timeout = std::chrono::seconds(30));
// The same with `input` on standard input: its bytes (written to a temp file first), or with
// `input_is_path` the file (or terminal) of that name.
CommandResult RunCommandWithInput(const std::vector<std::string>& argv, const std::string& input,
                                  std::chrono::milliseconds timeout = std::chrono::seconds(30),
                                  bool input_is_path = false);

// A background process whose stderr goes to a file.
class ChildProcess {
 public:
  // `extra_env` ("NAME=value") is added to this process's environment for the child; its
  // standard input is `stdin_path`, its standard output goes to log_path + ".out".
  ChildProcess(const std::vector<std::string>& argv, const std::string& log_path,
               const std::vector<std::string>& extra_env = {},
               const std::string& stdin_path = "/dev/null");
  ~ChildProcess();  // SIGKILLs a process still running
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }
  bool Running();
  // Sends `signal` and waits up to `timeout` for exit; returns the exit code (-signal if killed).
  int Stop(int signal, std::chrono::milliseconds timeout = std::chrono::seconds(15));
  // Waits for the process to exit by itself.
  int Wait(std::chrono::milliseconds timeout);
  std::string Log() const;

 private:
  pid_t pid_ = -1;
  int status_ = 0;
  bool exited_ = false;
  std::string log_path_;
};

}  // namespace policyd::testing_support
