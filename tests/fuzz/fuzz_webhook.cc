// Fuzzes the ZITADEL-Signature check (webhook/signature.h) with outside bytes: the input's first
// line is the header's value, the rest the body. The check must return one of its outcomes for
// any input, and a header computed for the same body with the key must always verify.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "webhook/signature.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using policyd::webhook::SignatureCheck;
  constexpr std::string_view kKey = "Xq7CtbD2k9mVn4RwZp1sLf8gHj3aEu6yTc0B";
  constexpr std::int64_t kNow = 1'796'000'000;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const std::size_t newline = input.find('\n');
  const std::string_view header = input.substr(0, newline);
  const std::string_view body =
      newline == std::string_view::npos ? std::string_view() : input.substr(newline + 1);
  const SignatureCheck check = policyd::webhook::VerifySignature(header, body, kKey, kNow);
  if (policyd::webhook::SignatureCheckName(check) == "unknown") std::abort();
  const std::string good = policyd::webhook::ComputeSignatureHeader(kNow - 7, body, {kKey});
  if (policyd::webhook::VerifySignature(good, body, kKey, kNow) != SignatureCheck::kValid) {
    std::abort();
  }
  return 0;
}
