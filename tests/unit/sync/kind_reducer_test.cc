#include "sync/kind_reducer.h"

#include <gtest/gtest.h>

#include <string>

namespace policyd {
namespace {

constexpr std::string_view kOrg = "200000000000000042";
constexpr std::string_view kPrefix = "https://iam.example.com/assets/v1";

Event OrgEvent(std::string type, std::uint64_t sequence, std::int64_t second) {
  Event e;
  e.type = std::move(type);
  e.aggregate_type = "org";
  e.aggregate_id = std::string(kOrg);
  e.resource_owner = std::string(kOrg);
  e.sequence = sequence;
  e.creation_date = Timestamp{1'700'000'000 + second, 0};
  return e;
}

std::uint8_t Field(PolicyKind kind, std::string_view name) {
  return static_cast<std::uint8_t>(FindKindField(SpecOf(kind), name));
}

FieldValue Number(std::uint64_t n) { return FieldValue{n, {}, {}}; }
FieldValue Text(std::string s) { return FieldValue{0, std::move(s), {}}; }

ReduceOutcome Apply(const Event& e, KindRows& rows) {
  const auto t = ClassifyKindEvent(e.type);
  EXPECT_TRUE(t) << e.type;
  return ReduceKindEvent(e, *t, kPrefix, rows);
}

TEST(KindReducerTest, AddedChangedRemovedLikeTheProjection) {
  KindRows rows;
  Event added = OrgEvent("org.policy.lockout.added", 5, 0);
  added.kind_patch.fields = {{Field(PolicyKind::kLockout, "maxPasswordAttempts"), Number(3)}};
  ASSERT_EQ(Apply(added, rows), ReduceOutcome::kApplied);
  const auto& row = rows.at(PolicyKind::kLockout);
  ASSERT_TRUE(row);
  EXPECT_EQ(row->fields[0].number, 3u);
  EXPECT_EQ(row->fields[1].number, 0u);  // missing key: zero
  EXPECT_EQ(row->details,
            (Details{5, added.creation_date, added.creation_date, std::string(kOrg)}));
  EXPECT_EQ(row->stream, (EventStream{"org", std::string(kOrg)}));
  EXPECT_TRUE(rows.touched[static_cast<std::size_t>(PolicyKind::kLockout)]);

  Event changed = OrgEvent("org.policy.lockout.changed", 6, 10);
  changed.kind_patch.fields = {{Field(PolicyKind::kLockout, "maxOtpAttempts"), Number(7)}};
  ASSERT_EQ(Apply(changed, rows), ReduceOutcome::kApplied);
  EXPECT_EQ(row->fields[0].number, 3u);  // not in the patch: kept
  EXPECT_EQ(row->fields[1].number, 7u);
  EXPECT_EQ(row->details.sequence, 6u);
  EXPECT_EQ(row->details.creation_date, added.creation_date);
  EXPECT_EQ(row->details.change_date, changed.creation_date);

  // Replays of what the row already reflects change nothing.
  EXPECT_EQ(Apply(added, rows), ReduceOutcome::kNoEffect);
  EXPECT_EQ(Apply(changed, rows), ReduceOutcome::kNoEffect);

  ASSERT_EQ(Apply(OrgEvent("org.policy.lockout.removed", 7, 20), rows), ReduceOutcome::kApplied);
  EXPECT_FALSE(rows.at(PolicyKind::kLockout));
  EXPECT_EQ(Apply(OrgEvent("org.policy.lockout.removed", 7, 20), rows), ReduceOutcome::kNoEffect);
  // A change without a row has no effect (as the projection's UPDATE of no row).
  EXPECT_EQ(Apply(OrgEvent("org.policy.lockout.changed", 8, 30), rows), ReduceOutcome::kNoEffect);
}

// Regression (kinds_differential_test): an "added" payload omits zero values, and the label
// policy's theme mode 0 is the upstream's "auto" (proto THEME_MODE_AUTO, 1), which its GETs always
// show. policyd kept the proto's 0 and left themeMode out of every label answer.
TEST(KindReducerTest, AnAddedEventWithoutAnEnumKeyHasTheUpstreamsZeroValue) {
  KindRows rows;
  for (const char* type : {"org.policy.label.added", "org.policy.login.added"}) {
    ASSERT_EQ(Apply(OrgEvent(type, 5, 0), rows), ReduceOutcome::kApplied) << type;
  }
  const auto& preview = rows.at(PolicyKind::kLabelPreview);
  ASSERT_TRUE(preview);
  EXPECT_EQ(preview->fields[Field(PolicyKind::kLabel, "themeMode")].number, 1u);  // AUTO
  ASSERT_EQ(Apply(OrgEvent("org.policy.label.activated", 6, 1), rows), ReduceOutcome::kApplied);
  EXPECT_EQ(rows.at(PolicyKind::kLabel)->fields[Field(PolicyKind::kLabel, "themeMode")].number, 1u);
  // domain.PasswordlessType 0 is the proto's 0 (NOT_ALLOWED).
  EXPECT_EQ(
      rows.at(PolicyKind::kLogin)->fields[Field(PolicyKind::kLogin, "passwordlessType")].number,
      0u);
  // A key that is there wins, mapped as before.
  Event dark = OrgEvent("org.policy.label.added", 7, 2);
  rows.at(PolicyKind::kLabelPreview).reset();
  dark.kind_patch.fields = {{Field(PolicyKind::kLabel, "themeMode"), Number(2)}};
  ASSERT_EQ(Apply(dark, rows), ReduceOutcome::kApplied);
  EXPECT_EQ(preview->fields[Field(PolicyKind::kLabel, "themeMode")].number, 2u);
}

TEST(KindReducerTest, RowsOfUnknownStreamTakeNewerEventsByDateOrSequence) {
  KindRows rows;
  KindPolicy api = EmptyKindPolicy(PolicyKind::kPrivacy);  // read from the upstream's GET
  api.details = Details{9, Timestamp{1'700'000'000, 0}, Timestamp{1'700'000'100, 0}, "x"};
  rows.at(PolicyKind::kPrivacy) = api;
  Event old = OrgEvent("org.policy.privacy.changed", 9, 100);
  EXPECT_EQ(Apply(old, rows), ReduceOutcome::kNoEffect);
  Event newer = OrgEvent("org.policy.privacy.changed", 2, 200);  // a new stream, later
  newer.kind_patch.fields = {{Field(PolicyKind::kPrivacy, "tosLink"), Text("https://t")}};
  EXPECT_EQ(Apply(newer, rows), ReduceOutcome::kApplied);
  EXPECT_EQ(rows.at(PolicyKind::kPrivacy)->fields[0].text, "https://t");
}

TEST(KindReducerTest, LoginFactorsAppendInOrderAndRemoveEveryOccurrence) {
  KindRows rows;
  ASSERT_EQ(Apply(OrgEvent("org.policy.login.added", 1, 0), rows), ReduceOutcome::kApplied);
  const auto factor = [](std::string type, std::uint64_t seq, std::uint32_t f) {
    Event e = OrgEvent(std::move(type), seq, static_cast<std::int64_t>(seq));
    e.kind_patch.factor = f;
    return e;
  };
  for (auto [seq, f] : {std::pair{2, 2u}, {3, 1u}, {4, 4u}}) {
    ASSERT_EQ(Apply(factor("org.policy.login.secondfactor.added", seq, f), rows),
              ReduceOutcome::kApplied);
  }
  ASSERT_EQ(Apply(factor("org.policy.login.multifactor.added", 5, 1), rows),
            ReduceOutcome::kApplied);
  const auto& login = *rows.at(PolicyKind::kLogin);
  EXPECT_EQ(login.fields[Field(PolicyKind::kLogin, "secondFactors")].list,
            (std::vector<std::uint32_t>{2, 1, 4}));
  EXPECT_EQ(login.fields[Field(PolicyKind::kLogin, "multiFactors")].list,
            (std::vector<std::uint32_t>{1}));
  ASSERT_EQ(Apply(factor("org.policy.login.secondfactor.removed", 6, 1), rows),
            ReduceOutcome::kApplied);
  EXPECT_EQ(login.fields[Field(PolicyKind::kLogin, "secondFactors")].list,
            (std::vector<std::uint32_t>{2, 4}));
  EXPECT_EQ(login.details.sequence, 6u);
  // Replayed: already reflected.
  EXPECT_EQ(Apply(factor("org.policy.login.secondfactor.added", 3, 1), rows),
            ReduceOutcome::kNoEffect);
}

TEST(KindReducerTest, LabelEditsThePreviewAndActivationCopiesIt) {
  KindRows rows;
  Event added = OrgEvent("org.policy.label.added", 1, 0);
  added.kind_patch.fields = {{Field(PolicyKind::kLabel, "primaryColor"), Text("#111111")},
                             {Field(PolicyKind::kLabel, "themeMode"), Number(3)}};
  ASSERT_EQ(Apply(added, rows), ReduceOutcome::kApplied);
  EXPECT_FALSE(rows.at(PolicyKind::kLabel));  // not active yet: the org falls back
  ASSERT_TRUE(rows.at(PolicyKind::kLabelPreview));

  Event logo = OrgEvent("org.policy.label.logo.added", 2, 1);
  logo.kind_patch.store_key = "policy/label/logo-1";
  ASSERT_EQ(Apply(logo, rows), ReduceOutcome::kApplied);
  EXPECT_EQ(rows.at(PolicyKind::kLabelPreview)->fields[Field(PolicyKind::kLabel, "logoUrl")].text,
            std::string(kPrefix) + "/" + std::string(kOrg) + "/policy/label/logo-1");

  Event activated = OrgEvent("org.policy.label.activated", 3, 2);
  ASSERT_EQ(Apply(activated, rows), ReduceOutcome::kApplied);
  const auto& active = rows.at(PolicyKind::kLabel);
  ASSERT_TRUE(active);
  EXPECT_EQ(active->kind, PolicyKind::kLabel);
  EXPECT_EQ(active->fields, rows.at(PolicyKind::kLabelPreview)->fields);
  EXPECT_EQ(active->details,
            (Details{3, added.creation_date, activated.creation_date, std::string(kOrg)}));

  // Changes after activation stay in the preview until the next activation.
  Event changed = OrgEvent("org.policy.label.changed", 4, 3);
  changed.kind_patch.fields = {{Field(PolicyKind::kLabel, "primaryColor"), Text("#222222")}};
  ASSERT_EQ(Apply(changed, rows), ReduceOutcome::kApplied);
  ASSERT_EQ(Apply(OrgEvent("org.policy.label.assets.removed", 5, 4), rows),
            ReduceOutcome::kApplied);
  EXPECT_EQ(active->fields[Field(PolicyKind::kLabel, "primaryColor")].text, "#111111");
  EXPECT_FALSE(active->fields[Field(PolicyKind::kLabel, "logoUrl")].text.empty());
  EXPECT_TRUE(rows.at(PolicyKind::kLabelPreview)
                  ->fields[Field(PolicyKind::kLabel, "logoUrl")]
                  .text.empty());

  ASSERT_EQ(Apply(OrgEvent("org.policy.label.removed", 6, 5), rows), ReduceOutcome::kApplied);
  EXPECT_FALSE(rows.at(PolicyKind::kLabel));
  EXPECT_FALSE(rows.at(PolicyKind::kLabelPreview));
  // Activation without a preview: nothing to copy.
  EXPECT_EQ(Apply(OrgEvent("org.policy.label.activated", 7, 6), rows), ReduceOutcome::kNoEffect);
}

TEST(KindReducerTest, AssetUrlIsEmptyWhenAnyPartIs) {
  EXPECT_EQ(AssetUrl("https://a/assets/v1", "o", "k"), "https://a/assets/v1/o/k");
  EXPECT_EQ(AssetUrl("", "o", "k"), "");
  EXPECT_EQ(AssetUrl("p", "", "k"), "");
  EXPECT_EQ(AssetUrl("p", "o", ""), "");
}

}  // namespace
}  // namespace policyd
