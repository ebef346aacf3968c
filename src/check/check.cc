#include "check/check.h"

#include <array>
#include <string>

namespace policyd {

std::string_view CheckKindName(CheckKind kind) {
  switch (kind) {
    case CheckKind::kLoginName:
      return "login_name";
    case CheckKind::kSmtpSender:
      return "smtp_sender";
    case CheckKind::kDomainVerification:
      return "domain_verification";
    case CheckKind::kPassword:
      return "password";
    case CheckKind::kUnspecified:
      break;
  }
  return "unspecified";
}

std::string_view CheckReasonName(CheckReason reason) {
  constexpr std::array<std::string_view, kMaxCheckReason + 1> kNames = {
      "UNSPECIFIED",
      "ALLOWED_BARE_USERNAME",
      "ALLOWED_VERIFIED_DOMAIN",
      "MISSING_DOMAIN",
      "EMPTY_USERNAME",
      "DOMAIN_NOT_IN_ORG",
      "DOMAIN_NOT_VERIFIED",
      "INVALID_LOGIN_NAME",
      "NOT_REQUIRED",
      "ALLOWED_INSTANCE_DOMAIN",
      "SENDER_DOMAIN_NOT_INSTANCE_DOMAIN",
      "INVALID_ADDRESS",
      "VERIFICATION_REQUIRED",
      "DOMAIN_ALREADY_VERIFIED",
      "INVALID_DOMAIN",
      "DOMAIN_NOT_ALLOWED_AS_USERNAME",
      "PASSWORD_ALLOWED",
      "PASSWORD_TOO_SHORT",
      "PASSWORD_NO_LOWERCASE",
      "PASSWORD_NO_UPPERCASE",
      "PASSWORD_NO_NUMBER",
      "PASSWORD_NO_SYMBOL",
  };
  const auto i = static_cast<std::size_t>(reason);
  return i < kNames.size() ? kNames[i] : kNames[0];
}

Status ValidateCheckRequest(const CheckRequest& request) {
  switch (request.kind) {
    case CheckKind::kLoginName:
    case CheckKind::kDomainVerification:
      return Status::Ok();
    case CheckKind::kSmtpSender:
      if (!request.org_id.empty()) {
        return Status::InvalidArgument(
            "an SMTP sender check takes no org id: the upstream checks the sender against the "
            "instance policy only");
      }
      return Status::Ok();
    case CheckKind::kPassword:
      // The org id itself is checked by the resolution (resolve.h CheckOrgLookup).
      return Status::Ok();
    case CheckKind::kUnspecified:
      return Status::InvalidArgument("check without a kind");
  }
  return Status::InvalidArgument("unsupported check kind " +
                                 std::to_string(static_cast<int>(request.kind)));
}

std::optional<std::string_view> LoginNameClaimedDomain(std::string_view login_name) {
  const std::size_t at = login_name.rfind('@');
  if (at == std::string_view::npos) return std::nullopt;
  const std::string_view domain = login_name.substr(at + 1);
  if (domain.empty() || domain.size() > kMaxDomainLength) return std::nullopt;
  return domain;
}

bool CheckNeedsDomains(CheckKind kind, const PolicyFlags& flags) {
  switch (kind) {
    case CheckKind::kLoginName:
      return flags.user_login_must_be_domain;
    case CheckKind::kSmtpSender:
      return flags.smtp_sender_address_matches_instance_domain;
    case CheckKind::kDomainVerification:
      return true;
    case CheckKind::kPassword:
    case CheckKind::kUnspecified:
      break;
  }
  return false;
}

void Decide(const CheckRequest& request, const CheckContext& context, CheckDecision& out) {
  switch (request.kind) {
    case CheckKind::kLoginName:
      return DecideLoginName(request.org_id, request.value, context, out);
    case CheckKind::kSmtpSender:
      return DecideSmtpSender(request.value, context, out);
    case CheckKind::kDomainVerification:
      return DecideDomainVerification(request.org_id, request.value, context, out);
    case CheckKind::kPassword:  // decided by CheckPassword (check/password.h), not here
    case CheckKind::kUnspecified:
      break;
  }
  // Callers validate first; an unvalidated kind still gets a definite refusal.
  out.Clear();
  out.message = "unsupported check kind";
}

}  // namespace policyd
