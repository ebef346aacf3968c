// `policyctl check password`'s reader: from a pipe (bounds, one newline removed, wiping) and from
// a pseudo-terminal (prompt, echo off, the terminal restored, also when a signal ends it).
#include "cli/password_input.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <chrono>
#include <functional>
#include <sstream>
#include <string>
#include <thread>

namespace policyd {
namespace {

// Polls `condition` until it holds or 10 s pass.
::testing::AssertionResult WaitUntil(const std::function<bool()>& condition,
                                     const std::string& what) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return ::testing::AssertionSuccess();
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return ::testing::AssertionFailure() << "timed out waiting for " << what;
}

// ReadPassword over a pipe that holds `input` and is then closed; `prompt` gets what it writes.
Status ReadFromPipe(const std::string& input, SecretBuffer& out, std::ostream& prompt) {
  // A reader that stops early (too long) closes the pipe on a writer with more to write.
  signal(SIGPIPE, SIG_IGN);
  int fds[2];
  if (pipe(fds) != 0) return Status::Internal("pipe");
  std::thread writer([&] {
    std::size_t done = 0;
    while (done < input.size()) {
      const ssize_t n = write(fds[1], input.data() + done, input.size() - done);
      if (n <= 0) break;
      done += static_cast<std::size_t>(n);
    }
    close(fds[1]);
  });
  Status s = ReadPassword(fds[0], prompt, out);
  close(fds[0]);  // the writer's next write fails (EPIPE) instead of blocking
  writer.join();
  return s;
}

Status ReadFromPipe(const std::string& input, SecretBuffer& out) {
  std::ostringstream prompt;
  Status s = ReadFromPipe(input, out, prompt);
  EXPECT_EQ(prompt.str(), "") << "no prompt when standard input is not a terminal";
  return s;
}

bool AllZero(const char* p, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) {
    if (p[i] != 0) return false;
  }
  return true;
}

TEST(PasswordInputTest, TrailingNewlineLengthCountsOneLineEndOnly) {
  const struct {
    std::string input;
    std::size_t length;
  } cases[] = {{"", 0},    {"pw", 0},   {"pw\n", 1}, {"pw\r\n", 2}, {"pw\n\n", 1}, {"pw\r", 0},
               {"pw ", 0}, {"pw\t", 0}, {"\n", 1},   {"\r\n", 2},   {"pw\n\r", 0}, {"pw\r\r\n", 2}};
  for (const auto& c : cases) {
    EXPECT_EQ(TrailingNewlineLength(c.input), c.length) << ::testing::PrintToString(c.input);
  }
}

TEST(PasswordInputTest, APipedPasswordLosesOneTrailingNewlineAndNothingElse) {
  const struct {
    std::string input;
    std::string password;
  } cases[] = {
      {"Secret-1", "Secret-1"},
      {"Secret-1\n", "Secret-1"},
      {"Secret-1\r\n", "Secret-1"},
      {"Secret-1\n\n", "Secret-1\n"},
      {" Secret 1 \t\n", " Secret 1 \t"},
      {"Secret-1\r", "Secret-1\r"},
      {"two\nlines\n", "two\nlines"},
      {std::string("nul\0byte", 8), std::string("nul\0byte", 8)},
      {"\xc3\xa9t\xc3\xa9\n", "\xc3\xa9t\xc3\xa9"},
  };
  for (const auto& c : cases) {
    SecretBuffer out;
    ASSERT_TRUE(ReadFromPipe(c.input, out).ok()) << ::testing::PrintToString(c.input);
    EXPECT_EQ(out.view(), c.password) << ::testing::PrintToString(c.input);
  }
}

