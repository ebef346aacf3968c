#include "store/kind_table.h"

#include <gtest/gtest.h>

#include <limits>
#include <map>
#include <random>
#include <string>

#include "unit/store/kind_test_util.h"

namespace policyd {
namespace {

KindPolicy Decoded(const SharedKindRow& row) {
  KindPolicy p;
  row.DecodeInto(&p);
  return p;
}

std::vector<PolicyKind> AnswerKinds() { return {kGenericKinds.begin(), kGenericKinds.end()}; }

TEST(SharedKindRowTest, EveryKindRoundTripsForOrgsAndDefaults) {
  for (PolicyKind k : AnswerKinds()) {
    for (std::uint64_t seed : {0u, 1u, 7u, 130u}) {
      const KindPolicy org = SeededPolicy(k, seed, "org-1");  // stream ("org", "org-1")
      const SharedKindRow row = SharedKindRow::Make("org-1", org);
      EXPECT_EQ(row.kind(), k);
      EXPECT_EQ(row.org_id(), "org-1");
      EXPECT_EQ(Decoded(row), org) << "kind " << static_cast<int>(k) << " seed " << seed;

      KindPolicy def = SeededPolicy(k, seed, "inst-1");
      def.stream = EventStream{"instance", "inst-1"};
      const SharedKindRow d = SharedKindRow::Make("", def);
      EXPECT_EQ(d.org_id(), "");
      EXPECT_EQ(Decoded(d), def);
    }
  }
}

// The owner and the stream are written out whenever they are not the usual (org id, ("org", org
// id)): another owner, another stream, half an empty stream, an empty stream.
TEST(SharedKindRowTest, UnusualOwnersAndStreamsRoundTrip) {
  for (const EventStream& stream :
       {EventStream{}, EventStream{"org", "other"}, EventStream{"iam", "org-1"},
        EventStream{"", "org-1"}, EventStream{"org", ""}}) {
    for (const std::string owner : {"", "org-1", "someone-else"}) {
      KindPolicy p = SeededPolicy(PolicyKind::kLockout, 3, owner);
      p.stream = stream;
      EXPECT_EQ(Decoded(SharedKindRow::Make("org-1", p)), p)
          << owner << " " << stream.type << "/" << stream.id;
    }
  }
}

TEST(SharedKindRowTest, ExtremeValuesRoundTrip) {
  KindPolicy p = EmptyKindPolicy(PolicyKind::kLogin);
  const KindSpec& spec = SpecOf(PolicyKind::kLogin);
  p.details = Details{std::numeric_limits<std::uint64_t>::max(), Timestamp{-62135596800, 0},
                      Timestamp{253402300799, 999999999}, "o"};
  for (std::size_t i = 0; i < spec.fields.size(); ++i) {
    if (spec.fields[i].type == FieldType::kDuration) {
      p.fields[i].number =
          i % 2 == 0 ? static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::min())
                     : static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
    } else if (spec.fields[i].type == FieldType::kString) {
      p.fields[i].text = std::string(kMaxKindStringLength, 'u');
    } else if (spec.fields[i].type == FieldType::kEnumList) {
      p.fields[i].list.assign(kMaxKindListLength, 1);
    }
  }
  EXPECT_EQ(Decoded(SharedKindRow::Make(std::string(255, 'i'), p)), p);
}

// Decoding into a value that held another kind's row (longer strings, lists, other fields)
// leaves nothing of it behind.
TEST(SharedKindRowTest, DecodingIntoAReusedPolicyForgetsTheOldValues) {
  KindPolicy reused = SeededPolicy(PolicyKind::kLabel, 9, "org-9");
  const KindPolicy login = SeededPolicy(PolicyKind::kLogin, 2, "org-2");
  SharedKindRow::Make("org-2", login).DecodeInto(&reused);
  EXPECT_EQ(reused, login);
  const KindPolicy empty = EmptyKindPolicy(PolicyKind::kLogin);
  SharedKindRow::Make("org-2", empty).DecodeInto(&reused);
  EXPECT_EQ(reused, empty);
}

TEST(SharedKindRowTest, CopiesShareTheRowAndOutliveTheOriginal) {
  const KindPolicy p = SeededPolicy(PolicyKind::kPrivacy, 4, "org-4");
  SharedKindRow copy;
  {
    const SharedKindRow row = SharedKindRow::Make("org-4", p);
    copy = row;
    SharedKindRow moved = SharedKindRow(row);
    EXPECT_EQ(moved.bytes(), row.bytes());
    SharedKindRow& alias = copy;
    copy = alias;  // self-assignment keeps it
  }
  ASSERT_TRUE(copy);
  EXPECT_EQ(Decoded(copy), p);
  SharedKindRow taken = std::move(copy);
  EXPECT_FALSE(copy);  // NOLINT(bugprone-use-after-move): a moved-from handle is null
  EXPECT_EQ(Decoded(taken), p);
}

// Far leaner than the store's encoding: the id, owner and stream of an org's row are held once.
TEST(SharedKindRowTest, AnOrgRowOfThePasswordComplexityPolicyIsSmall) {
  KindPolicy p = EmptyKindPolicy(PolicyKind::kPasswordComplexity);
  p.fields[0].number = 12;
  p.fields[1].number = 1;
  p.details =
      Details{42, Timestamp{1733000000, 123000000}, Timestamp{1733500000, 0}, "310000000000000100"};
  p.stream = EventStream{"org", "310000000000000100"};
  const SharedKindRow row = SharedKindRow::Make("310000000000000100", p);
  EXPECT_LE(row.bytes(), 12u + 18u + 30u);
  EXPECT_EQ(Decoded(row), p);
}

// Each string is front-coded against the previous one: the label policy's five asset URLs, which
// differ only at their ends, cost little more than one.
TEST(SharedKindRowTest, StringsSharingTheirStartAreHeldOnce) {
  KindPolicy p = EmptyKindPolicy(PolicyKind::kLabel);
  const std::string prefix = "https://login.example.com/assets/v1/310000000000000107/policy/label/";
  std::size_t text = 0;
  for (const char* f : {"logoUrl", "iconUrl", "logoUrlDark", "iconUrlDark", "fontUrl"}) {
    std::string& v = p.fields[FindKindField(SpecOf(PolicyKind::kLabel), f)].text;
    v = prefix + f + "-240000000000000107";
    text += v.size();
  }
  p.fields[FindKindField(SpecOf(PolicyKind::kLabel), "primaryColor")].text = "#5469d4";
  const SharedKindRow row = SharedKindRow::Make("310000000000000107", p);
  EXPECT_EQ(Decoded(row), p);
  // The shared start is held once, not five times; 100 bytes cover the header, the id, the
  // details and the other fields.
  EXPECT_LT(row.bytes(), text - 4 * prefix.size() + 100);
}

const SharedKindRow* FindIn(const KindTable& t, const std::string& id, PolicyKind k) {
  return t.Find(id, KindTable::HashId(id), k);
}

TEST(KindTableTest, PutFindEraseAndDefaults) {
  KindTable t;
  EXPECT_EQ(FindIn(t, "a", PolicyKind::kLogin), nullptr);
  EXPECT_EQ(t.FindDefault(PolicyKind::kLogin), nullptr);
  const std::uint64_t serial = KindTable::NewSerial();
  EXPECT_NE(serial, 0u);
  EXPECT_NE(KindTable::NewSerial(), serial);
  t.Put(SharedKindRow::Make("", SeededPolicy(PolicyKind::kLogin, 1, "inst")), serial);
  EXPECT_EQ(t.DefaultSerial(PolicyKind::kLogin), serial);
  EXPECT_EQ(t.DefaultSerial(PolicyKind::kLabel), 0u);
  t.Put(SharedKindRow::Make("a", SeededPolicy(PolicyKind::kLogin, 2, "a")));
  t.Put(SharedKindRow::Make("a", SeededPolicy(PolicyKind::kLabel, 3, "a")));
  t.Put(SharedKindRow::Make("b", SeededPolicy(PolicyKind::kLogin, 4, "b")));
  EXPECT_EQ(t.size(), 3u);
  ASSERT_NE(t.FindDefault(PolicyKind::kLogin), nullptr);
  EXPECT_EQ(Decoded(*t.FindDefault(PolicyKind::kLogin)),
            SeededPolicy(PolicyKind::kLogin, 1, "inst"));
  EXPECT_EQ(t.FindDefault(PolicyKind::kLabel), nullptr);
  EXPECT_EQ(Decoded(*FindIn(t, "a", PolicyKind::kLabel)), SeededPolicy(PolicyKind::kLabel, 3, "a"));
  EXPECT_EQ(FindIn(t, "a", PolicyKind::kLockout), nullptr);
  EXPECT_EQ(FindIn(t, "", PolicyKind::kLogin), nullptr);  // defaults are not org rows

  t.Put(SharedKindRow::Make("a", SeededPolicy(PolicyKind::kLogin, 5, "a")));  // replaces
  EXPECT_EQ(t.size(), 3u);
  EXPECT_EQ(Decoded(*FindIn(t, "a", PolicyKind::kLogin)), SeededPolicy(PolicyKind::kLogin, 5, "a"));
  t.Erase("a", PolicyKind::kLabel);
  t.Erase("a", PolicyKind::kLockout);  // absent: ignored
  EXPECT_EQ(FindIn(t, "a", PolicyKind::kLabel), nullptr);
  EXPECT_NE(FindIn(t, "a", PolicyKind::kLogin), nullptr);
  t.EraseOrg("a");
  EXPECT_EQ(FindIn(t, "a", PolicyKind::kLogin), nullptr);
  EXPECT_NE(FindIn(t, "b", PolicyKind::kLogin), nullptr);
  EXPECT_EQ(t.size(), 1u);
  t.Clear();
  EXPECT_EQ(t.size(), 0u);
  EXPECT_EQ(t.RowBytes(), 0u);
  EXPECT_EQ(t.DefaultSerial(PolicyKind::kLogin), 0u);
  EXPECT_EQ(t.FindDefault(PolicyKind::kLogin), nullptr);
  EXPECT_EQ(FindIn(t, "b", PolicyKind::kLogin), nullptr);
}

// Random puts and erasures against a std::map: every (org, kind) found exactly when the map has
// it, with its value; RowBytes is the sum of the rows held. A copy of the table (as the index's
// second copy) shares the rows and is unaffected by later changes of the first.
TEST(KindTableTest, AgreesWithAMapUnderRandomChanges) {
  std::mt19937_64 rng(5);
  KindTable t;
  std::map<std::pair<std::string, PolicyKind>, std::uint64_t> want;
  const std::vector<PolicyKind> kinds = AnswerKinds();
  for (int step = 0; step < 20000; ++step) {
    const std::string id = "org-" + std::to_string(rng() % 600);
    const PolicyKind k = kinds[rng() % kinds.size()];
    const std::uint64_t op = rng() % 10;
    if (op < 6) {
      const std::uint64_t seed = rng() % 1000;
      t.Put(SharedKindRow::Make(id, SeededPolicy(k, seed, id)));
      want[{id, k}] = seed;
    } else if (op < 9) {
      t.Erase(id, k);
      want.erase({id, k});
    } else {
      t.EraseOrg(id);
      for (PolicyKind kind : kinds) want.erase({id, kind});
    }
  }
  const KindTable copy = t;
  std::size_t bytes = 0;
  for (int i = 0; i < 600; ++i) {
    const std::string id = "org-" + std::to_string(i);
    for (PolicyKind k : kinds) {
      const auto it = want.find({id, k});
      const SharedKindRow* row = FindIn(t, id, k);
      ASSERT_EQ(row != nullptr, it != want.end()) << id << " kind " << static_cast<int>(k);
      if (row == nullptr) continue;
      bytes += row->bytes();
      EXPECT_EQ(Decoded(*row), SeededPolicy(k, it->second, id));
    }
  }
  EXPECT_EQ(t.size(), want.size());
  EXPECT_EQ(t.RowBytes(), bytes);
  EXPECT_EQ(copy.RowBytes(), bytes);
  t.Clear();
  for (const auto& [key, seed] : want) {
    const SharedKindRow* row = FindIn(copy, key.first, key.second);
    ASSERT_NE(row, nullptr);
    EXPECT_EQ(Decoded(*row), SeededPolicy(key.second, seed, key.first));
  }
}

}  // namespace
}  // namespace policyd
