// A fleet-mode daemon's status on the wire (StatusReply.fleet): round trips with and without it,
// and fleet tables a hostile or broken server could send.
#include <flatbuffers/flatbuffers.h>
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "response_generated.h"
#include "unit/wire/aligned.h"
#include "wire/frame.h"
#include "wire/response.h"

namespace policyd {
namespace {

using testing_support::Aligned;
using testing_support::Body;
using testing_support::Bytes;
using testing_support::FrameBody;

FleetStatus Follower() {
  FleetStatus f;
  f.role = FleetRole::kFollower;
  f.servers = "nats://10.0.0.1:4222,nats://10.0.0.2:4222";
  f.bucket = "policyd";
  f.connection = FleetConnection::kReconnecting;
  f.cursor = 1'234'567'890'123;
  f.caught_up = true;
  f.publishers = {{"pub-a", {1'765'000'000, 250'000'000}, "iam.example.com"},
                  {"pub-b", {}, "/etc/policyd/snapshot.json"}};
  f.values_applied = 11;
  f.values_skipped = 12;
  f.values_refused = 13;
  f.cold_starts = 14;
  return f;
}

FleetStatus Publisher() {
  FleetStatus f;
  f.role = FleetRole::kPublisher;
  f.servers = "nats://nats.internal:4222";
  f.bucket = "policy-prod";
  f.connection = FleetConnection::kConnected;
  f.cursor = 77;
  f.publishers = {{"host-1", {1'765'000'100, 0}, "iam.example.com"}};
  f.values_skipped = 3;
  f.writes = 21;
  f.write_conflicts = 22;
  f.write_errors = 23;
  f.resync_passes = 24;
  return f;
}

ServerStatus WithFleet(std::optional<FleetStatus> fleet) {
  ServerStatus s;
  s.meta.org_count = 5;
  s.meta.has_instance = true;
  s.health = Health::kServing;
  s.version = "0.9.0";
  s.now = Timestamp{1'765'000'200, 0};
  s.fleet = std::move(fleet);
  return s;
}

Result<Response> RoundTrip(const ServerStatus& s) {
  ResponseEncoder enc;
  std::vector<std::uint8_t> frame;
  enc.AppendStatus(frame, 21, s);
  Aligned body = FrameBody(frame);
  return DecodeResponse(body.span());
}

TEST(FleetWireTest, AFollowersStatusRoundTrips) {
  const ServerStatus s = WithFleet(Follower());
  Result<Response> r = RoundTrip(s);
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  EXPECT_EQ(r->kind, ResponseKind::kStatus);
  ASSERT_TRUE(r->status.fleet.has_value());
  EXPECT_EQ(*r->status.fleet, *s.fleet);
  EXPECT_EQ(r->status, s);
}

TEST(FleetWireTest, APublishersStatusRoundTripsWithCounters) {
  ServerStatus s = WithFleet(Publisher());
  s.counters.emplace().sync_successes = 9;
  Result<Response> r = RoundTrip(s);
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  EXPECT_EQ(r->status, s);
}

TEST(FleetWireTest, NoFleetModeMeansNoFleetTable) {
  const ServerStatus s = WithFleet(std::nullopt);
  ResponseEncoder enc;
  std::vector<std::uint8_t> frame;
  enc.AppendStatus(frame, 1, s);
  Aligned body = FrameBody(frame);
  EXPECT_EQ(fb::GetResponse(body.span().data())->body_as_StatusReply()->fleet(), nullptr);
  Result<Response> r = DecodeResponse(body.span());
  ASSERT_TRUE(r.has_value());
  EXPECT_FALSE(r->status.fleet.has_value());
  EXPECT_EQ(r->status, s);
}

TEST(FleetWireTest, AFleetWithoutPublishersOrStringsRoundTrips) {
  FleetStatus f;
  f.role = FleetRole::kFollower;  // just started: nothing known yet
  Result<Response> r = RoundTrip(WithFleet(f));
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  ASSERT_TRUE(r->status.fleet.has_value());
  EXPECT_EQ(*r->status.fleet, f);
}

// A StatusReply whose fleet table is built by `fill` (the hostile-server side of the tests).
template <typename Fill>
Aligned CraftedStatus(Fill fill) {
  flatbuffers::FlatBufferBuilder fbb;
  const auto fleet = fill(fbb);
  fb::StatusReplyBuilder status(fbb);
  status.add_fleet(fleet);
  const auto body = status.Finish();
  fbb.Finish(fb::CreateResponse(fbb, 3, 0, fb::ResponseBody::StatusReply, body.Union(), false),
             fb::ResponseIdentifier());
  return Aligned({fbb.GetBufferPointer(), fbb.GetSize()});
}

TEST(FleetWireTest, AFleetTableWithoutARoleIsRefused) {
  Aligned buffer = CraftedStatus([](flatbuffers::FlatBufferBuilder& fbb) {
    return fb::CreateFleetStatus(fbb, fb::FleetRole::NONE, fbb.CreateString("nats://x:4222"));
  });
  Result<Response> r = DecodeResponse(buffer.span());
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), Code::kInvalidArgument);
  EXPECT_NE(r.error().message().find("fleet"), std::string::npos) << r.error().ToString();
}

TEST(FleetWireTest, APublisherWithoutAnIdIsRefused) {
  for (const char* id : {static_cast<const char*>(nullptr), ""}) {
    Aligned buffer = CraftedStatus([id](flatbuffers::FlatBufferBuilder& fbb) {
      const auto name = id == nullptr ? 0 : fbb.CreateString(id);
      const fb::Timestamp t(1'765'000'000, 0);
      std::vector<flatbuffers::Offset<fb::FleetPublisher>> publishers = {
          fb::CreateFleetPublisher(fbb, fbb.CreateString("ok"), &t),
          fb::CreateFleetPublisher(fbb, name, &t)};
      const auto vector = fbb.CreateVector(publishers);
      return fb::CreateFleetStatus(fbb, fb::FleetRole::FOLLOWER, 0, 0,
                                   fb::FleetConnection::CONNECTED, 1, true, vector);
    });
    Result<Response> r = DecodeResponse(buffer.span());
    ASSERT_FALSE(r.has_value()) << (id == nullptr ? "absent id" : "empty id");
    EXPECT_EQ(r.error().code(), Code::kInvalidArgument);
  }
}

TEST(FleetWireTest, APublishersLastSyncWithBadNanosIsRefused) {
  for (std::int32_t nanos : {-1, 1'000'000'000}) {
    Aligned buffer = CraftedStatus([nanos](flatbuffers::FlatBufferBuilder& fbb) {
      const fb::Timestamp t(1'765'000'000, nanos);
      std::vector<flatbuffers::Offset<fb::FleetPublisher>> publishers = {
          fb::CreateFleetPublisher(fbb, fbb.CreateString("pub"), &t)};
      const auto vector = fbb.CreateVector(publishers);
      return fb::CreateFleetStatus(fbb, fb::FleetRole::FOLLOWER, 0, 0,
                                   fb::FleetConnection::CONNECTED, 1, true, vector);
    });
    EXPECT_FALSE(DecodeResponse(buffer.span()).has_value()) << nanos;
  }
}

// A newer daemon's role or connection state is kept as its number (every surface names it
// "unknown"), not refused: the schema's evolution rules let enums grow.
TEST(FleetWireTest, UnknownRoleAndConnectionNumbersAreKept) {
  Aligned buffer = CraftedStatus([](flatbuffers::FlatBufferBuilder& fbb) {
    return fb::CreateFleetStatus(fbb, static_cast<fb::FleetRole>(9), 0, 0,
                                 static_cast<fb::FleetConnection>(7));
  });
  Result<Response> r = DecodeResponse(buffer.span());
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  ASSERT_TRUE(r->status.fleet.has_value());
  EXPECT_EQ(FleetRoleName(r->status.fleet->role), "unknown");
  EXPECT_EQ(FleetConnectionName(r->status.fleet->connection), "unknown");
}

// Byte offset of `p` (inside `buffer`) from its start.
std::size_t OffsetIn(const Aligned& buffer, const void* p) {
  return static_cast<std::size_t>(static_cast<const std::uint8_t*>(p) - buffer.span().data());
}

TEST(FleetWireTest, TheVerifierRefusesAFleetTablePointingOutsideTheFrame) {
  const ServerStatus s = WithFleet(Follower());
  ResponseEncoder enc;
  std::vector<std::uint8_t> frame;
  enc.AppendStatus(frame, 1, s);
  const Aligned good = FrameBody(frame);
  const fb::FleetStatus* fleet =
      fb::GetResponse(good.span().data())->body_as_StatusReply()->fleet();
  ASSERT_NE(fleet, nullptr);
  // Each patch: a 4-byte little-endian value written over one field of the encoded frame.
  struct Patch {
    const char* what;
    std::size_t at;
    std::uint32_t value;
  };
  const Patch patches[] = {
      {"publishers vector length", OffsetIn(good, fleet->publishers()) - 4, 0x7fffffff},
      {"bucket string length", OffsetIn(good, fleet->bucket()) - 4, 0x00ffffff},
      {"first publisher's id length", OffsetIn(good, fleet->publishers()->Get(0)->id()) - 4,
       0xfffffff0},
  };
  for (const Patch& patch : patches) {
    std::vector<std::uint8_t> bytes(good.span().begin(), good.span().end());
    ASSERT_LE(patch.at + 4, bytes.size()) << patch.what;
    for (int i = 0; i < 4; ++i)
      bytes[patch.at + i] = static_cast<std::uint8_t>(patch.value >> (8 * i));
    Aligned bad = FrameBody(bytes);
    Result<Response> r = DecodeResponse(bad.span());
    ASSERT_FALSE(r.has_value()) << patch.what;
    EXPECT_EQ(r.error().code(), Code::kInvalidArgument) << patch.what;
  }
}

// Whatever decodes keeps the promises the status surfaces rely on.
void ExpectSane(const Result<Response>& r) {
  if (!r || r->kind != ResponseKind::kStatus || !r->status.fleet) return;
  EXPECT_NE(r->status.fleet->role, FleetRole::kNone);
  for (const FleetPublisher& p : r->status.fleet->publishers) {
    EXPECT_FALSE(p.id.empty());
    EXPECT_GE(p.last_sync.nanos, 0);
    EXPECT_LT(p.last_sync.nanos, kNanosPerSecond);
  }
}

TEST(FleetWireTest, TruncationsAndBitFlipsOfAFleetStatusNeverCrash) {
  ResponseEncoder enc;
  std::vector<std::uint8_t> frame;
  enc.AppendStatus(frame, 1, WithFleet(Follower()));
  const std::vector<std::uint8_t> body(frame.begin() + kFrameHeaderBytes, frame.end());
  for (std::size_t n = 0; n < body.size(); ++n) {
    Aligned t({body.data(), n});
    ExpectSane(DecodeResponse(t.span()));
  }
  for (std::size_t i = 0; i < body.size() * 8; ++i) {
    std::vector<std::uint8_t> flipped = body;
    flipped[i / 8] ^= static_cast<std::uint8_t>(1u << (i % 8));
    Aligned f = FrameBody(flipped);
    ExpectSane(DecodeResponse(f.span()));
  }
}

}  // namespace
}  // namespace policyd
