#include "base/clock.h"

#include <time.h>

namespace policyd {
namespace {

class RealClock final : public Clock {
 public:
  Timestamp Now() const override {
    timespec ts{};
    clock_gettime(CLOCK_REALTIME, &ts);
    return {ts.tv_sec, static_cast<std::int32_t>(ts.tv_nsec)};
  }
};

}  // namespace

const Clock& SystemClock() {
  static const RealClock clock;
  return clock;
}

std::int64_t MillisBetween(Timestamp from, Timestamp to) {
  return (to.seconds - from.seconds) * 1000 + (to.nanos - from.nanos) / 1'000'000;
}

}  // namespace policyd
