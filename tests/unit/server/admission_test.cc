#include "server/admission.h"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

namespace policyd {
namespace {

TEST(AdmitConnectionTest, ChecksThePerPeerLimitThenTheOrdinaryPlacesThenAllPlaces) {
  const ConnectionLimits limits{64, 8, 4};  // ordinary peers share 60 places
  struct Case {
    bool privileged;
    std::size_t open, open_for_peer;
    Refusal want;
    const char* why;
  };
  const Case cases[] = {
      {false, 0, 0, Refusal::kNone, "first connection"},
      {false, 10, 7, Refusal::kNone, "one below the per-peer limit"},
      {false, 10, 8, Refusal::kPerPeer, "at the per-peer limit"},
      {false, 63, 8, Refusal::kPerPeer, "per-peer is named first even when nearly full"},
      {false, 64, 8, Refusal::kPerPeer, "per-peer is named first even when full"},
      {false, 59, 0, Refusal::kNone, "the last ordinary place"},
      {false, 60, 0, Refusal::kReserved, "only reserved places left"},
      {false, 63, 0, Refusal::kReserved, "one reserved place left"},
      {false, 64, 0, Refusal::kMaxConnections, "every place taken"},
      {false, 65, 0, Refusal::kMaxConnections, "over a lowered limit"},
      {true, 60, 0, Refusal::kNone, "privileged: first reserved place"},
      {true, 63, 40, Refusal::kNone, "privileged: not held to the per-peer limit"},
      {true, 64, 0, Refusal::kMaxConnections, "privileged: every place taken"},
      {true, 64, 64, Refusal::kMaxConnections, "privileged holding everything"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(AdmitConnection(limits, c.privileged, c.open, c.open_for_peer), c.want) << c.why;
  }
}

TEST(AdmitConnectionTest, NoReservedPlacesMeansOneSharedLimit) {
  const ConnectionLimits limits{10, 100, 0};
  EXPECT_EQ(AdmitConnection(limits, false, 9, 9), Refusal::kNone);
  EXPECT_EQ(AdmitConnection(limits, false, 10, 10), Refusal::kMaxConnections);
  EXPECT_EQ(AdmitConnection(limits, true, 10, 0), Refusal::kMaxConnections);
}

TEST(OrdinaryPlacesTest, ReservedPlacesArePartOfMaxConnectionsAndOneStaysOrdinary) {
  EXPECT_EQ(OrdinaryPlaces({4096, 512, 8}), 4088u);
  EXPECT_EQ(OrdinaryPlaces({64, 8, 4}), 60u);
  EXPECT_EQ(OrdinaryPlaces({9, 8, 8}), 1u);
  // The descriptor limit lowered max-connections to the reserved count or below.
  EXPECT_EQ(OrdinaryPlaces({8, 8, 8}), 1u);
  EXPECT_EQ(OrdinaryPlaces({3, 8, 8}), 1u);
  EXPECT_EQ(OrdinaryPlaces({0, 8, 8}), 0u);
}

TEST(IsPrivilegedPeerTest, RootAndTheDaemonsOwnUid) {
  EXPECT_TRUE(IsPrivilegedPeer(0, 998));
  EXPECT_TRUE(IsPrivilegedPeer(998, 998));
  EXPECT_FALSE(IsPrivilegedPeer(1000, 998));
  EXPECT_FALSE(IsPrivilegedPeer(static_cast<uid_t>(-1), 998));  // SO_PEERCRED failed
  EXPECT_TRUE(IsPrivilegedPeer(0, 0));
}

TEST(RefusalTest, ReasonsAreTheMetricLabelsAndMessagesNameTheFlag) {
  const ConnectionLimits limits{64, 8, 4};
  EXPECT_EQ(RefusalReason(Refusal::kPerPeer), "per_peer");
  EXPECT_EQ(RefusalReason(Refusal::kReserved), "reserved");
  EXPECT_EQ(RefusalReason(Refusal::kMaxConnections), "max_connections");
  EXPECT_EQ(RefusalReason(Refusal::kNone), "");
  EXPECT_EQ(RefusalMessage(Refusal::kPerPeer, limits, 65534),
            "uid 65534 holds its maximum of 8 connections (--max-connections-per-peer); close "
            "some or try again later");
  EXPECT_EQ(RefusalMessage(Refusal::kReserved, limits, 65534),
            "policyd's places for other users are all taken: the last 4 of its "
            "--max-connections 64 are reserved for root and policyd's own uid "
            "(--reserved-connections); try again later");
  // Unchanged from before per-peer limits existed: clients and scripts may match it.
  EXPECT_EQ(RefusalMessage(Refusal::kMaxConnections, limits, 0),
            "policyd is serving its maximum of 64 connections (--max-connections); try again "
            "later");
  EXPECT_EQ(RefusalMessage(Refusal::kNone, limits, 0), "");
}

TEST(ConnectionTableTest, CountsByUidAndFreesPlacesOnClose) {
  ConnectionTable table(/*own_euid=*/998);
  table.SetLimits({8, 3, 2});  // ordinary peers share 6 places, 3 each
  for (int i = 0; i < 3; ++i) EXPECT_EQ(table.Open(1000), Refusal::kNone);
  EXPECT_EQ(table.Open(1000), Refusal::kPerPeer);
  EXPECT_EQ(table.open_for(1000), 3u);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(table.Open(1001), Refusal::kNone);
  EXPECT_EQ(table.open(), 6u);
  EXPECT_EQ(table.Open(1002), Refusal::kReserved);
  EXPECT_EQ(table.Open(998), Refusal::kNone);  // the daemon's own uid
  EXPECT_EQ(table.Open(0), Refusal::kNone);    // root
  EXPECT_EQ(table.Open(0), Refusal::kMaxConnections);
  EXPECT_EQ(table.open(), 8u);

  table.Close(1000);
  EXPECT_EQ(table.open_for(1000), 2u);
  EXPECT_EQ(table.Open(1002), Refusal::kReserved);  // 7 open: still only reserved places
  table.Close(0);
  table.Close(998);
  EXPECT_EQ(table.Open(1002), Refusal::kNone);
  EXPECT_EQ(table.Open(1000), Refusal::kReserved);  // 6 open again
  table.Close(1002);
  EXPECT_EQ(table.open_for(1002), 0u);
  // Closing what was never opened does not go below zero.
  table.Close(4242);
  EXPECT_EQ(table.open(), 5u);
}

TEST(ConnectionTableTest, NewLimitsApplyToTheNextConnection) {
  ConnectionTable table(998);
  table.SetLimits({100, 2, 8});
  EXPECT_EQ(table.Open(1000), Refusal::kNone);
  EXPECT_EQ(table.Open(1000), Refusal::kNone);
  EXPECT_EQ(table.Open(1000), Refusal::kPerPeer);
  table.SetLimits({100, 4, 8});
  EXPECT_EQ(table.Open(1000), Refusal::kNone);
  table.SetLimits({100, 1, 8});  // lowered: open ones are kept, new ones refused
  EXPECT_EQ(table.open_for(1000), 3u);
  EXPECT_EQ(table.Open(1000), Refusal::kPerPeer);
  EXPECT_EQ(table.limits(), (ConnectionLimits{100, 1, 8}));
}

TEST(ConnectionTableTest, ClosesFromOtherThreadsKeepTheCountExact) {
  ConnectionTable table(998);
  table.SetLimits({100000, 100000, 0});
  constexpr int kPerThread = 5000;
  for (int i = 0; i < 4 * kPerThread; ++i) ASSERT_EQ(table.Open(1000 + i % 4), Refusal::kNone);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&table, t] {
      for (int i = 0; i < kPerThread; ++i) table.Close(static_cast<uid_t>(1000 + t));
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(table.open(), 0u);
  for (uid_t u = 1000; u < 1004; ++u) EXPECT_EQ(table.open_for(u), 0u);
}

}  // namespace
}  // namespace policyd
