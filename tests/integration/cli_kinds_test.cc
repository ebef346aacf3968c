// policyctl against a real policyd serving the bundled example snapshot (and one syncing from the
// fake upstream): `get --kind` prints each kind exactly as the upstream's management GET (with
// --org) or admin GET would, and `check password` decides the password on standard input, never
// showing it.
//
// The expected bodies are built from examples/snapshot.json's "policies" objects, which are the
// upstream's GET objects: an org's own object, else the instance's (which carries isDefault),
// and for the management GET of the kinds whose response has the deprecated top-level isDefault
// (password complexity, password age, lockout, login, label:
// ../shared/upstream/zitadel-events-and-policies.md §3) a trailing ,"isDefault":true.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <termios.h>
#include <unistd.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "fake_upstream/fake_upstream.h"
#include "support/daemon.h"

namespace policyd::testing_support {
namespace {

using Json = nlohmann::ordered_json;

struct KindCase {
  const char* cli_name;        // policyctl get --kind
  const char* snapshot_name;   // snapshot "policies" key
  bool management_is_default;  // the management GET response's deprecated top-level isDefault
};
constexpr KindCase kKinds[] = {
    {"password-complexity", "passwordComplexity", true},
    {"password-age", "passwordAge", true},
    {"lockout", "lockout", true},
    {"login", "login", true},
    {"privacy", "privacy", false},
    {"notification", "notification", false},
    {"label", "label", true},
};

const char* kOrg42 = "300000000000000042";  // own password complexity (12, no symbol), login, label
const char* kOrg107 = "300000000000000107";  // inherits every kind
const char* kOrg233 = "300000000000000233";  // own lockout and privacy

Json LoadSnapshot() {
  std::ifstream in(SourceDir() + "/examples/snapshot.json");
  return Json::parse(in);
}

class CliKindsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    daemon_ = new Daemon(*dir_, {"--snapshot", SourceDir() + "/examples/snapshot.json"});
    ASSERT_TRUE(daemon_->WaitReady());
  }
  static void TearDownTestSuite() {
    delete daemon_;
    delete dir_;
  }

  static TempDir* dir_;
  static Daemon* daemon_;
};
TempDir* CliKindsTest::dir_ = nullptr;
Daemon* CliKindsTest::daemon_ = nullptr;

TEST_F(CliKindsTest, GetPrintsEveryKindExactlyAsTheUpstreamsGet) {
  const Json snapshot = LoadSnapshot();
  const Json& instance = snapshot["instance"]["policies"];
  std::vector<std::string> orgs = {"no-such-org"};
  for (const Json& org : snapshot["orgs"]) orgs.push_back(org["id"].get<std::string>());
  int own = 0, inherited = 0;
  for (const KindCase& kind : kKinds) {
    SCOPED_TRACE(kind.cli_name);
    ASSERT_TRUE(instance.contains(kind.snapshot_name));
    const Json& fallback = instance[kind.snapshot_name];
    ASSERT_EQ(fallback["isDefault"], true);
    CommandResult admin = daemon_->Ctl({"get", "--kind", kind.cli_name});
    EXPECT_EQ(admin.exit_code, 0) << admin.err;
    EXPECT_EQ(admin.out, "{\"policy\":" + fallback.dump() + "}\n");
    EXPECT_EQ(admin.err, "");
    for (const std::string& org_id : orgs) {
      SCOPED_TRACE(org_id);
      const Json* org = nullptr;
      for (const Json& o : snapshot["orgs"]) {
        if (o["id"] == org_id) org = &o;
      }
      const bool has_own = org != nullptr && org->contains("policies") &&
                           (*org)["policies"].contains(kind.snapshot_name);
      std::string expected = "{\"policy\":";
      if (has_own) {
        expected += (*org)["policies"][kind.snapshot_name].dump() + "}\n";
        ++own;
      } else {
        expected +=
            fallback.dump() + (kind.management_is_default ? ",\"isDefault\":true" : "") + "}\n";
        ++inherited;
      }
      CommandResult got = daemon_->Ctl({"get", "--kind", kind.cli_name, "--org", org_id});
      EXPECT_EQ(got.exit_code, 0) << got.err;
      EXPECT_EQ(got.out, expected);
      // The deprecated top-level field: present (true) exactly for an inherited policy of the
      // kinds whose management response has it.
      const bool top_level = Json::parse(got.out).contains("isDefault");
      EXPECT_EQ(top_level, !has_own && kind.management_is_default);
    }
  }
  EXPECT_EQ(own, 5);  // 42: password complexity, login, label; 233: lockout, privacy
  EXPECT_EQ(inherited, 7 * 6 - 5);
}

