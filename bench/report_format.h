// Formatting helpers shared by report.cc and report_analysis.cc (internal to the report).
#pragma once

#include <sstream>
#include <string>
#include <vector>

#include "report.h"

namespace policyd::bench {

std::string Fmt(const char* format, double v);  // snprintf of one number
std::string MB(double bytes);                   // "12.3 MB" (10^6 bytes)
// The available row of `server`/`mode`/`conns` with operations, or nullptr.
const RunResult* Find(const std::vector<RunResult>& runs, const std::string& server,
                      const std::string& mode, int conns);
std::string Cpu(const RunResult& r);  // "1.0 + 2.0": server user + system µs per operation
void RunTable(std::ostringstream& o, const std::vector<RunResult>& runs);

// The sections of report_analysis.cc.
void AssertSection(std::ostringstream& o, const BenchResults& r);
void ProfileSectionText(std::ostringstream& o, const BenchResults& r);

}  // namespace policyd::bench
