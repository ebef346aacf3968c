// Support for policyd_bench: child processes that die with the benchmark, a temp dir that is
// removed on every exit path, blocking unix-socket connections that read length-prefixed frames
// and RESP replies, and a description of the machine.
//
// Cleanup model: SIGINT/SIGTERM/SIGHUP are blocked in every thread and handled by one sigwait
// thread, which runs Cleanup() and exits; Fail() and the normal end of main() run it too. Each
// child also gets PR_SET_PDEATHSIG=SIGKILL, so it dies even when the benchmark crashes.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace policyd::bench {

// Blocks the stop signals, ignores SIGPIPE and starts the thread that cleans up on a signal.
// Call first in main(), before any other thread exists.
void InstallCleanupHandlers();
// Kills every registered child (SIGKILL) and removes the temp dir. Idempotent, thread-safe.
void Cleanup();
// Prints "policyd_bench: <message>" to stderr, cleans up and exits 1.
[[noreturn]] void Fail(const std::string& message);

// A fresh directory under $TMPDIR (or /tmp), removed by Cleanup().
std::string MakeTempDir();

// Starts argv[0] (searched in PATH when it has no '/') with stdout and stderr appended to
// `log_path` and `env` ("NAME=value") added to the environment; the child is registered for
// Cleanup(). Returns the pid, or -1 with `error` set when the fork fails. A program that cannot be
// executed exits 127 right away.
pid_t Spawn(const std::vector<std::string>& argv, const std::string& log_path, std::string& error,
            const std::vector<std::string>& env = {});
// Forks a child that runs `body` and then _exit(0)s; registered for Cleanup().
pid_t ForkFunction(void (*body)(void*), void* arg);
// Spawn()s and waits up to `timeout_s` for the exit (then SIGKILLs). Returns the exit code, or -1
// when it could not start, was killed or timed out.
int RunToCompletion(const std::vector<std::string>& argv, const std::string& log_path,
                    double timeout_s);
// True while `pid` has not exited (reaps it when it has; `status` then holds its wait status).
bool ChildRunning(pid_t pid, int* status = nullptr);
// Sends `signal`, waits up to `timeout_ms` for exit, then SIGKILLs. Unregisters the child.
void StopChild(pid_t pid, int signal, int timeout_ms);

// True when `name` (no '/') is an executable file in PATH.
bool InPath(const std::string& name);
// The last `max_bytes` of a file ("" when unreadable).
std::string FileTail(const std::string& path, std::size_t max_bytes = 2000);

// CPU time a process (all its threads) has used so far, from /proc/<pid>/stat (10-ms ticks).
// Zero when the process is gone.
struct CpuTime {
  double user = 0, sys = 0;  // seconds
};
CpuTime ProcessCpu(pid_t pid);
// The same for this process, from getrusage (microsecond resolution).
CpuTime SelfCpu();
// The machine's CPU time so far, all CPUs and processes, from /proc/stat (seconds).
struct MachineCpu {
  double busy = 0, total = 0;  // busy: everything but idle and iowait
};
MachineCpu ReadMachineCpu();
// VmRSS of `pid` in KiB, -1 when unknown.
long RssKb(pid_t pid);
// Bytes of all regular files under `dir`.
std::uintmax_t DirSize(const std::string& dir);

// A datagram socket standing in for systemd's NOTIFY_SOCKET: pass "NOTIFY_SOCKET=" + path() to a
// child and read what it sends with sd_notify.
class NotifySocket {
 public:
  explicit NotifySocket(std::string path);  // binds; Fail()s when it cannot
  ~NotifySocket();
  NotifySocket(const NotifySocket&) = delete;
  NotifySocket& operator=(const NotifySocket&) = delete;
  const std::string& path() const { return path_; }
  // Waits up to `timeout_ms` for one message; true when one arrived and contains `needle`.
  bool Receive(std::string_view needle, int timeout_ms);

 private:
  std::string path_;
  int fd_ = -1;
};

// A connected, blocking unix stream socket with a read buffer.
class Conn {
 public:
  Conn() = default;
  ~Conn();
  Conn(Conn&& other) noexcept;
  Conn& operator=(Conn&& other) noexcept;
  Conn(const Conn&) = delete;
  Conn& operator=(const Conn&) = delete;

  // Connects to `path`; false with `error` set on failure.
  bool Connect(const std::string& path, std::string& error);
  bool ok() const { return fd_ >= 0; }

  bool WriteAll(std::span<const std::uint8_t> bytes);
  bool WriteAll(std::string_view bytes) {
    return WriteAll({reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()});
  }
  // Reads one frame (4-byte LE length + body) and returns its body, valid until the next read.
  // Empty on EOF or error (frames are never empty).
  std::span<const std::uint8_t> ReadFrame();
  // Reads one RESP reply to GET: a bulk string ("$<n>\r\n<bytes>\r\n") returns its bytes; a nil,
  // an error reply or a transport error returns false.
  bool ReadBulk(std::string_view& value);
  // Reads one RESP simple-string reply ("+OK\r\n", "+PONG\r\n"); false on anything else.
  bool ReadSimple(std::string_view expected);

 private:
  // Ensures at least `n` unread bytes are buffered.
  bool Fill(std::size_t n);
  std::string_view ReadLine();  // up to "\r\n", without it; empty on error

  int fd_ = -1;
  std::vector<std::uint8_t> buf_ = std::vector<std::uint8_t>(1 << 16);
  std::size_t begin_ = 0, end_ = 0;
};

// Machine and run description for the report.
struct Machine {
  unsigned cpus = 0;
  std::string model;   // /proc/cpuinfo "model name"
  std::string kernel;  // uname -srm
  std::string date;    // UTC, ISO 8601
};
Machine DescribeMachine();
// The 1-, 5- and 15-minute load averages from /proc/loadavg, e.g. "0.52 0.40 0.31".
std::string LoadAverage();

// The directory holding the running executable.
std::string SelfDir();

}  // namespace policyd::bench