TEST_F(CliKindsTest, KindDomainIsTodaysGetByteForByte) {
  for (const std::string org : {"", kOrg42, kOrg107, kOrg233, "no-such-org"}) {
    SCOPED_TRACE(org);
    std::vector<std::string> plain = {"get"}, with_kind = {"get", "--kind", "domain"};
    if (!org.empty()) {
      plain.insert(plain.end(), {"--org", org});
      with_kind.insert(with_kind.end(), {"--org", org});
    }
    CommandResult a = daemon_->Ctl(plain);
    CommandResult b = daemon_->Ctl(with_kind);
    EXPECT_EQ(a.exit_code, 0);
    EXPECT_EQ(b.exit_code, 0);
    EXPECT_EQ(a.out, b.out);
    EXPECT_EQ(a.out.rfind("{\"policy\":{\"details\":", 0), 0u) << a.out;
  }
}

TEST_F(CliKindsTest, AnUnknownKindIsAUsageErrorThatListsTheKinds) {
  for (const std::string bad : {"bogus", "Domain", "passwordComplexity", "label-preview", ""}) {
    CommandResult r = daemon_->Ctl({"get", "--kind", bad, "--org", kOrg42});
    EXPECT_EQ(r.exit_code, 2) << bad;
    EXPECT_EQ(r.out, "");
    EXPECT_NE(r.err.find("domain, password-complexity, password-age, lockout, login, privacy, "
                         "notification, label"),
              std::string::npos)
        << r.err;
  }
}

TEST_F(CliKindsTest, StrictGetOfAnUnknownOrgExitsThreeForEveryKind) {
  for (const char* kind : {"domain", "password-complexity", "password-age", "lockout", "login",
                           "privacy", "notification", "label"}) {
    CommandResult r = daemon_->Ctl({"get", "--kind", kind, "--org", "no-such-org", "--strict"});
    EXPECT_EQ(r.exit_code, 3) << kind;
    EXPECT_EQ(r.out, "");
    EXPECT_NE(r.err.find("NOT_FOUND"), std::string::npos) << r.err;
    CommandResult known = daemon_->Ctl({"get", "--kind", kind, "--org", kOrg233, "--strict"});
    EXPECT_EQ(known.exit_code, 0) << kind << known.err;
  }
  CommandResult no_daemon = RunCommand({BinDir() + "/cli/policyctl", "--socket",
                                        dir_->Join("nothing.sock"), "get", "--kind", "login"});
  EXPECT_EQ(no_daemon.exit_code, 4);
}

// One password check through policyctl: the exit code, the error id (empty: allowed), and never
// the password on stdout or stderr.
struct PasswordCase {
  const char* org;
  std::string input;
  int exit_code;
  const char* error_id;
};

