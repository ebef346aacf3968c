#include "bench_support.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>
#include <utility>

namespace policyd::bench {
namespace {

std::mutex g_mu;
std::vector<pid_t> g_children;
std::string g_temp_dir;

void Register(pid_t pid) {
  std::lock_guard lock(g_mu);
  g_children.push_back(pid);
}

void Unregister(pid_t pid) {
  std::lock_guard lock(g_mu);
  g_children.erase(std::remove(g_children.begin(), g_children.end(), pid), g_children.end());
}

// In the child, right after fork: die with the parent, default signal state.
void PrepareChild(pid_t parent) {
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != parent) _exit(127);
  sigset_t none;
  sigemptyset(&none);
  pthread_sigmask(SIG_SETMASK, &none, nullptr);
  signal(SIGPIPE, SIG_DFL);
}

}  // namespace

void InstallCleanupHandlers() {
  signal(SIGPIPE, SIG_IGN);
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  std::thread([set] {
    int sig = 0;
    sigwait(&set, &sig);
    std::fprintf(stderr, "policyd_bench: signal %d, cleaning up\n", sig);
    Cleanup();
    _exit(128 + sig);
  }).detach();
}

void Cleanup() {
  std::vector<pid_t> children;
  std::string dir;
  {
    std::lock_guard lock(g_mu);
    children.swap(g_children);
    dir.swap(g_temp_dir);
  }
  for (pid_t pid : children) {
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
  }
  if (!dir.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
}

void Fail(const std::string& message) {
  std::fprintf(stderr, "policyd_bench: %s\n", message.c_str());
  Cleanup();
  std::exit(1);
}

std::string MakeTempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string templ = std::string(base && *base ? base : "/tmp") + "/policyd_bench.XXXXXX";
  if (mkdtemp(templ.data()) == nullptr)
    Fail("cannot create a temp dir from " + templ + ": " + std::strerror(errno));
  std::lock_guard lock(g_mu);
  g_temp_dir = templ;
  return templ;
}

pid_t Spawn(const std::vector<std::string>& argv, const std::string& log_path, std::string& error,
            const std::vector<std::string>& env) {
  std::vector<std::string> env_copy = env;  // putenv keeps the pointer: these outlive the exec
  std::vector<char*> cargv;
  for (const std::string& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
  cargv.push_back(nullptr);
  const int log = open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log < 0) {
    error = "cannot open " + log_path + ": " + std::strerror(errno);
    return -1;
  }
  const pid_t parent = getpid();
  std::lock_guard lock(g_mu);  // registered before anyone can ask Cleanup() about it
  const pid_t pid = fork();
  if (pid < 0) {
    error = std::string("fork: ") + std::strerror(errno);
    close(log);
    return -1;
  }
  if (pid == 0) {
    PrepareChild(parent);
    dup2(log, 1);
    dup2(log, 2);
    const int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0) dup2(devnull, 0);
    for (std::string& e : env_copy) putenv(e.data());
    execvp(cargv[0], cargv.data());
    _exit(127);
  }
  close(log);
  g_children.push_back(pid);
  return pid;
}

pid_t ForkFunction(void (*body)(void*), void* arg) {
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid < 0) Fail(std::string("fork: ") + std::strerror(errno));
  if (pid == 0) {
    PrepareChild(parent);
    body(arg);
    _exit(0);
  }
  Register(pid);
  return pid;
}

