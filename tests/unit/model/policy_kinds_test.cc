#include "model/policy_kinds.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace policyd {
namespace {

TEST(PolicyKindsTest, NamesRoundTripAndAreUnique) {
  std::set<std::string_view> cli, snapshot;
  for (std::size_t i = 0; i < kPolicyKindCount; ++i) {
    const auto kind = static_cast<PolicyKind>(i);
    const KindSpec& spec = SpecOf(kind);
    EXPECT_EQ(spec.kind, kind);
    EXPECT_EQ(KindFromCliName(spec.cli_name), kind);
    EXPECT_EQ(KindFromSnapshotName(spec.snapshot_name), kind);
    EXPECT_TRUE(cli.insert(spec.cli_name).second);
    EXPECT_TRUE(snapshot.insert(spec.snapshot_name).second);
    EXPECT_LE(spec.is_default_index, spec.fields.size());
  }
  EXPECT_EQ(KindFromCliName("passwordComplexity"), std::nullopt);
  EXPECT_EQ(KindFromCliName(""), std::nullopt);  // the preview row has no name
  EXPECT_EQ(KindFromSnapshotName("password-complexity"), std::nullopt);
  EXPECT_EQ(SpecOf(PolicyKind::kLabelPreview).fields.size(),
            SpecOf(PolicyKind::kLabel).fields.size());
}

TEST(PolicyKindsTest, FieldsHaveEnumsWhereTheyNeedThem) {
  for (std::size_t i = 0; i < kStoredKindCount; ++i) {
    const KindSpec& spec = SpecOf(static_cast<PolicyKind>(i));
    for (const FieldSpec& field : spec.fields) {
      const bool enumerated = field.type == FieldType::kEnum ||
                              field.type == FieldType::kEnumList ||
                              field.type == FieldType::kIdpLinks;
      EXPECT_EQ(enumerated, field.enum_spec != nullptr) << field.json_name;
      EXPECT_EQ(FindKindField(spec, field.json_name), FindKindField(spec, field.proto_name));
    }
  }
}

TEST(PolicyKindsTest, ClassifiesEveryKnownEventTypeAndNothingElse) {
  for (const std::string& type : KindEventTypes()) {
    const auto t = ClassifyKindEvent(type);
    ASSERT_TRUE(t.has_value()) << type;
    EXPECT_EQ(t->instance, type.starts_with("instance.")) << type;
  }
  const auto login = ClassifyKindEvent("org.policy.login.secondfactor.removed");
  ASSERT_TRUE(login);
  EXPECT_EQ(login->kind, PolicyKind::kLogin);
  EXPECT_EQ(login->action, KindAction::kSecondFactorRemoved);
  const auto logo = ClassifyKindEvent("instance.policy.label.logo.dark.added");
  ASSERT_TRUE(logo);
  EXPECT_EQ(logo->kind, PolicyKind::kLabel);
  EXPECT_EQ(logo->action, KindAction::kAssetAdded);
  EXPECT_EQ(SpecOf(PolicyKind::kLabel).fields[logo->asset_field].json_name, "logoUrlDark");
  const auto age = ClassifyKindEvent("org.policy.password.age.changed");
  ASSERT_TRUE(age);
  EXPECT_EQ(age->kind, PolicyKind::kPasswordAge);
  EXPECT_EQ(age->action, KindAction::kChanged);

  for (std::string_view other :
       {"org.policy.domain.added", "instance.policy.password.complexity.removed",
        "org.policy.lockout.activated", "org.policy.label", "user.policy.lockout.added",
        "org.policy.password.added", "org.policy.labels.added", "org.added"}) {
    EXPECT_FALSE(ClassifyKindEvent(other).has_value()) << other;
  }
}

TEST(PolicyKindsTest, EventTypeListIsExactAndFitsQueries) {
  // Instance (added, changed): 6 kinds x 2 + login's 4 factor events + label's activated, 10
  // asset events and assets.removed = 30. Org: the same plus removed for each of the 7 = 37.
  EXPECT_EQ(KindEventTypes().size(), 67u);
  std::set<std::string> unique(KindEventTypes().begin(), KindEventTypes().end());
  EXPECT_EQ(unique.size(), KindEventTypes().size());
}

TEST(PolicyKindsTest, CheckRefusesValuesThatDoNotFit) {
  KindPolicy login = EmptyKindPolicy(PolicyKind::kLogin);
  EXPECT_TRUE(CheckKindPolicy("p", login).ok());
  login.fields[0].number = 2;  // a bool
  EXPECT_FALSE(CheckKindPolicy("p", login).ok());
  login.fields[0].number = 1;
  const int factors = FindKindField(SpecOf(PolicyKind::kLogin), "secondFactors");
  login.fields[factors].list = {1, 2, 9};
  const Status s = CheckKindPolicy("p", login);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("secondFactors"), std::string::npos) << s.message();
  login.fields[factors].list = {1, 2};
  EXPECT_TRUE(CheckKindPolicy("p", login).ok());
  login.fields.pop_back();
  EXPECT_FALSE(CheckKindPolicy("p", login).ok());
  EXPECT_FALSE(CheckKindPolicy("p", KindPolicy{PolicyKind::kDomain, {}, {}, {}}).ok());
}

}  // namespace
}  // namespace policyd
