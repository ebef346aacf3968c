// Parts of the command-line parser shared by config.cc and fleet_config.cc. Internal to daemon/.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

#include "base/status.h"
#include "daemon/config.h"

namespace policyd {

// OK and `out` set if `text` is a whole number in [min, max]; INVALID_ARGUMENT otherwise.
Status ParseUnsigned(const std::string& text, std::uint64_t min, std::uint64_t max,
                     std::uint64_t& out);

// OK and `out` set if `text` is a duration (ParseDuration) of at least `min`.
Status ParseDurationInto(const std::string& text, std::chrono::milliseconds min,
                         std::chrono::milliseconds& out);

// A setting's apply function that copies the text into `field`.
inline std::function<Status(const std::string&)> TextSetting(std::string& field) {
  return [&field](const std::string& v) {
    field = v;
    return Status::Ok();
  };
}

// Declares one setting: a flag "--<name>" and the config-file key "<name>", its help text, its
// default (as text) and how to apply a value; `is_flag` for a boolean switch.
using AddSetting =
    std::function<void(const std::string& name, const std::string& help, std::string default_text,
                       std::function<Status(const std::string&)> apply, bool is_flag)>;

// Declares the fleet-mode settings (publish-to, follow, nats-*, publish-resync-interval,
// publisher-id) into `config` (fleet_config.cc).
void AddFleetSettings(const AddSetting& add, DaemonConfig& config);

// The fleet-mode rules that involve several settings; INVALID_ARGUMENT with one line otherwise.
Status ValidateFleet(const DaemonConfig& config);

}  // namespace policyd