TEST_F(CliKindsTest, CheckPasswordAppliesEachRuleOfTheOrgsEffectivePolicy) {
  const PasswordCase cases[] = {
      // Org 42's own policy: 12 bytes, lower, upper, number, no symbol.
      {kOrg42, "Abcdefghij12", 0, ""},
      {kOrg42, "Abcdefghi12", 1, "DOMAIN-HuJf6"},
      {kOrg42, "ABCDEFGHIJ12", 1, "DOMAIN-co3Xw"},
      {kOrg42, "abcdefghij12", 1, "DOMAIN-VoaRj"},
      {kOrg42, "Abcdefghijkl", 1, "DOMAIN-ZBv4H"},
      // Org 107 inherits the instance's: 8 bytes and all four classes.
      {kOrg107, "Abcdef1!", 0, ""},
      {kOrg107, "Abcde1!", 1, "DOMAIN-HuJf6"},
      {kOrg107, "ABCDEF1!", 1, "DOMAIN-co3Xw"},
      {kOrg107, "abcdef1!", 1, "DOMAIN-VoaRj"},
      {kOrg107, "Abcdefg!", 1, "DOMAIN-ZBv4H"},
      {kOrg107, "Abcdefg1", 1, "DOMAIN-ZDLwA"},
      {kOrg107, "Abcdefg1 ", 0, ""},                        // a space is a symbol, and is kept
      {kOrg107, "Ab1\xc3\xa9\xc3\xa9\xc3\xa9", 0, ""},      // é is a symbol; 9 bytes, 6 characters
      {kOrg107, "Ab1\xc3\xa9\xc3\xa9", 1, "DOMAIN-HuJf6"},  // 7 bytes
      {kOrg233, "Abcdefg1", 1, "DOMAIN-ZDLwA"},             // its own rows are other kinds
      {"no-such-org", "Abcdef1!", 0, ""},                   // decided on the instance default
      // One trailing newline is not part of the password; a second one is.
      {kOrg42, "Abcdefghij12\n", 0, ""},
      {kOrg42, "Abcdefghi12\n", 1, "DOMAIN-HuJf6"},
      {kOrg42, "Abcdefghi12\r\n", 1, "DOMAIN-HuJf6"},
      {kOrg107, "Abcdefg1\n", 1, "DOMAIN-ZDLwA"},
      {kOrg107, "Abcdefg1\n\n", 0, ""},
  };
  for (const PasswordCase& c : cases) {
    SCOPED_TRACE(std::string(c.org) + " " + ::testing::PrintToString(c.input));
    const std::string password = c.input.substr(0, c.input.find_first_of("\r\n"));
    for (const bool json : {false, true}) {
      std::vector<std::string> args = {"check", "password", c.org};
      if (json) args.push_back("--json");
      CommandResult r = daemon_->CtlWithInput(args, c.input);
      EXPECT_EQ(r.exit_code, c.exit_code) << r.out << r.err;
      EXPECT_EQ(r.out.find(password), std::string::npos) << r.out;
      EXPECT_EQ(r.err.find(password), std::string::npos) << r.err;
      if (!json) {
        EXPECT_EQ(r.out.rfind(c.exit_code == 0 ? "allowed: " : "refused: ", 0), 0u) << r.out;
        if (*c.error_id != '\0') {
          EXPECT_NE(r.out.find(std::string("\nerror:   ") + c.error_id + "\n"), std::string::npos)
              << r.out;
        } else {
          EXPECT_EQ(r.out.find("\nerror:"), std::string::npos) << r.out;
        }
        continue;
      }
      ASSERT_EQ(r.out.find('\n'), r.out.size() - 1) << "one line";
      const Json j = Json::parse(r.out);
      EXPECT_EQ(j["allowed"], c.exit_code == 0);
      EXPECT_EQ(j["errorId"], c.error_id);
      EXPECT_EQ(j["kind"], "password");
      EXPECT_EQ(j["orgId"], c.org);
    }
  }
  // Nor does policyd log any of them.
  const std::string log = daemon_->process().Log();
  for (const PasswordCase& c : cases) {
    EXPECT_EQ(log.find(c.input.substr(0, c.input.find_first_of("\r\n"))), std::string::npos);
  }
}