int RunToCompletion(const std::vector<std::string>& argv, const std::string& log_path,
                    double timeout_s) {
  std::string error;
  const pid_t pid = Spawn(argv, log_path, error);
  if (pid < 0) return -1;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
  int status = 0;
  while (ChildRunning(pid, &status)) {
    if (std::chrono::steady_clock::now() > deadline) {
      StopChild(pid, SIGKILL, 1000);
      return -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

bool ChildRunning(pid_t pid, int* status) {
  int st = 0;
  const pid_t r = waitpid(pid, &st, WNOHANG);
  if (r == 0) return true;
  if (r == pid) {
    Unregister(pid);
    if (status) *status = st;
  }
  return false;
}

void StopChild(pid_t pid, int sig, int timeout_ms) {
  if (pid <= 0) return;
  kill(pid, sig);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (std::chrono::steady_clock::now() < deadline) {
    if (waitpid(pid, nullptr, WNOHANG) != 0) {
      Unregister(pid);
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
  Unregister(pid);
}

bool InPath(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path ? path : "/usr/local/bin:/usr/bin:/bin");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    const std::string candidate = (dir.empty() ? "." : dir) + "/" + name;
    if (access(candidate.c_str(), X_OK) == 0) return true;
  }
  return false;
}

std::string FileTail(const std::string& path, std::size_t max_bytes) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  return s.size() > max_bytes ? s.substr(s.size() - max_bytes) : s;
}

CpuTime ProcessCpu(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat;
  std::getline(in, stat);
  // Fields after the command name, which is in parentheses and may hold spaces.
  const auto close_paren = stat.rfind(')');
  if (close_paren == std::string::npos) return {};
  std::istringstream fields(stat.substr(close_paren + 2));
  std::string field;
  double utime = 0, stime = 0;
  for (int i = 3; fields >> field; ++i) {  // field 3 is the state
    if (i == 14) utime = std::atof(field.c_str());
    if (i == 15) {
      stime = std::atof(field.c_str());
      break;
    }
  }
  const double hz = static_cast<double>(sysconf(_SC_CLK_TCK));
  return {utime / hz, stime / hz};
}

CpuTime SelfCpu() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  auto seconds = [](const timeval& tv) { return tv.tv_sec + tv.tv_usec / 1e6; };
  return {seconds(u.ru_utime), seconds(u.ru_stime)};
}

MachineCpu ReadMachineCpu() {
  std::ifstream in("/proc/stat");
  std::string cpu;
  double v[8] = {};  // user nice system idle iowait irq softirq steal
  in >> cpu;
  for (double& x : v) in >> x;
  const double hz = static_cast<double>(sysconf(_SC_CLK_TCK));
  double total = 0;
  for (double x : v) total += x;
  return {(total - v[3] - v[4]) / hz, total / hz};
}

long RssKb(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::atol(line.c_str() + 6);
  return -1;
}

std::uintmax_t DirSize(const std::string& dir) {
  std::uintmax_t total = 0;
  std::error_code ec;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir, ec))
    if (e.is_regular_file(ec)) total += e.file_size(ec);
  return total;
}

NotifySocket::NotifySocket(std::string path) : path_(std::move(path)) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path_.size() >= sizeof(addr.sun_path)) Fail("notify socket path too long: " + path_);
  std::memcpy(addr.sun_path, path_.c_str(), path_.size() + 1);
  fd_ = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0 || bind(fd_, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0)
    Fail("notify socket " + path_ + ": " + std::strerror(errno));
}

NotifySocket::~NotifySocket() {
  if (fd_ >= 0) close(fd_);
  unlink(path_.c_str());
}

bool NotifySocket::Receive(std::string_view needle, int timeout_ms) {
  pollfd p{fd_, POLLIN, 0};
  if (poll(&p, 1, timeout_ms) != 1) return false;
  char buf[4096];
  const ssize_t n = recv(fd_, buf, sizeof(buf), MSG_DONTWAIT);
  return n > 0 &&
         std::string_view(buf, static_cast<std::size_t>(n)).find(needle) != std::string_view::npos;
}

Conn::~Conn() {
  if (fd_ >= 0) close(fd_);
}

Conn::Conn(Conn&& other) noexcept { *this = std::move(other); }

Conn& Conn::operator=(Conn&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) close(fd_);
    fd_ = std::exchange(other.fd_, -1);
    buf_ = std::move(other.buf_);
    begin_ = other.begin_;
    end_ = other.end_;
  }
  return *this;
}

