#include "store/org_table.h"

#include <gtest/gtest.h>

#include <map>
#include <optional>
#include <random>
#include <string>

namespace policyd {
namespace {

PolicyRecord PolicyWithSequence(std::uint64_t seq) {
  PolicyRecord p;
  p.flags.user_login_must_be_domain = seq % 2 == 0;
  p.details.sequence = seq;
  p.details.resource_owner = "owner-" + std::to_string(seq);
  return p;
}

// Checks every id of the key space against the model.
void ExpectSame(const OrgTable& table,
                const std::map<std::string, std::optional<PolicyRecord>>& model, int key_space) {
  ASSERT_EQ(table.size(), model.size());
  for (int k = 0; k < key_space; ++k) {
    const std::string id = "org-" + std::to_string(k);
    const OrgTable::Found found = table.Find(id);
    auto it = model.find(id);
    ASSERT_EQ(found.known, it != model.end()) << id;
    if (it == model.end()) continue;
    ASSERT_EQ(found.policy != nullptr, it->second.has_value()) << id;
    if (found.policy != nullptr) {
      ASSERT_EQ(*found.policy, *it->second) << id;
    }
  }
}

TEST(OrgTableTest, EmptyTableKnowsNothing) {
  OrgTable table;
  EXPECT_FALSE(table.Find("org-1").known);
  table.Erase("org-1");  // no-op
  EXPECT_EQ(table.size(), 0u);
}

TEST(OrgTableTest, PutReplacesAndErases) {
  OrgTable table;
  table.Put("a", std::nullopt);
  table.Put("b", PolicyWithSequence(3));
  EXPECT_TRUE(table.Find("a").known);
  EXPECT_EQ(table.Find("a").policy, nullptr);
  ASSERT_NE(table.Find("b").policy, nullptr);
  EXPECT_EQ(table.Find("b").policy->details.sequence, 3u);
  EXPECT_EQ(table.policy_count(), 1u);

  table.Put("b", std::nullopt);  // the org falls back to the default
  EXPECT_TRUE(table.Find("b").known);
  EXPECT_EQ(table.Find("b").policy, nullptr);
  EXPECT_EQ(table.policy_count(), 0u);
  table.Put("a", PolicyWithSequence(9));  // reuses the freed policy slot
  EXPECT_EQ(table.Find("a").policy->details.sequence, 9u);

  table.Erase("a");
  EXPECT_FALSE(table.Find("a").known);
  EXPECT_EQ(table.size(), 1u);
  EXPECT_EQ(table.policy_count(), 0u);
}

TEST(OrgTableTest, IdsOfEveryLengthAndByte) {
  OrgTable table;
  std::string all_bytes;
  for (int c = 0; c < 255; ++c) all_bytes.push_back(static_cast<char>(c + 1));
  const std::string with_nul("a\0b", 3);
  table.Put(all_bytes, std::nullopt);
  table.Put(with_nul, PolicyWithSequence(1));
  table.Put("x", std::nullopt);
  EXPECT_TRUE(table.Find(all_bytes).known);
  EXPECT_TRUE(table.Find(with_nul).known);
  EXPECT_FALSE(table.Find(std::string_view("a\0c", 3)).known);
  EXPECT_FALSE(table.Find("a").known);  // a prefix of a stored id
  EXPECT_FALSE(table.Find(all_bytes.substr(0, 254)).known);
}

// Random puts and erases over a small key space (so probe runs collide, wrap around and are
// shifted back on erase), compared with std::map after every step batch.
TEST(OrgTableTest, MatchesAMapUnderRandomChanges) {
  std::mt19937_64 rng(20261124);
  constexpr int kKeySpace = 3000;
  OrgTable table;
  std::map<std::string, std::optional<PolicyRecord>> model;
  for (int round = 0; round < 60; ++round) {
    for (int step = 0; step < 2000; ++step) {
      const std::string id = "org-" + std::to_string(rng() % kKeySpace);
      const auto op = rng() % 10;
      if (op < 4) {
        table.Erase(id);
        model.erase(id);
      } else {
        std::optional<PolicyRecord> policy;
        if (op < 6) policy = PolicyWithSequence(rng() % 1000);
        table.Put(id, policy);
        model[id] = policy;
      }
    }
    ExpectSame(table, model, kKeySpace);
    if (HasFatalFailure()) return;
  }
  // Erase everything: the table is empty and usable again.
  for (const auto& [id, policy] : model) table.Erase(id);
  EXPECT_EQ(table.size(), 0u);
  EXPECT_EQ(table.policy_count(), 0u);
  table.Put("org-1", std::nullopt);
  EXPECT_TRUE(table.Find("org-1").known);
}

TEST(OrgTableTest, ErasedIdBytesAreReclaimed) {
  OrgTable table;
  const std::string padding(150, 'p');
  for (int round = 0; round < 10; ++round) {
    for (int i = 0; i < 2000; ++i) table.Put(padding + std::to_string(i), std::nullopt);
    for (int i = 0; i < 2000; ++i) table.Erase(padding + std::to_string(i));
  }
  table.Put("kept", std::nullopt);
  // 20,000 ids of ~154 bytes went through the table; without compaction the arena would hold
  // ~3 MB of them.
  EXPECT_LT(table.MemoryBytes(), 1u << 20);
  EXPECT_TRUE(table.Find("kept").known);
  EXPECT_EQ(table.size(), 1u);
}

TEST(OrgTableTest, ReserveThenFillKeepsEverything) {
  OrgTable table;
  table.Put("before", std::nullopt);
  table.Reserve(5000);
  const std::size_t reserved = table.MemoryBytes();
  for (int i = 0; i < 5000; ++i) table.Put("org-" + std::to_string(i), std::nullopt);
  EXPECT_TRUE(table.Find("before").known);
  EXPECT_TRUE(table.Find("org-4999").known);
  EXPECT_EQ(table.size(), 5001u);
  EXPECT_LE(table.MemoryBytes(), reserved * 2);  // at most one growth past the reservation
}

TEST(OrgTableTest, CompactPerOrg) {
  OrgTable table;
  for (int i = 0; i < 100000; ++i) {
    table.Put("3000000000" + std::to_string(10000000 + i), std::nullopt);
  }
  // 18-byte ids: 16-byte slots at ≥ 3/8 load plus 19 bytes of arena.
  EXPECT_LT(table.MemoryBytes() / table.size(), 70u);
}

}  // namespace
}  // namespace policyd