TEST_F(CliKindsTest, CheckPasswordShowsThePolicyItUsed) {
  const Json snapshot = LoadSnapshot();
  CommandResult own = daemon_->CtlWithInput({"check", "password", kOrg42, "--json"}, "x\n");
  EXPECT_EQ(own.exit_code, 1);
  Json j = Json::parse(own.out);
  EXPECT_EQ(j["reason"], "PASSWORD_TOO_SHORT");
  EXPECT_EQ(j["message"], "Password is too short");
  EXPECT_EQ(j["orgKnown"], true);
  EXPECT_EQ(j["policy"], snapshot["orgs"][0]["policies"]["passwordComplexity"]);
  CommandResult inherited = daemon_->CtlWithInput({"check", "password", kOrg107}, "x\n");
  EXPECT_EQ(inherited.exit_code, 1);
  EXPECT_NE(inherited.out.find("\npolicy:  minLength=8 hasUppercase=true hasLowercase=true "
                               "hasNumber=true hasSymbol=true (instance default)\n"),
            std::string::npos)
      << inherited.out;
  CommandResult text = daemon_->CtlWithInput({"check", "password", kOrg42}, "x\n");
  EXPECT_EQ(text.out,
            "refused: Password is too short\n"
            "reason:  PASSWORD_TOO_SHORT\n"
            "error:   DOMAIN-HuJf6\n"
            "org:     300000000000000042\n"
            "policy:  minLength=12 hasUppercase=true hasLowercase=true hasNumber=true "
            "hasSymbol=false (own policy of 300000000000000042)\n");
}

TEST_F(CliKindsTest, CheckPasswordRefusesEmptyOverLongAndCommandLinePasswords) {
  for (const std::string empty : {"", "\n", "\r\n"}) {
    CommandResult r = daemon_->CtlWithInput({"check", "password", kOrg107}, empty);
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_EQ(r.out, "");
    EXPECT_NE(r.err.find("no password on standard input"), std::string::npos) << r.err;
  }
  std::string longest;
  while (longest.size() < 4096) longest += "Aa1!";
  CommandResult fits = daemon_->CtlWithInput({"check", "password", kOrg107}, longest + "\n");
  EXPECT_EQ(fits.exit_code, 0) << fits.err;
  CommandResult too_long =
      daemon_->CtlWithInput({"check", "password", kOrg107}, longest + "Z" + "\n");
  EXPECT_EQ(too_long.exit_code, 2);
  EXPECT_EQ(too_long.out, "");
  EXPECT_NE(too_long.err.find("longer than 4096 bytes"), std::string::npos) << too_long.err;
  EXPECT_EQ(too_long.err.find("Aa1!"), std::string::npos);

  // A password given as an argument is refused, and not repeated in the error.
  CommandResult argument =
      daemon_->CtlWithInput({"check", "password", kOrg107, "Cmdline-Secret-1"}, "Abcdef1!\n");
  EXPECT_EQ(argument.exit_code, 2);
  EXPECT_EQ(argument.out, "");
  EXPECT_NE(argument.err.find("standard input"), std::string::npos) << argument.err;
  EXPECT_EQ(argument.err.find("Cmdline-Secret"), std::string::npos) << argument.err;
  CommandResult no_org = daemon_->CtlWithInput({"check", "password"}, "Abcdef1!\n");
  EXPECT_EQ(no_org.exit_code, 2);
}

TEST_F(CliKindsTest, CheckPasswordExitCodesForUnknownOrgsAndNoDaemon) {
  CommandResult strict =
      daemon_->CtlWithInput({"check", "password", "no-such-org", "--strict"}, "Abcdef1!\n");
  EXPECT_EQ(strict.exit_code, 3);
  EXPECT_NE(strict.err.find("NOT_FOUND"), std::string::npos) << strict.err;
  EXPECT_EQ(strict.err.find("Abcdef1!"), std::string::npos);
  CommandResult lax = daemon_->CtlWithInput({"check", "password", "no-such-org"}, "Abcdef1!\n");
  EXPECT_EQ(lax.exit_code, 0);
  EXPECT_NE(lax.out.find("org:     no-such-org (unknown to policyd)"), std::string::npos);
  CommandResult bad_org =
      daemon_->CtlWithInput({"check", "password", std::string(201, 'x')}, "Abcdef1!\n");
  EXPECT_EQ(bad_org.exit_code, 5);
  EXPECT_NE(bad_org.err.find("INVALID_ARGUMENT"), std::string::npos) << bad_org.err;
  CommandResult no_daemon =
      RunCommandWithInput({BinDir() + "/cli/policyctl", "--socket", dir_->Join("nothing.sock"),
                           "check", "password", kOrg107},
                          "Unreachable-Secret-1\n");
  EXPECT_EQ(no_daemon.exit_code, 4);
  EXPECT_EQ(no_daemon.err.find("Unreachable-Secret"), std::string::npos) << no_daemon.err;
}

