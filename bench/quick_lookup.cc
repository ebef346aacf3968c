// quick_lookup: a quick lookup-rate loop against a running policyd (the full benchmark with
// baselines lives beside it). C connections, each doing N blocking single-org lookups.
//
//   quick_lookup --socket PATH [--connections 16] [--requests 20000] [--orgs 1000]
//                [--prefix org-]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "client/client.h"

namespace {

struct Args {
  std::string socket;
  int connections = 16;
  int requests = 20000;
  int orgs = 1000;
  std::string prefix = "org-";
};

bool Parse(int argc, char** argv, Args& a) {
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i], value = argv[i + 1];
    if (flag == "--socket")
      a.socket = value;
    else if (flag == "--connections")
      a.connections = std::atoi(value.c_str());
    else if (flag == "--requests")
      a.requests = std::atoi(value.c_str());
    else if (flag == "--orgs")
      a.orgs = std::atoi(value.c_str());
    else if (flag == "--prefix")
      a.prefix = value;
    else
      return false;
  }
  return !a.socket.empty() && a.connections > 0 && a.requests > 0 && a.orgs > 0;
}

}  // namespace

int main(int argc, char** argv) {
  Args args;
  if (!Parse(argc, argv, args)) {
    std::fprintf(stderr,
                 "usage: quick_lookup --socket PATH [--connections C] [--requests N] "
                 "[--orgs K] [--prefix P]\n");
    return 2;
  }
  std::vector<std::vector<double>> latencies(args.connections);
  std::vector<int> failures(args.connections, 0);
  std::vector<std::thread> threads;
  const auto start = std::chrono::steady_clock::now();
  for (int c = 0; c < args.connections; ++c) {
    threads.emplace_back([&, c] {
      auto client = policyd::Client::Connect(args.socket);
      if (!client) {
        failures[c] = args.requests;
        return;
      }
      latencies[c].reserve(args.requests);
      for (int i = 0; i < args.requests; ++i) {
        const std::string org = args.prefix + std::to_string((c * 7919 + i) % args.orgs);
        const auto t0 = std::chrono::steady_clock::now();
        auto answer = client->GetOrgPolicy(org);
        const auto t1 = std::chrono::steady_clock::now();
        if (!answer) ++failures[c];
        latencies[c].push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
      }
    });
  }
  for (auto& t : threads) t.join();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::vector<double> all;
  int failed = 0;
  for (int c = 0; c < args.connections; ++c) {
    all.insert(all.end(), latencies[c].begin(), latencies[c].end());
    failed += failures[c];
  }
  std::sort(all.begin(), all.end());
  auto pct = [&all](double p) {
    return all.empty() ? 0.0
                       : all[std::min(all.size() - 1, static_cast<std::size_t>(p * all.size()))];
  };
  std::printf(
      "connections=%d lookups=%zu failed=%d seconds=%.2f lookups/s=%.0f "
      "p50=%.1fus p99=%.1fus p99.9=%.1fus\n",
      args.connections, all.size(), failed, seconds, all.size() / seconds, pct(0.50), pct(0.99),
      pct(0.999));
  return failed == 0 ? 0 : 1;
}