TEST(PasswordInputTest, UpTo4096BytesAreTakenWholeAndLongerInputIsRefused) {
  const std::string max(kMaxPasswordBytes, 'a');
  for (const std::string& input : {max, max + "\n", max + "\r\n"}) {
    SecretBuffer out;
    ASSERT_TRUE(ReadFromPipe(input, out).ok()) << input.size();
    EXPECT_EQ(out.view(), max);
  }
  for (const std::size_t size : {kMaxPasswordBytes + 1, kMaxPasswordBytes + 2,
                                 kMaxPasswordBytes + 3, std::size_t{100'000}}) {
    SecretBuffer out;
    const std::string input(size, 'b');
    const Status s = ReadFromPipe(input, out);
    EXPECT_EQ(s.code(), Code::kInvalidArgument) << size;
    EXPECT_NE(s.message().find("longer than 4096 bytes"), std::string::npos) << s.ToString();
    EXPECT_EQ(s.message().find("bbbb"), std::string::npos) << "never the password";
    EXPECT_EQ(out.size(), 0u);
    EXPECT_TRUE(AllZero(out.end(), SecretBuffer::kCapacity)) << "wiped after the refusal";
  }
  // A newline does not make room for one more byte of password.
  SecretBuffer out;
  EXPECT_EQ(ReadFromPipe(std::string(kMaxPasswordBytes + 1, 'c') + "\n", out).code(),
            Code::kInvalidArgument);
}

TEST(PasswordInputTest, NoPasswordIsAnError) {
  for (const std::string input : {"", "\n", "\r\n"}) {
    SecretBuffer out;
    const Status s = ReadFromPipe(input, out);
    EXPECT_EQ(s.code(), Code::kInvalidArgument) << ::testing::PrintToString(input);
    EXPECT_NE(s.message().find("no password on standard input"), std::string::npos);
  }
}

TEST(PasswordInputTest, AReadErrorIsInternal) {
  SecretBuffer out;
  std::ostringstream prompt;
  const Status s = ReadPassword(-1, prompt, out);
  EXPECT_EQ(s.code(), Code::kInternal);
  EXPECT_NE(s.message().find("read standard input"), std::string::npos) << s.ToString();
}

TEST(PasswordInputTest, TheBufferIsWipedByClearAndTheNewlineByShrink) {
  SecretBuffer out;
  ASSERT_TRUE(ReadFromPipe("Secret-1\r\n", out).ok());
  const char* bytes = out.end() - out.size();
  EXPECT_TRUE(AllZero(bytes + 8, 2)) << "the removed \\r\\n is wiped";
  out.Clear();
  EXPECT_EQ(out.size(), 0u);
  EXPECT_TRUE(AllZero(bytes, SecretBuffer::kCapacity));
}

// A pseudo-terminal: the master side plays the user's keyboard and screen.
class Pty {
 public:
  Pty() {
    master_ = posix_openpt(O_RDWR | O_NOCTTY);
    if (master_ < 0 || grantpt(master_) != 0 || unlockpt(master_) != 0) return;
    const char* name = ptsname(master_);
    if (name != nullptr) slave_ = open(name, O_RDWR | O_NOCTTY);
  }
  ~Pty() {
    if (slave_ >= 0) close(slave_);
    if (master_ >= 0) close(master_);
  }
  bool ok() const { return slave_ >= 0; }
  int master() const { return master_; }
  int slave() const { return slave_; }
  bool Echo() const {
    struct termios t {};
    return tcgetattr(slave_, &t) == 0 && (t.c_lflag & ECHO) != 0;
  }
  void Type(const std::string& keys) const {
    ASSERT_EQ(write(master_, keys.data(), keys.size()), static_cast<ssize_t>(keys.size()));
  }
  // What the terminal has shown since the last call (non-blocking).
  std::string Screen() const {
    const int flags = fcntl(master_, F_GETFL);
    fcntl(master_, F_SETFL, flags | O_NONBLOCK);
    std::string shown;
    char buf[256];
    ssize_t n;
    while ((n = read(master_, buf, sizeof buf)) > 0) shown.append(buf, static_cast<std::size_t>(n));
    fcntl(master_, F_SETFL, flags);
    return shown;
  }

 private:
  int master_ = -1;
  int slave_ = -1;
};

TEST(PasswordInputTest, OnATerminalItPromptsReadsOneLineWithoutEchoAndRestoresTheTerminal) {
  Pty pty;
  ASSERT_TRUE(pty.ok());
  ASSERT_TRUE(pty.Echo());
  SecretBuffer out;
  std::ostringstream prompt;
  Status status = Status::Internal("not run");
  std::thread reader([&] { status = ReadPassword(pty.slave(), prompt, out); });
  const bool echo_went_off = WaitUntil([&] { return !pty.Echo(); }, "echo off");
  pty.Type("Tty-Secret-9\n");
  reader.join();
  ASSERT_TRUE(echo_went_off);
  ASSERT_TRUE(status.ok()) << status.ToString();
  EXPECT_EQ(out.view(), "Tty-Secret-9");
  EXPECT_EQ(prompt.str(), "Password: \n");
  EXPECT_TRUE(pty.Echo()) << "the terminal's settings are back";
  EXPECT_EQ(pty.Screen().find("Tty-Secret"), std::string::npos) << "never echoed";
}

TEST(PasswordInputTest, OnATerminalAnEmptyLineIsNoPasswordAndTheTerminalIsRestored) {
  Pty pty;
  ASSERT_TRUE(pty.ok());
  SecretBuffer out;
  std::ostringstream prompt;
  Status status = Status::Ok();
  std::thread reader([&] { status = ReadPassword(pty.slave(), prompt, out); });
  const bool echo_went_off = WaitUntil([&] { return !pty.Echo(); }, "echo off");
  pty.Type("\n");
  reader.join();
  ASSERT_TRUE(echo_went_off);
  EXPECT_EQ(status.code(), Code::kInvalidArgument);
  EXPECT_TRUE(pty.Echo());
}

TEST(PasswordInputTest, ASignalThatEndsTheProcessWhileItWaitsRestoresTheTerminal) {
  for (const int signal_number : {SIGINT, SIGTERM, SIGHUP, SIGQUIT}) {
    Pty pty;
    ASSERT_TRUE(pty.ok());
    const pid_t child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      const struct rlimit no_core {};
      setrlimit(RLIMIT_CORE, &no_core);  // SIGQUIT's default action would dump one
      SecretBuffer out;
      std::ostringstream prompt;
      (void)ReadPassword(pty.slave(), prompt, out);
      _exit(0);
    }
    const bool echo_went_off = WaitUntil([&] { return !pty.Echo(); }, "echo off");
    kill(child, signal_number);
    int status = 0;
    ASSERT_EQ(waitpid(child, &status, 0), child);
    ASSERT_TRUE(echo_went_off);
    EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == signal_number) << signal_number;
    EXPECT_TRUE(pty.Echo()) << "signal " << signal_number;
  }
}

}  // namespace
}  // namespace policyd