// On a terminal (a pseudo-terminal here) policyctl prompts on stderr, reads the line without
// echo and leaves the terminal as it found it.
TEST_F(CliKindsTest, CheckPasswordOnATerminalPromptsWithoutEchoAndRestoresIt) {
  const int master = posix_openpt(O_RDWR | O_NOCTTY);
  ASSERT_GE(master, 0);
  ASSERT_EQ(grantpt(master), 0);
  ASSERT_EQ(unlockpt(master), 0);
  const std::string slave_path = ptsname(master);
  const int slave = open(slave_path.c_str(), O_RDWR | O_NOCTTY);  // keeps the settings alive
  ASSERT_GE(slave, 0);
  auto echo = [&] {
    struct termios t {};
    return tcgetattr(slave, &t) == 0 && (t.c_lflag & ECHO) != 0;
  };
  ASSERT_TRUE(echo());
  ChildProcess ctl(
      {BinDir() + "/cli/policyctl", "--socket", daemon_->socket(), "check", "password", kOrg42},
      dir_->Join("tty-ctl.err"), {}, slave_path);
  ASSERT_TRUE(WaitFor([&] { return !echo(); }, std::chrono::seconds(10), "echo off"));
  const std::string keys = "Tty-Secret-123\n";
  ASSERT_EQ(write(master, keys.data(), keys.size()), static_cast<ssize_t>(keys.size()));
  EXPECT_EQ(ctl.Wait(std::chrono::seconds(10)), 0);
  EXPECT_TRUE(echo()) << "the terminal's settings are back";
  fcntl(master, F_SETFL, O_NONBLOCK);
  char shown[256];
  const ssize_t n = read(master, shown, sizeof shown);
  EXPECT_EQ(std::string(shown, n > 0 ? static_cast<std::size_t>(n) : 0).find("Tty-Secret"),
            std::string::npos);
  EXPECT_EQ(ctl.Log(), "Password: \n");
  std::ifstream out(dir_->Join("tty-ctl.err.out"));
  std::stringstream text;
  text << out.rdbuf();
  EXPECT_EQ(text.str().rfind("allowed: ", 0), 0u) << text.str();
  EXPECT_EQ(text.str().find("Tty-Secret"), std::string::npos);
  close(slave);
  close(master);
}

