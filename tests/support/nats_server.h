// Test support: real nats-server processes (Debian's /usr/sbin/nats-server) with JetStream, on
// 127.0.0.1, for the tests of src/nats and fleet mode.
//
// A NatsCluster of 1 or 3 nodes picks free loopback ports (never 4222, the packaged service's
// port), writes one config file per node into a temp directory (client, HTTP monitoring and,
// for 3 nodes, cluster ports; a JetStream store dir with small limits), starts the processes
// and waits, with a deadline, until each node answers /healthz and, for a cluster, every node
// knows a JetStream meta leader. A node can be killed (SIGKILL), stopped (SIGTERM) and restarted
// with the same ports and store. The destructor stops every node still running (even when the
// test failed) and removes the directory.
//
// `extra_config` is appended to every node's config (e.g. an authorization block); files named
// in `copy_files` are copied next to the configs first, so it can `include` them by name.
//
// Thread-safety: none; use from the test's thread.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "support/process.h"

namespace policyd::testing_support {

// The nats-server binary: $POLICYD_NATS_SERVER, else /usr/sbin/nats-server.
std::string NatsServerBinary();

struct NatsClusterOptions {
  int nodes = 1;  // 1 or 3
  std::string extra_config;
  std::vector<std::string> copy_files;
};

class NatsCluster {
 public:
  explicit NatsCluster(NatsClusterOptions options = {});
  ~NatsCluster();
  NatsCluster(const NatsCluster&) = delete;
  NatsCluster& operator=(const NatsCluster&) = delete;

  // Starts every node and waits until all are ready (see above).
  ::testing::AssertionResult Start(std::chrono::milliseconds timeout = std::chrono::seconds(20));

  int size() const { return static_cast<int>(nodes_.size()); }
  // "nats://127.0.0.1:PORT" of node i, and of all nodes.
  std::string Url(int i) const;
  std::vector<std::string> Urls() const;
  // Server name of node i ("n1", "n2", ...), and the index of a name (-1 if unknown).
  std::string Name(int i) const;
  int IndexOf(const std::string& name) const;

  void Kill(int i);  // SIGKILL, waits for the exit
  void Stop(int i);  // SIGTERM, waits up to 10 s (then SIGKILL)
  bool Running(int i);
  // Starts node i again (same ports and store) and waits until it is ready.
  ::testing::AssertionResult Restart(int i,
                                     std::chrono::milliseconds timeout = std::chrono::seconds(20));
  // What node i wrote to stderr (its log), across restarts.
  std::string Log(int i) const;

 private:
  struct Node {
    std::string name;
    int client_port = 0;
    int http_port = 0;
    int cluster_port = 0;
    std::string config_path;
    std::vector<std::string> log_paths;
    std::unique_ptr<ChildProcess> process;
  };
  void WriteConfig(Node& node);
  void Launch(Node& node);
  ::testing::AssertionResult WaitReady(Node& node, std::chrono::milliseconds timeout);

  NatsClusterOptions options_;
  TempDir dir_;
  std::vector<Node> nodes_;
};

}  // namespace policyd::testing_support
