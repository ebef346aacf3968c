// The generic policy kinds on the wire: random policies of every kind encoded by the generic
// builder (wire/kind_wire.h) are read back through the flatc-GENERATED accessors of
// schemas/common.fbs field by field (which proves the builder's field ids match the schema), and
// decode back equal; hostile kind tables are refused or kept as documented.
#include "wire/kind_wire.h"

#include <flatbuffers/flatbuffers.h>
#include <gtest/gtest.h>

#include <cctype>
#include <cstring>
#include <limits>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "check/password.h"
#include "response_generated.h"
#include "support/kind_samples.h"
#include "unit/wire/aligned.h"
#include "unit/wire/allocations.h"
#include "wire/frame.h"
#include "wire/response.h"

namespace policyd {
namespace {

using testing_support::Aligned;
using testing_support::Body;
using testing_support::Bytes;
using testing_support::FrameBody;

// ---- Random policies ----

std::string RandomText(std::mt19937_64& rng, std::size_t max) {
  std::string s(rng() % (max + 1), '\0');
  for (char& c : s) c = static_cast<char>(rng() % 256);  // any bytes, NUL included
  return s;
}

std::int64_t RandomNanos(std::mt19937_64& rng) {
  switch (rng() % 5) {
    case 0:
      return 0;
    case 1:
      return std::numeric_limits<std::int64_t>::min();
    case 2:
      return std::numeric_limits<std::int64_t>::max();
    case 3:
      return static_cast<std::int64_t>(rng() % 1'000'000'000'000) - 500'000'000'000;
    default:
      return static_cast<std::int64_t>(rng());
  }
}

Timestamp RandomTime(std::mt19937_64& rng) {
  if (rng() % 4 == 0) return {};
  return {static_cast<std::int64_t>(rng() % 4'000'000'000),
          static_cast<int>(rng() % 1'000'000'000)};
}

KindPolicy RandomPolicy(PolicyKind kind, std::mt19937_64& rng) {
  const KindSpec& spec = SpecOf(kind);
  KindPolicy p = EmptyKindPolicy(kind);
  for (std::size_t i = 0; i < spec.fields.size(); ++i) {
    const FieldSpec& f = spec.fields[i];
    FieldValue& v = p.fields[i];
    switch (f.type) {
      case FieldType::kBool:
        v.number = rng() % 2;
        break;
      case FieldType::kUint64:
        v.number = rng() % 3 == 0 ? 0 : rng();
        break;
      case FieldType::kString:
        v.text = RandomText(rng, rng() % 10 == 0 ? kMaxKindStringLength : 40);
        break;
      case FieldType::kDuration:
        v.number = static_cast<std::uint64_t>(RandomNanos(rng));
        break;
      case FieldType::kEnum:
        v.number = rng() % f.enum_spec->values.size();
        break;
      case FieldType::kEnumList:
        v.list.resize(rng() % 6);
        for (std::uint32_t& n : v.list) {
          n = static_cast<std::uint32_t>(rng() % f.enum_spec->values.size());
        }
        break;
      case FieldType::kIdpLinks:
        v.links = test::SampleLinks(f, rng() % 1000, rng() % 5);
        break;
    }
  }
  p.details.sequence = rng();
  p.details.creation_date = RandomTime(rng);
  p.details.change_date = RandomTime(rng);
  p.details.resource_owner = RandomText(rng, kMaxIdLength);
  EXPECT_TRUE(CheckKindPolicy("random", p).ok());
  return p;
}

// ---- Field-by-field comparison through the generated accessors ----

// Looks fields up by their proto name and remembers which were compared, so a compare function
// that forgets a field of the spec fails.
class Fields {
 public:
  Fields(const KindPolicy& p, bool is_default) : p_(p), is_default_(is_default) {}
  ~Fields() {
    EXPECT_EQ(seen_.size(), SpecOf(p_.kind).fields.size())
        << SpecOf(p_.kind).message_name << ": not every field compared";
  }
  const FieldValue& operator[](std::string_view name) {
    const int i = FindKindField(SpecOf(p_.kind), name);
    EXPECT_GE(i, 0) << name;
    seen_.insert(std::string(name));
    return p_.fields.at(static_cast<std::size_t>(i));
  }
  void Bool(bool got, std::string_view name) { EXPECT_EQ(got, (*this)[name].number != 0) << name; }
  void U64(std::uint64_t got, std::string_view name) {
    EXPECT_EQ(got, (*this)[name].number) << name;
  }
  void Str(const flatbuffers::String* got, std::string_view name) {
    const std::string& want = (*this)[name].text;
    if (want.empty()) {
      EXPECT_EQ(got, nullptr) << name;
    } else {
      ASSERT_NE(got, nullptr) << name;
      EXPECT_EQ(std::string(got->c_str(), got->size()), want) << name;
    }
  }
  void Dur(const fb::Duration* got, std::string_view name) {
    const std::int64_t want = (*this)[name].duration_nanos();
    ASSERT_NE(got, nullptr) << name << ": durations are always written";
    EXPECT_EQ(got->seconds(), want / 1'000'000'000) << name;
    EXPECT_EQ(got->nanos(), want % 1'000'000'000) << name;
  }
  template <typename E>
  void Enum(E got, std::string_view name) {
    EXPECT_EQ(static_cast<std::uint64_t>(got), (*this)[name].number) << name;
  }
  template <typename E>
  void List(const flatbuffers::Vector<E>* got, std::string_view name) {
    const std::vector<std::uint32_t>& want = (*this)[name].list;
    std::vector<std::uint32_t> have;
    if (got != nullptr) {
      for (E e : *got) have.push_back(static_cast<std::uint32_t>(e));
    }
    EXPECT_EQ(have, want) << name;
    if (want.empty()) {
      EXPECT_EQ(got, nullptr) << name;
    }
  }
  void Links(const flatbuffers::Vector<flatbuffers::Offset<fb::IdpLink>>* got,
             std::string_view name) {
    const std::vector<IdpLink>& want = (*this)[name].links;
    if (want.empty()) {
      EXPECT_EQ(got, nullptr) << name;
      return;
    }
    ASSERT_NE(got, nullptr) << name;
    ASSERT_EQ(got->size(), want.size()) << name;
    for (std::size_t i = 0; i < want.size(); ++i) {
      const fb::IdpLink* link = got->Get(static_cast<flatbuffers::uoffset_t>(i));
      EXPECT_EQ(link->idp_id()->str(), want[i].id) << name;
      EXPECT_EQ(link->idp_name() == nullptr ? "" : link->idp_name()->str(), want[i].name) << name;
      EXPECT_EQ(static_cast<std::uint32_t>(link->idp_type()), want[i].type) << name;
    }
  }
  void Default(bool got) { EXPECT_EQ(got, is_default_) << "is_default"; }
  void Details(const fb::Details* d) {
    const policyd::Details& want = p_.details;
    ASSERT_NE(d, nullptr);
    EXPECT_EQ(d->sequence(), want.sequence);
    auto time = [](const fb::Timestamp* t) {
      return t == nullptr ? Timestamp{} : Timestamp{t->seconds(), t->nanos()};
    };
    EXPECT_EQ(time(d->creation_date()), want.creation_date);
    EXPECT_EQ(time(d->change_date()), want.change_date);
    const std::string owner = d->resource_owner() == nullptr ? "" : d->resource_owner()->str();
    EXPECT_EQ(owner, want.resource_owner);
  }

 private:
  const KindPolicy& p_;
  bool is_default_;
  std::set<std::string> seen_;
};

void Compare(const fb::PasswordComplexityPolicy* t, Fields& f) {
  ASSERT_NE(t, nullptr);
  f.Details(t->details());
  f.U64(t->min_length(), "min_length");
  f.Bool(t->has_uppercase(), "has_uppercase");
  f.Bool(t->has_lowercase(), "has_lowercase");
  f.Bool(t->has_number(), "has_number");
  f.Bool(t->has_symbol(), "has_symbol");
  f.Default(t->is_default());
}

void Compare(const fb::PasswordAgePolicy* t, Fields& f) {
  ASSERT_NE(t, nullptr);
  f.Details(t->details());
  f.U64(t->max_age_days(), "max_age_days");
  f.U64(t->expire_warn_days(), "expire_warn_days");
  f.Default(t->is_default());
}

void Compare(const fb::LockoutPolicy* t, Fields& f) {
  ASSERT_NE(t, nullptr);
  f.Details(t->details());
  f.U64(t->max_password_attempts(), "max_password_attempts");
  f.U64(t->max_otp_attempts(), "max_otp_attempts");
  f.Default(t->is_default());
}

void Compare(const fb::LoginPolicy* t, Fields& f) {
  ASSERT_NE(t, nullptr);
  f.Details(t->details());
  f.Bool(t->allow_username_password(), "allow_username_password");
  f.Bool(t->allow_register(), "allow_register");
  f.Bool(t->allow_external_idp(), "allow_external_idp");
  f.Bool(t->force_mfa(), "force_mfa");
  f.Enum(t->passwordless_type(), "passwordless_type");
  f.Default(t->is_default());
  f.Bool(t->hide_password_reset(), "hide_password_reset");
  f.Bool(t->ignore_unknown_usernames(), "ignore_unknown_usernames");
  f.Str(t->default_redirect_uri(), "default_redirect_uri");
  f.Dur(t->password_check_lifetime(), "password_check_lifetime");
  f.Dur(t->external_login_check_lifetime(), "external_login_check_lifetime");
  f.Dur(t->mfa_init_skip_lifetime(), "mfa_init_skip_lifetime");
  f.Dur(t->second_factor_check_lifetime(), "second_factor_check_lifetime");
  f.Dur(t->multi_factor_check_lifetime(), "multi_factor_check_lifetime");
  f.List(t->second_factors(), "second_factors");
  f.List(t->multi_factors(), "multi_factors");
  f.Bool(t->allow_domain_discovery(), "allow_domain_discovery");
  f.Bool(t->disable_login_with_email(), "disable_login_with_email");
  f.Bool(t->disable_login_with_phone(), "disable_login_with_phone");
  f.Bool(t->force_mfa_local_only(), "force_mfa_local_only");
  f.Bool(t->use_default_uri_for_notification_links(), "use_default_uri_for_notification_links");
  f.Links(t->idps(), "idps");
}

void Compare(const fb::PrivacyPolicy* t, Fields& f) {
  ASSERT_NE(t, nullptr);
  f.Details(t->details());
  f.Str(t->tos_link(), "tos_link");
  f.Str(t->privacy_link(), "privacy_link");
  f.Default(t->is_default());
  f.Str(t->help_link(), "help_link");
  f.Str(t->support_email(), "support_email");
  f.Str(t->docs_link(), "docs_link");
  f.Str(t->custom_link(), "custom_link");
  f.Str(t->custom_link_text(), "custom_link_text");
}

void Compare(const fb::NotificationPolicy* t, Fields& f) {
  ASSERT_NE(t, nullptr);
  f.Details(t->details());
  f.Default(t->is_default());
  f.Bool(t->password_change(), "password_change");
}

void Compare(const fb::LabelPolicy* t, Fields& f) {
  ASSERT_NE(t, nullptr);
  f.Details(t->details());
  f.Str(t->primary_color(), "primary_color");
  f.Default(t->is_default());
  f.Bool(t->hide_login_name_suffix(), "hide_login_name_suffix");
  f.Str(t->warn_color(), "warn_color");
  f.Str(t->background_color(), "background_color");
  f.Str(t->font_color(), "font_color");
  f.Str(t->primary_color_dark(), "primary_color_dark");
  f.Str(t->background_color_dark(), "background_color_dark");
  f.Str(t->warn_color_dark(), "warn_color_dark");
  f.Str(t->font_color_dark(), "font_color_dark");
  f.Bool(t->disable_watermark(), "disable_watermark");
  f.Str(t->logo_url(), "logo_url");
  f.Str(t->icon_url(), "icon_url");
  f.Str(t->logo_url_dark(), "logo_url_dark");
  f.Str(t->icon_url_dark(), "icon_url_dark");
  f.Str(t->font_url(), "font_url");
  f.Enum(t->theme_mode(), "theme_mode");
}

// Compares the table of `kind` in `r` (through its generated accessor) with `want`.
void CompareKind(const fb::PolicyResult* r, const KindPolicy& want, bool is_default) {
  Fields f(want, is_default);
  switch (want.kind) {
    case PolicyKind::kPasswordComplexity:
      return Compare(r->password_complexity(), f);
    case PolicyKind::kPasswordAge:
      return Compare(r->password_age(), f);
    case PolicyKind::kLockout:
      return Compare(r->lockout(), f);
    case PolicyKind::kLogin:
      return Compare(r->login(), f);
    case PolicyKind::kPrivacy:
      return Compare(r->privacy(), f);
    case PolicyKind::kNotification:
      return Compare(r->notification(), f);
    case PolicyKind::kLabel:
      return Compare(r->label(), f);
    default:
      FAIL() << "not a generic kind";
  }
}

DomainPolicy SomeDomainPolicy() {
  DomainPolicy p;
  p.flags.user_login_must_be_domain = true;
  p.is_default = true;
  p.details.sequence = 7;
  p.details.resource_owner = "instance-1";
  return p;
}

// ---- Tests ----

TEST(KindWireTest, EveryKindMatchesTheGeneratedAccessorsAndRoundTrips) {
  std::mt19937_64 rng(20261206);
  ResponseEncoder enc;
  for (int round = 0; round < 200; ++round) {
    for (PolicyKind kind : kGenericKinds) {
      SCOPED_TRACE(std::string(SpecOf(kind).message_name) + " round " + std::to_string(round));
      const KindPolicy policy = RandomPolicy(kind, rng);
      const bool is_default = rng() % 2 == 0;
      KindAnswers answers;
      answers.domain = false;
      answers.kinds[static_cast<std::size_t>(kind)] = {&policy, is_default};
      Resolution res{SomeDomainPolicy(), true};
      std::vector<std::uint8_t> frame;
      enc.AppendOrgKinds(frame, 9, "org-1", res, answers, false);

      const Aligned body = Body(frame);
      flatbuffers::Verifier verifier(body.span().data(), body.span().size());
      ASSERT_TRUE(fb::VerifyResponseBuffer(verifier));
      const fb::PolicyResult* r = fb::GetResponse(body.span().data())->body_as_PolicyResult();
      ASSERT_NE(r, nullptr);
      EXPECT_EQ(r->policy(), nullptr) << "DOMAIN was not asked";
      CompareKind(r, policy, is_default);

      Result<Response> decoded = DecodeResponse(body.span());
      ASSERT_TRUE(decoded) << decoded.error().message();
      ASSERT_EQ(decoded->policies.size(), 1u);
      const PolicyAnswer& a = decoded->policies[0];
      EXPECT_FALSE(a.has_domain);
      EXPECT_TRUE(a.org_known);
      ASSERT_EQ(a.kinds.size(), 1u);
      EXPECT_EQ(a.kinds[0], (KindValue{policy, is_default}));
      EXPECT_EQ(a.kind(kind), &a.kinds[0]);
    }
  }
}

TEST(KindWireTest, AllKindsOfOneOrgInOneFrame) {
  std::mt19937_64 rng(7);
  std::vector<KindPolicy> policies;
  for (PolicyKind kind : kGenericKinds) policies.push_back(RandomPolicy(kind, rng));
  KindAnswers answers;  // domain too
  for (std::size_t i = 0; i < policies.size(); ++i) {
    answers.kinds[static_cast<std::size_t>(kGenericKinds[i])] = {&policies[i], i % 2 == 0};
  }
  const Resolution res{SomeDomainPolicy(), false};
  ResponseEncoder enc;
  std::vector<std::uint8_t> frame;
  enc.AppendOrgKinds(frame, 3, "org-2", res, answers, true);
  const Aligned body = Body(frame);
  const fb::PolicyResult* r = fb::GetResponse(body.span().data())->body_as_PolicyResult();
  for (std::size_t i = 0; i < policies.size(); ++i) CompareKind(r, policies[i], i % 2 == 0);

  Result<Response> decoded = DecodeResponse(body.span());
  ASSERT_TRUE(decoded) << decoded.error().message();
  const PolicyAnswer& a = decoded->policies.at(0);
  EXPECT_TRUE(a.has_domain);
  EXPECT_EQ(a.policy, res.policy);
  EXPECT_TRUE(a.stale);
  ASSERT_EQ(a.kinds.size(), policies.size());
  for (std::size_t i = 0; i < policies.size(); ++i) {
    EXPECT_EQ(a.kinds[i], (KindValue{policies[i], i % 2 == 0}));
  }
}

TEST(KindWireTest, DefaultAndBatchCarryKindsAndPerOrgErrors) {
  std::mt19937_64 rng(11);
  const KindPolicy login = RandomPolicy(PolicyKind::kLogin, rng);
  const KindPolicy label = RandomPolicy(PolicyKind::kLabel, rng);
  KindAnswers answers;
  answers.kinds[static_cast<std::size_t>(PolicyKind::kLogin)] = {&login, true};
  answers.kinds[static_cast<std::size_t>(PolicyKind::kLabel)] = {&label, false};
  ResponseEncoder enc;

  std::vector<std::uint8_t> frame;
  enc.AppendDefaultKinds(frame, 4, SomeDomainPolicy(), answers, false);
  Result<Response> d = DecodeResponse(Body(frame).span());
  ASSERT_TRUE(d) << d.error().message();
  EXPECT_EQ(d->policies.at(0).org_id, "");
  EXPECT_EQ(d->policies.at(0).kinds, (std::vector<KindValue>{{login, true}, {label, false}}));

  const Resolution res{SomeDomainPolicy(), true};
  const Status not_found = Status::NotFound("unknown org");
  const OrgAnswer batch[] = {{"org-a", &res, nullptr, &answers},
                             {"org-b", nullptr, &not_found, nullptr},
                             {"org-c", &res, nullptr, nullptr}};
  frame.clear();
  enc.AppendBatch(frame, 5, batch, false);
  d = DecodeResponse(Body(frame).span());
  ASSERT_TRUE(d) << d.error().message();
  ASSERT_EQ(d->policies.size(), 3u);
  EXPECT_EQ(d->policies[0].kinds.size(), 2u);
  EXPECT_EQ(d->policies[1].status.code(), Code::kNotFound);
  EXPECT_TRUE(d->policies[1].kinds.empty());
  EXPECT_TRUE(d->policies[2].has_domain);
  EXPECT_TRUE(d->policies[2].kinds.empty()) << "an answer without kinds is domain only";
}

// A response to a kinds request, read by a client that knows only the domain policy (it reads
// PolicyResult.policy and nothing after it): the domain policy is where it always was.
TEST(KindWireTest, AnOldReaderStillReadsTheDomainPolicy) {
  std::mt19937_64 rng(5);
  const KindPolicy pc = RandomPolicy(PolicyKind::kPasswordComplexity, rng);
  KindAnswers answers;
  answers.kinds[static_cast<std::size_t>(PolicyKind::kPasswordComplexity)] = {&pc, false};
  const Resolution res{SomeDomainPolicy(), true};
  ResponseEncoder enc;
  std::vector<std::uint8_t> frame;
  enc.AppendOrgKinds(frame, 6, "org-1", res, answers, false);
  const Aligned body = Body(frame);
  const fb::PolicyResult* r = fb::GetResponse(body.span().data())->body_as_PolicyResult();
  ASSERT_NE(r->policy(), nullptr);
  EXPECT_TRUE(r->policy()->user_login_must_be_domain());
  EXPECT_EQ(r->policy()->details()->sequence(), 7u);
  EXPECT_EQ(r->org_id()->str(), "org-1");
}

// Builds a PolicyResult response whose password_complexity table is written by `fill` (the
// generated builder, so what a newer or broken daemon might send).
template <typename Fill>
Result<Response> DecodeCrafted(Fill fill) {
  flatbuffers::FlatBufferBuilder fbb;
  auto table = fill(fbb);
  fb::PolicyResultBuilder b(fbb);
  b.add_login(table);
  auto result = b.Finish();
  fbb.Finish(fb::CreateResponse(fbb, 1, 0, fb::ResponseBody::PolicyResult, result.Union()),
             fb::ResponseIdentifier());
  return DecodeResponse(Aligned({fbb.GetBufferPointer(), fbb.GetSize()}).span());
}

TEST(KindWireTest, AnUnknownEnumNumberIsKeptANegativeOneRefused) {
  auto with = [](int passwordless, std::vector<int> factors) {
    return DecodeCrafted([&](flatbuffers::FlatBufferBuilder& fbb) {
      std::vector<fb::SecondFactorType> list;
      for (int f : factors) list.push_back(static_cast<fb::SecondFactorType>(f));
      auto v = fbb.CreateVector(list);
      fb::LoginPolicyBuilder b(fbb);
      b.add_passwordless_type(static_cast<fb::PasswordlessType>(passwordless));
      b.add_second_factors(v);
      return b.Finish();
    });
  };
  Result<Response> newer = with(7, {1, 9});
  ASSERT_TRUE(newer) << newer.error().message();
  const KindValue* login = newer->policies.at(0).kind(PolicyKind::kLogin);
  ASSERT_NE(login, nullptr);
  const KindSpec& spec = SpecOf(PolicyKind::kLogin);
  EXPECT_EQ(login->policy.fields[FindKindField(spec, "passwordless_type")].number, 7u);
  EXPECT_EQ(login->policy.fields[FindKindField(spec, "second_factors")].list,
            (std::vector<std::uint32_t>{1, 9}));

  Result<Response> negative = with(-1, {});
  ASSERT_FALSE(negative);
  EXPECT_EQ(negative.error().code(), Code::kInvalidArgument);
  EXPECT_NE(negative.error().message().find("passwordless_type"), std::string::npos);
  ASSERT_FALSE(with(0, {2, -3}));
}

TEST(KindWireTest, BadDurationsAndOversizedValuesAreRefused) {
  auto duration = [](std::int64_t seconds, int nanos) {
    return DecodeCrafted([=](flatbuffers::FlatBufferBuilder& fbb) {
      const fb::Duration d(seconds, nanos);
      fb::LoginPolicyBuilder b(fbb);
      b.add_mfa_init_skip_lifetime(&d);
      return b.Finish();
    });
  };
  EXPECT_TRUE(duration(864000, 0));
  EXPECT_TRUE(duration(-1, -500'000'000));
  EXPECT_TRUE(duration(9'223'372'036, 854'775'807));  // Go's max time.Duration
  EXPECT_FALSE(duration(9'223'372'036, 854'775'808));
  EXPECT_FALSE(duration(-9'223'372'036, -854'775'809));
  EXPECT_FALSE(duration(std::numeric_limits<std::int64_t>::max(), 0));
  EXPECT_FALSE(duration(1, -1));
  EXPECT_FALSE(duration(-1, 1));
  EXPECT_FALSE(duration(0, 1'000'000'000));

  Result<Response> long_uri = DecodeCrafted([](flatbuffers::FlatBufferBuilder& fbb) {
    auto s = fbb.CreateString(std::string(kMaxKindStringLength + 1, 'x'));
    fb::LoginPolicyBuilder b(fbb);
    b.add_default_redirect_uri(s);
    return b.Finish();
  });
  EXPECT_FALSE(long_uri);
  Result<Response> long_list = DecodeCrafted([](flatbuffers::FlatBufferBuilder& fbb) {
    std::vector<fb::MultiFactorType> list(kMaxKindListLength + 1);
    auto v = fbb.CreateVector(list);
    fb::LoginPolicyBuilder b(fbb);
    b.add_multi_factors(v);
    return b.Finish();
  });
  EXPECT_FALSE(long_list);
  Result<Response> bad_details = DecodeCrafted([](flatbuffers::FlatBufferBuilder& fbb) {
    const fb::Timestamp t(1, 1'000'000'000);
    auto details = fb::CreateDetails(fbb, 1, &t);
    fb::LoginPolicyBuilder b(fbb);
    b.add_details(details);
    return b.Finish();
  });
  EXPECT_FALSE(bad_details);
  // A bool byte other than 0/1 reads as true, as flatc's accessors read it.
  Result<Response> odd_bool = DecodeCrafted([](flatbuffers::FlatBufferBuilder& fbb) {
    const auto start = fbb.StartTable();
    fbb.AddElement<std::uint8_t>(fb::LoginPolicy::VT_FORCE_MFA, 7, 0);
    return flatbuffers::Offset<fb::LoginPolicy>(fbb.EndTable(start));
  });
  ASSERT_TRUE(odd_bool);
  EXPECT_EQ(odd_bool->policies[0]
                .kind(PolicyKind::kLogin)
                ->policy.fields[FindKindField(SpecOf(PolicyKind::kLogin), "force_mfa")]
                .number,
            1u);
}

TEST(KindWireTest, APasswordCheckAnswerRoundTripsWithoutAPassword) {
  std::mt19937_64 rng(3);
  const KindPolicy pc = RandomPolicy(PolicyKind::kPasswordComplexity, rng);
  CheckDecision d;
  d.allowed = false;
  d.reason = CheckReason::kPasswordTooShort;
  d.message = "Password is too short";
  CheckResultView view;
  view.kind = CheckKind::kPassword;
  view.org_id = "org-1";
  view.org_known = true;
  view.decision = &d;
  view.password_policy = &pc;
  view.password_is_default = true;
  view.error_id = "DOMAIN-HuJf6";
  ResponseEncoder enc;
  std::vector<std::uint8_t> frame;
  enc.AppendCheck(frame, 12, view, false);

  const Aligned body = Body(frame);
  const fb::CheckResult* r = fb::GetResponse(body.span().data())->body_as_CheckResult();
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->kind(), fb::CheckKind::PASSWORD);
  EXPECT_EQ(r->reason(), fb::CheckReason::PASSWORD_TOO_SHORT);
  EXPECT_EQ(r->error_id()->str(), "DOMAIN-HuJf6");
  EXPECT_EQ(r->policy(), nullptr);
  Fields f(pc, true);
  Compare(r->password_complexity(), f);

  Result<Response> decoded = DecodeResponse(body.span());
  ASSERT_TRUE(decoded) << decoded.error().message();
  const CheckAnswer& a = decoded->checks.at(0);
  EXPECT_EQ(a.kind, CheckKind::kPassword);
  EXPECT_FALSE(a.allowed);
  EXPECT_EQ(a.reason, CheckReason::kPasswordTooShort);
  EXPECT_EQ(a.error_id, "DOMAIN-HuJf6");
  EXPECT_EQ(a.message, "Password is too short");
  ASSERT_TRUE(a.password_complexity.has_value());
  EXPECT_EQ(*a.password_complexity, (KindValue{pc, true}));
}

TEST(KindWireTest, PasswordReasonsFollowTheRules) {
  EXPECT_EQ(PasswordCheckReason(PasswordRule::kNone), CheckReason::kPasswordAllowed);
  EXPECT_EQ(PasswordCheckReason(PasswordRule::kMinLength), CheckReason::kPasswordTooShort);
  EXPECT_EQ(PasswordCheckReason(PasswordRule::kHasLowercase), CheckReason::kPasswordNoLowercase);
  EXPECT_EQ(PasswordCheckReason(PasswordRule::kHasUppercase), CheckReason::kPasswordNoUppercase);
  EXPECT_EQ(PasswordCheckReason(PasswordRule::kHasNumber), CheckReason::kPasswordNoNumber);
  EXPECT_EQ(PasswordCheckReason(PasswordRule::kHasSymbol), CheckReason::kPasswordNoSymbol);
  // The wire's numbers are the library's.
  EXPECT_EQ(static_cast<int>(fb::CheckReason::PASSWORD_NO_SYMBOL),
            static_cast<int>(CheckReason::kPasswordNoSymbol));
  EXPECT_EQ(static_cast<int>(fb::CheckKind::PASSWORD), static_cast<int>(CheckKind::kPassword));
  EXPECT_EQ(CheckReasonName(CheckReason::kPasswordNoNumber), "PASSWORD_NO_NUMBER");
}

TEST(KindWireTest, EveryKindFitsTheBuilder) {
  for (PolicyKind kind : kGenericKinds) {
    EXPECT_LE(SpecOf(kind).fields.size(), wire::kMaxKindFields) << SpecOf(kind).message_name;
    EXPECT_LE(SpecOf(kind).is_default_index, SpecOf(kind).fields.size());
  }
}

TEST(KindWireTest, TheSchemaEnumsAreTheSpecs) {
  // PolicyKind: the schema's name of each number is its cli name, upper case with '_'.
  for (std::size_t k = 0; k < kPolicyKindCount; ++k) {
    std::string want(SpecOf(static_cast<PolicyKind>(k)).cli_name);
    for (char& c : want) c = c == '-' ? '_' : static_cast<char>(std::toupper(c));
    EXPECT_EQ(fb::EnumNamePolicyKind(static_cast<fb::PolicyKind>(k)), want);
  }
  EXPECT_EQ(static_cast<std::size_t>(fb::PolicyKind::MAX) + 1, kPolicyKindCount);
  const KindSpec& login = SpecOf(PolicyKind::kLogin);
  const KindSpec& label = SpecOf(PolicyKind::kLabel);
  auto names = [](const FieldSpec& f) {
    std::vector<std::string> out;
    for (std::string_view v : f.enum_spec->values) out.emplace_back(v);
    return out;
  };
  auto generated = [](const char* const* n, std::size_t count) {
    return std::vector<std::string>(n, n + count);
  };
  EXPECT_EQ(names(login.fields[FindKindField(login, "passwordless_type")]),
            generated(fb::EnumNamesPasswordlessType(), 2));
  EXPECT_EQ(names(login.fields[FindKindField(login, "second_factors")]),
            generated(fb::EnumNamesSecondFactorType(), 5));
  EXPECT_EQ(names(login.fields[FindKindField(login, "multi_factors")]),
            generated(fb::EnumNamesMultiFactorType(), 2));
  EXPECT_EQ(names(label.fields[FindKindField(label, "theme_mode")]),
            generated(fb::EnumNamesThemeMode(), 4));
}

TEST(KindWireTest, EncodingEveryKindAllocatesNothingOnceWarmedUp) {
  std::mt19937_64 rng(17);
  std::vector<KindPolicy> policies;
  KindAnswers answers;
  for (PolicyKind kind : kGenericKinds) policies.push_back(RandomPolicy(kind, rng));
  for (std::size_t i = 0; i < policies.size(); ++i) {
    answers.kinds[static_cast<std::size_t>(kGenericKinds[i])] = {&policies[i], i % 2 == 0};
  }
  const Resolution res{SomeDomainPolicy(), true};
  const Status not_found = Status::NotFound("no such org");
  const OrgAnswer batch[] = {{"org-1", &res, nullptr, &answers},
                             {"org-2", nullptr, &not_found, nullptr},
                             {"org-3", &res, nullptr, &answers}};
  CheckDecision d;
  d.reason = CheckReason::kPasswordNoNumber;
  d.message = "Password must contain number";
  CheckResultView password;
  password.kind = CheckKind::kPassword;
  password.org_id = "org-1";
  password.decision = &d;
  password.password_policy = &policies[0];
  password.error_id = "DOMAIN-ZBv4H";
  ResponseEncoder enc;
  std::vector<std::uint8_t> out;
  auto encode_all = [&] {
    out.clear();
    enc.AppendOrgKinds(out, 1, "org-1", res, answers, false);
    enc.AppendDefaultKinds(out, 2, res.policy, answers, false);
    enc.AppendBatch(out, 3, batch, false);
    enc.AppendCheck(out, 4, password, false);
  };
  encode_all();  // warm-up: the builder, the offset vectors and `out` grow once
  const std::uint64_t before = AllocationCount();
  encode_all();
  EXPECT_EQ(AllocationCount() - before, 0u);
  // The counter does count (else the expectation above could not fail).
  auto probe = std::make_unique<int>(1);
  EXPECT_GT(AllocationCount() - before, 0u);
}

TEST(KindWireTest, GarbageAndBitFlipsOfAKindsAnswerNeverCrash) {
  std::mt19937_64 rng(99);
  std::vector<KindPolicy> policies;
  KindAnswers answers;
  for (PolicyKind kind : kGenericKinds) policies.push_back(RandomPolicy(kind, rng));
  for (std::size_t i = 0; i < policies.size(); ++i) {
    answers.kinds[static_cast<std::size_t>(kGenericKinds[i])] = {&policies[i], false};
  }
  ResponseEncoder enc;
  std::vector<std::uint8_t> frame;
  enc.AppendOrgKinds(frame, 1, "org", Resolution{SomeDomainPolicy(), true}, answers, false);
  std::vector<std::uint8_t> body(frame.begin() + kFrameHeaderBytes, frame.end());
  for (int i = 0; i < 20000; ++i) {
    std::vector<std::uint8_t> mutated = body;
    for (int flips = 1 + static_cast<int>(rng() % 4); flips > 0; --flips) {
      mutated[rng() % mutated.size()] ^= static_cast<std::uint8_t>(1u << (rng() % 8));
    }
    Result<Response> r = DecodeResponse(Aligned(Bytes(mutated)).span());
    if (r && r->kind == ResponseKind::kPolicy && r->policies[0].status.ok()) {
      for (const KindValue& k : r->policies[0].kinds) {
        EXPECT_EQ(k.policy.fields.size(), SpecOf(k.policy.kind).fields.size());
      }
    }
  }
}

}  // namespace
}  // namespace policyd