// Against the fake upstream: what `get --kind` prints is the upstream's own GET body, byte for
// byte, through changes; `check password` follows the org's policy as it changes and falls back
// to the default when the org's own is removed; and a stale daemon's answers carry the warning.
TEST(CliKindsSyncTest, GetIsTheUpstreamsBodyAndCheckPasswordFollowsItsChanges) {
  FakeUpstream upstream;
  ASSERT_TRUE(upstream.ok());
  TempDir dir;
  const std::string token = dir.Join("token");
  std::ofstream(token) << "fake-pat-0123456789\n";
  chmod(token.c_str(), 0600);
  const std::string a = upstream.AddOrg("Acme");
  const std::string b = upstream.AddOrg("Globex");
  const std::string c = upstream.AddOrg("Initech");
  ASSERT_TRUE(upstream
                  .AddOrgKindPolicy("passwordComplexity", a,
                                    R"({"minLength":"12","hasUppercase":true,"hasLowercase":true,)"
                                    R"("hasNumber":true})")
                  .ok());
  ASSERT_TRUE(upstream.AddOrgKindPolicy("lockout", b, R"({"maxPasswordAttempts":"5"})").ok());
  ASSERT_TRUE(
      upstream.AddOrgKindPolicy("privacy", b, R"({"tosLink":"https://b.example/tos"})").ok());
  ASSERT_TRUE(upstream.AddOrgKindPolicy("notification", c, R"({"passwordChange":true})").ok());
  ASSERT_TRUE(
      upstream.ChangeDefaultKindPolicy("passwordAge", R"({"maxAgeDays":"90","expireWarnDays":"7"})")
          .ok());

  Daemon daemon(dir, {"--upstream", upstream.base_url(), "--token-file", token, "--poll-interval",
                      "200ms", "--request-timeout", "2s", "--max-staleness", "2s"});
  ASSERT_TRUE(daemon.WaitReady());
  std::string mismatch;
  auto all_equal = [&] {
    for (const KindCase& kind : kKinds) {
      CommandResult admin = daemon.Ctl({"get", "--kind", kind.cli_name});
      if (admin.out != upstream.DefaultKindPolicyBody(kind.snapshot_name) + "\n") {
        mismatch = std::string(kind.cli_name) + ": " + admin.out + admin.err;
        return false;
      }
      for (const std::string& org : {a, b, c}) {
        CommandResult got = daemon.Ctl({"get", "--kind", kind.cli_name, "--org", org});
        if (got.out != upstream.KindPolicyBody(kind.snapshot_name, org) + "\n") {
          mismatch = std::string(kind.cli_name) + " " + org + ": " + got.out + got.err;
          return false;
        }
      }
    }
    return true;
  };
  ASSERT_TRUE(WaitFor(all_equal, std::chrono::seconds(20), "every kind's body")) << mismatch;
  EXPECT_NE(
      daemon.Ctl({"get", "--kind", "password-age", "--org", a}).out.find("\"maxAgeDays\":\"90\""),
      std::string::npos);

  auto error_id = [&](const std::string& org, const std::string& password) {
    CommandResult r = daemon.CtlWithInput({"check", "password", org, "--json"}, password + "\n");
    if (r.exit_code != 0 && r.exit_code != 1) return "exit " + std::to_string(r.exit_code) + r.err;
    return nlohmann::json::parse(r.out)["errorId"].get<std::string>();
  };
  EXPECT_EQ(error_id(a, "Abcdefghij12"), "");
  EXPECT_EQ(error_id(b, "Abcdefghij12"), "DOMAIN-ZDLwA");  // the default wants a symbol
  ASSERT_TRUE(
      upstream
          .ChangeOrgKindPolicy("passwordComplexity", a, R"({"minLength":"16","hasSymbol":true})")
          .ok());
  EXPECT_TRUE(WaitFor([&] { return error_id(a, "Abcdefghij12") == "DOMAIN-HuJf6"; },
                      std::chrono::seconds(10), "the changed policy"));
  EXPECT_EQ(error_id(a, "abcdefghij12!@#$"), "");  // no class but the symbol is required now
  ASSERT_TRUE(upstream.RemoveOrgKindPolicy("passwordComplexity", a).ok());
  EXPECT_TRUE(WaitFor([&] { return error_id(a, "abcdefghij12!@#$") == "DOMAIN-VoaRj"; },
                      std::chrono::seconds(10), "the default again"));
  ASSERT_TRUE(WaitFor(all_equal, std::chrono::seconds(10), "every kind's body")) << mismatch;

  // An outage: the answers stay the last good ones and say they are stale.
  upstream.InjectFault(Fault{FaultKind::kInternalError, Fault::kForever});
  ASSERT_TRUE(WaitFor(
      [&] {
        return daemon.Ctl({"get", "--kind", "login", "--org", a})
                   .err.find("warning: policyd's data is stale") != std::string::npos;
      },
      std::chrono::seconds(15), "the stale warning"));
  CommandResult stale = daemon.Ctl({"get", "--kind", "lockout", "--org", b});
  EXPECT_EQ(stale.exit_code, 0);
  EXPECT_EQ(stale.out, upstream.KindPolicyBody("lockout", b) + "\n");
  EXPECT_EQ(stale.err, "policyctl: warning: policyd's data is stale\n");
  CommandResult stale_check =
      daemon.CtlWithInput({"check", "password", b, "--json"}, "Abcdefgh1!\n");
  EXPECT_EQ(stale_check.exit_code, 0);
  EXPECT_NE(stale_check.out.find("\"stale\":true"), std::string::npos) << stale_check.out;
}

}  // namespace
}  // namespace policyd::testing_support
