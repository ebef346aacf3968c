// The sync apply rate: how many upstream events per second the real Syncer applies to the real
// RocksDB store, reading pages of 1,000 events over HTTP from tests/fake_upstream (an in-process
// fake of ZITADEL's REST API with a real event log, served on loopback by its own threads).
//
// Method: `orgs` orgs are created upstream and synced (a cold start); then `rounds` org-policy
// events per org are pushed (the first adds each org's policy, the rest change it) and one
// incremental SyncOnce() pulls and applies them all, timed. The store and the upstream client are
// wrapped to split that time into fetching+parsing pages, reading the store and writing batches.
//
// Runs on the calling thread (plus the fake upstream's server threads) in a directory it is given.
#pragma once

#include <cstdint>
#include <string>

namespace policyd::bench {

struct SyncRate {
  std::string error;  // non-empty: the measurement failed, and why
  std::uint64_t events = 0, pages = 0;
  double seconds = 0, events_per_second = 0;
  double fetch_s = 0;  // in Upstream::ListEvents: HTTP round trips (the fake builds each page
                       // on the same cores) and JSON parsing
  double read_s = 0, write_s = 0;  // Store::Read and Store::Apply
  double generate_s = 0;           // making the events upstream (not part of the rate)
};

SyncRate MeasureSyncRate(const std::string& dir, int orgs, int rounds);

}  // namespace policyd::bench