bool Conn::Connect(const std::string& path, std::string& error) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof(addr.sun_path)) {
    error = "socket path too long: " + path;
    return false;
  }
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    error = std::string("socket: ") + std::strerror(errno);
    return false;
  }
  if (connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0) {
    error = "connect " + path + ": " + std::strerror(errno);
    close(fd);
    return false;
  }
  if (fd_ >= 0) close(fd_);
  fd_ = fd;
  begin_ = end_ = 0;
  return true;
}

bool Conn::WriteAll(std::span<const std::uint8_t> bytes) {
  while (!bytes.empty()) {
    const ssize_t n = write(fd_, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    bytes = bytes.subspan(static_cast<std::size_t>(n));
  }
  return true;
}

bool Conn::Fill(std::size_t n) {
  if (end_ - begin_ >= n) return true;
  if (begin_ > 0) {
    std::memmove(buf_.data(), buf_.data() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
  }
  if (buf_.size() < n) buf_.resize(std::max(n, buf_.size() * 2));
  while (end_ < n) {
    const ssize_t r = read(fd_, buf_.data() + end_, buf_.size() - end_);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    end_ += static_cast<std::size_t>(r);
  }
  return true;
}

std::span<const std::uint8_t> Conn::ReadFrame() {
  if (!Fill(4)) return {};
  const std::uint8_t* p = buf_.data() + begin_;
  const std::uint32_t len =
      static_cast<std::uint32_t>(p[0]) | static_cast<std::uint32_t>(p[1]) << 8 |
      static_cast<std::uint32_t>(p[2]) << 16 | static_cast<std::uint32_t>(p[3]) << 24;
  if (len == 0 || len > (64u << 20) || !Fill(4 + len)) return {};
  std::span<const std::uint8_t> body(buf_.data() + begin_ + 4, len);
  begin_ += 4 + len;
  return body;
}

std::string_view Conn::ReadLine() {
  std::size_t scanned = 0;
  for (;;) {
    for (std::size_t i = begin_ + scanned; i + 1 < end_; ++i) {
      if (buf_[i] == '\r' && buf_[i + 1] == '\n') {
        std::string_view line(reinterpret_cast<const char*>(buf_.data() + begin_), i - begin_);
        begin_ = i + 2;
        return line;
      }
    }
    scanned = end_ - begin_ > 0 ? end_ - begin_ - 1 : 0;
    if (!Fill(end_ - begin_ + 1)) return {};
  }
}

bool Conn::ReadBulk(std::string_view& value) {
  const std::string_view line = ReadLine();
  if (line.size() < 2 || line[0] != '$') return false;
  std::size_t n = 0;
  for (char ch : line.substr(1)) {
    if (ch < '0' || ch > '9') return false;  // also "-1": nil
    n = n * 10 + static_cast<std::size_t>(ch - '0');
  }
  if (!Fill(n + 2)) return false;
  value = std::string_view(reinterpret_cast<const char*>(buf_.data() + begin_), n);
  begin_ += n + 2;
  return true;
}

bool Conn::ReadSimple(std::string_view expected) {
  const std::string_view line = ReadLine();
  return line.size() == expected.size() + 1 && line[0] == '+' && line.substr(1) == expected;
}

Machine DescribeMachine() {
  Machine m;
  m.cpus = std::thread::hardware_concurrency();
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line;
  while (std::getline(cpuinfo, line)) {
    if (line.rfind("model name", 0) == 0) {
      const auto colon = line.find(':');
      if (colon != std::string::npos)
        m.model = line.substr(line.find_first_not_of(" \t", colon + 1));
      break;
    }
  }
  if (m.model.empty()) m.model = "unknown";
  utsname u{};
  if (uname(&u) == 0)
    m.kernel = std::string(u.sysname) + " " + u.release + " " + u.machine;
  else
    m.kernel = "unknown";
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[64];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  m.date = buf;
  return m;
}

std::string LoadAverage() {
  std::ifstream in("/proc/loadavg");
  std::string one, five, fifteen;
  in >> one >> five >> fifteen;
  return one + " " + five + " " + fifteen;
}

std::string SelfDir() {
  std::error_code ec;
  const auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::string(".") : exe.parent_path().string();
}

}  // namespace policyd::bench
