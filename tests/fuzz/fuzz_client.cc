// Fuzzes the C++ client's receive path (what the Python extension runs on): a peer sends the
// input's bytes (the rest of the input after its first byte, repeated 1 to 8 times, so that
// frames can outgrow the client's 4 KiB receive buffer) and closes; ReceiveFrame must return
// exactly the frames a plain reading of the stream finds, in order, then fail as that reading
// says: UNAVAILABLE when the stream ends (also mid-frame), INTERNAL for a length below 8 or
// above the limit (the input's first byte picks it). One socket pair per input: a unix socket
// in a temp dir of this process.
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "client/client.h"
#include "wire/frame.h"

namespace {

struct Listener {
  std::string path;
  int fd = -1;
};

const Listener& TheListener() {
  static const Listener l = [] {
    Listener out;
    char dir[] = "/tmp/policyd-fuzz-client-XXXXXX";
    if (mkdtemp(dir) == nullptr) std::abort();
    out.path = std::string(dir) + "/s.sock";
    out.fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, out.path.data(), out.path.size());
    if (bind(out.fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
        listen(out.fd, 4) != 0) {
      std::abort();
    }
    return out;
  }();
  return l;
}

std::uint32_t Le32(const std::uint8_t* p) {
  return std::uint32_t{p[0]} | std::uint32_t{p[1]} << 8 | std::uint32_t{p[2]} << 16 |
         std::uint32_t{p[3]} << 24;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::uint32_t limits[] = {64, 4096, 40000, 16u << 20};
  policyd::ClientOptions options;
  options.timeout = std::chrono::milliseconds(5000);
  options.max_response_bytes = limits[data[0] & 3];
  std::vector<std::uint8_t> stream;
  for (int i = 0; i <= (data[0] >> 2) % 8; ++i) stream.insert(stream.end(), data + 1, data + size);
  if (stream.size() > 150 * 1024) return 0;  // must fit the socket's buffer: written at once

  const Listener& listener = TheListener();
  auto client = policyd::Client::Connect(listener.path, options);
  if (!client) std::abort();
  const int peer = accept(listener.fd, nullptr, nullptr);
  if (peer < 0) std::abort();
  std::size_t sent = 0;
  while (sent < stream.size()) {
    const ssize_t n = send(peer, stream.data() + sent, stream.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) std::abort();
    sent += static_cast<std::size_t>(n);
  }
  close(peer);

  std::size_t at = 0;
  for (;;) {
    auto frame = client->ReceiveFrame();
    const std::size_t left = stream.size() - at;
    const std::uint32_t length = left >= 4 ? Le32(stream.data() + at) : 0;
    if (left < 4) {  // the stream ends before a frame's length
      if (frame || frame.error().code() != policyd::Code::kUnavailable) std::abort();
      break;
    }
    if (length < policyd::kMinFrameBytes || length > options.max_response_bytes) {
      if (frame || frame.error().code() != policyd::Code::kInternal) std::abort();
      break;
    }
    if (left - 4 < length) {  // the stream ends inside the frame
      if (frame || frame.error().code() != policyd::Code::kUnavailable) std::abort();
      break;
    }
    if (!frame || frame->size() != length ||
        std::memcmp(frame->data(), stream.data() + at + 4, length) != 0 ||
        reinterpret_cast<std::uintptr_t>(frame->data()) % 8 != 0) {
      std::abort();
    }
    at += 4 + length;
  }
  if (client->connected()) std::abort();  // every failure above closes the connection
  return 0;
}
