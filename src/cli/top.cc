// `policyctl top`: the live view. Asks the daemon for its status with counters once per interval
// and redraws the screen (cli/top_view.h) until q, Ctrl-C or --count frames.
//
// On a terminal it draws on the alternate screen with plain ANSI escape codes (home, clear to end
// of line/screen, hide the cursor) and reads single keys; anything else (a pipe, a file) gets
// the frames as plain text one after another, and --once prints one frame and exits.
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include <chrono>
#include <optional>
#include <ostream>

#include "cli/commands.h"
#include "cli/top_view.h"
#include "client/client.h"

namespace policyd {
namespace {

volatile sig_atomic_t g_quit = 0;

void OnQuitSignal(int) { g_quit = 1; }

// Raw-ish keyboard input and the alternate screen while top runs; restored however it ends.
class Terminal {
 public:
  Terminal(std::ostream& out, bool draw) : out_(out), draw_(draw) {
    keys_ = isatty(STDIN_FILENO) == 1 && tcgetattr(STDIN_FILENO, &saved_) == 0;
    if (keys_) {
      termios raw = saved_;
      raw.c_lflag &= ~static_cast<tcflag_t>(ICANON | ECHO);  // ISIG stays: Ctrl-C still quits
      raw.c_cc[VMIN] = 1;
      raw.c_cc[VTIME] = 0;
      tcsetattr(STDIN_FILENO, TCSANOW, &raw);
    }
    if (draw_) out_ << "\x1b[?1049h\x1b[?25l" << std::flush;
  }
  ~Terminal() {
    if (draw_) out_ << "\x1b[?25h\x1b[?1049l" << std::flush;
    if (keys_) tcsetattr(STDIN_FILENO, TCSANOW, &saved_);
  }
  Terminal(const Terminal&) = delete;
  Terminal& operator=(const Terminal&) = delete;

  // Waits up to `wait`; false when the user asked to quit (q, Q, Ctrl-C, SIGTERM).
  bool Wait(std::chrono::milliseconds wait) {
    const auto deadline = std::chrono::steady_clock::now() + wait;
    while (!g_quit) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return true;
      pollfd fd{STDIN_FILENO, POLLIN, 0};
      const int ready = poll(keys_ ? &fd : nullptr, keys_ ? 1 : 0, static_cast<int>(left.count()));
      if (ready > 0) {
        char key = 0;
        if (read(STDIN_FILENO, &key, 1) == 1 && (key == 'q' || key == 'Q')) return false;
      }
    }
    return false;
  }

  void Show(const std::vector<std::string>& lines) {
    if (draw_) {
      out_ << "\x1b[H";
      for (const std::string& line : lines) out_ << line << "\x1b[K\n";
      out_ << "\x1b[J";
    } else {
      for (const std::string& line : lines) out_ << line << '\n';
      out_ << '\n';
    }
    out_ << std::flush;
  }

 private:
  std::ostream& out_;
  const bool draw_;
  bool keys_ = false;
  termios saved_{};
};

std::size_t Width(bool tty) {
  winsize size{};
  if (tty && ioctl(STDOUT_FILENO, TIOCGWINSZ, &size) == 0 && size.ws_col > 0) return size.ws_col;
  return 200;
}

// One sample, reconnecting when needed.
Result<ServerStatus> Sample(const CliContext& ctx, std::optional<Client>& client) {
  if (!client || !client->connected()) {
    ClientOptions options;
    options.timeout = std::chrono::milliseconds(ctx.timeout_ms);
    Result<Client> connected = Client::Connect(ctx.socket_path, options);
    if (!connected) return Err(connected.error());
    client.emplace(std::move(*connected));
  }
  Result<ServerStatus> status = client->GetStatus(/*with_counters=*/true);
  if (status && !status->counters) {
    return Err(Status(Code::kUnimplemented, "this policyd does not report counters (too old)"));
  }
  return status;
}

}  // namespace

int RunTop(const CliContext& ctx, const TopOptions& options) {
  const bool tty = isatty(STDOUT_FILENO) == 1 && !options.once;
  struct sigaction quit {};
  quit.sa_handler = OnQuitSignal;  // no SA_RESTART: poll() returns at once
  sigaction(SIGINT, &quit, nullptr);
  sigaction(SIGTERM, &quit, nullptr);
  const auto interval = std::chrono::milliseconds(options.interval_ms);
  std::optional<Client> client;
  Result<ServerStatus> previous = Sample(ctx, client);
  if (options.once) {
    // Two samples an interval apart, so the one frame has rates.
    if (!previous) return ReportError(ctx, previous.error(), /*transport=*/true);
    Terminal terminal(ctx.out, /*draw=*/false);
    if (!terminal.Wait(interval)) return kExitOk;
    Result<ServerStatus> current = Sample(ctx, client);
    if (!current) return ReportError(ctx, current.error(), /*transport=*/true);
    terminal.Show(RenderTop(&*previous, *current, Width(false)));
    return kExitOk;
  }
  Terminal terminal(ctx.out, tty);
  const ServerStatus* before = nullptr;
  for (std::uint64_t frame = 0; options.count == 0 || frame < options.count; ++frame) {
    if (frame > 0) {
      if (!terminal.Wait(interval)) break;
      Result<ServerStatus> current = Sample(ctx, client);
      before = previous ? &*previous : nullptr;
      if (!current) {
        terminal.Show(
            RenderTopUnreachable(ctx.socket_path, current.error().ToString(), Width(tty)));
        previous = std::move(current);
        continue;
      }
      terminal.Show(RenderTop(before, *current, Width(tty)));
      previous = std::move(current);
    } else if (previous) {
      terminal.Show(RenderTop(nullptr, *previous, Width(tty)));
    } else {
      terminal.Show(RenderTopUnreachable(ctx.socket_path, previous.error().ToString(), Width(tty)));
    }
  }
  return kExitOk;
}

}  // namespace policyd
