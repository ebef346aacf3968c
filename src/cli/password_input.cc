#include "cli/password_input.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <ostream>
#include <string>

namespace policyd {
namespace {

// The terminal a signal handler must restore: plain globals, read by an async-signal-safe handler.
volatile sig_atomic_t g_tty_fd = -1;
struct termios g_tty_saved;

constexpr int kEndingSignals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};
constexpr std::size_t kEndingSignalCount = sizeof(kEndingSignals) / sizeof(kEndingSignals[0]);

void RestoreTerminalAndEnd(int signal_number) {
  if (g_tty_fd >= 0) tcsetattr(g_tty_fd, TCSAFLUSH, &g_tty_saved);
  // SA_RESETHAND has put the default action back: the signal ends the process once this returns.
  raise(signal_number);
}

// Echo off on a terminal for its lifetime; the settings it found are put back on destruction and
// by the handlers of the signals that would otherwise end the process with echo still off.
class EchoOff {
 public:
  explicit EchoOff(int fd) : fd_(fd) {
    if (tcgetattr(fd, &saved_) != 0) {
      error_ = errno;
      return;
    }
    g_tty_saved = saved_;
    g_tty_fd = fd;
    struct sigaction action {};
    action.sa_handler = RestoreTerminalAndEnd;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESETHAND;
    for (std::size_t i = 0; i < kEndingSignalCount; ++i) {
      sigaction(kEndingSignals[i], &action, &previous_[i]);
    }
    struct termios quiet = saved_;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO | ECHONL);
    // TCSAFLUSH: what was typed before the prompt is not taken as (part of) the password.
    ok_ = tcsetattr(fd, TCSAFLUSH, &quiet) == 0;
    if (!ok_) {
      error_ = errno;
      RestoreHandlers();
    }
  }
  ~EchoOff() {
    if (!ok_) return;
    // TCSAFLUSH again: input left unread (an over-long line) must not reach the shell.
    tcsetattr(fd_, TCSAFLUSH, &saved_);
    RestoreHandlers();
  }
  EchoOff(const EchoOff&) = delete;
  EchoOff& operator=(const EchoOff&) = delete;
  bool ok() const { return ok_; }
  int error() const { return error_; }  // errno of the failure when !ok()

 private:
  void RestoreHandlers() {
    for (std::size_t i = 0; i < kEndingSignalCount; ++i) {
      sigaction(kEndingSignals[i], &previous_[i], nullptr);
    }
    g_tty_fd = -1;
  }

  int fd_;
  bool ok_ = false;
  int error_ = 0;
  struct termios saved_ {};
  struct sigaction previous_[kEndingSignalCount] {};
};

// Reads into `out` until end of file, or (`one_line`) the end of a line, or until it is full.
Status ReadInto(int fd, bool one_line, SecretBuffer& out) {
  while (out.room() > 0) {
    const ssize_t n = read(fd, out.end(), out.room());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Status::Internal(std::string("read standard input: ") + strerror(errno));
    if (n == 0) break;
    out.Grow(static_cast<std::size_t>(n));
    if (one_line && out.view().back() == '\n') break;
  }
  return Status::Ok();
}

Status ReadFromTerminal(int fd, std::ostream& prompt, SecretBuffer& out) {
  prompt << "Password: " << std::flush;
  Status read = Status::Ok();
  {
    EchoOff echo_off(fd);
    if (!echo_off.ok()) {
      return Status::Internal(std::string("turn off the terminal's echo: ") +
                              strerror(echo_off.error()));
    }
    // A terminal in canonical mode hands over one line per read.
    read = ReadInto(fd, /*one_line=*/true, out);
  }
  prompt << '\n' << std::flush;  // the Enter that ended the line was not echoed
  return read;
}

}  // namespace

SecretBuffer::~SecretBuffer() { Clear(); }

void SecretBuffer::Clear() {
  explicit_bzero(bytes_.data(), bytes_.size());
  size_ = 0;
}

void SecretBuffer::Shrink(std::size_t n) {
  if (n > size_) n = size_;
  size_ -= n;
  explicit_bzero(bytes_.data() + size_, n);
}

std::size_t TrailingNewlineLength(std::string_view input) {
  if (input.ends_with("\r\n")) return 2;
  if (input.ends_with('\n')) return 1;
  return 0;
}

Status ReadPassword(int fd, std::ostream& prompt, SecretBuffer& out) {
  out.Clear();
  Status read =
      isatty(fd) ? ReadFromTerminal(fd, prompt, out) : ReadInto(fd, /*one_line=*/false, out);
  if (read.ok()) {
    const bool full = out.room() == 0;
    out.Shrink(TrailingNewlineLength(out.view()));
    if (full || out.size() > kMaxPasswordBytes) {
      read = Status::InvalidArgument("the password on standard input is longer than " +
                                     std::to_string(kMaxPasswordBytes) + " bytes");
    } else if (out.size() == 0) {
      read = Status::InvalidArgument(
          "no password on standard input (it is read from there, never from the command line)");
    }
  }
  if (!read.ok()) out.Clear();
  return read;
}

}  // namespace policyd
