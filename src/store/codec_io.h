// The byte-level helpers of the store's value encodings (store/codec.h, store/kind_codec.h):
// little-endian writers and a Decoder of untrusted bytes.
//
// Internal to store/ (codec.cc, kind_codec.cc). Pure; thread-safe.
#pragma once

#include <bit>
#include <cstring>
#include <string>
#include <string_view>
#include <type_traits>

#include "base/status.h"
#include "model/domain_policy.h"
#include "model/domains.h"
#include "model/source_version.h"
#include "store/codec.h"

namespace policyd::codec_internal {

inline constexpr std::uint8_t kKnownFlagBits = 0x07;
inline constexpr std::uint8_t kDomainVerified = 0x01;
inline constexpr std::uint8_t kDomainPrimary = 0x02;

template <typename T>
inline void PutFixed(T value, std::string* out) {
  static_assert(std::is_integral_v<T>);
  using U = std::make_unsigned_t<T>;
  auto u = static_cast<U>(value);
  char bytes[sizeof(U)];
  for (std::size_t i = 0; i < sizeof(U); ++i) {
    bytes[i] = static_cast<char>(static_cast<std::uint8_t>(u >> (8 * i)));
  }
  out->append(bytes, sizeof(U));
}

inline void PutString(std::string_view s, std::string* out) {
  PutFixed(static_cast<std::uint32_t>(s.size()), out);
  out->append(s);
}

inline void PutTime(const Timestamp& t, std::string* out) {
  PutFixed(t.seconds, out);
  PutFixed(static_cast<std::uint32_t>(t.nanos), out);
}

inline std::uint8_t FlagBits(const PolicyFlags& f) {
  return static_cast<std::uint8_t>((f.user_login_must_be_domain ? 1u : 0u) |
                                   (f.validate_org_domains ? 2u : 0u) |
                                   (f.smtp_sender_address_matches_instance_domain ? 4u : 0u));
}

inline void PutStream(const EventStream& stream, std::string* out) {
  PutString(stream.type, out);
  PutString(stream.id, out);
}

// The v2 policy body: the v1 fields, then the stream.
inline void PutPolicyBody(const PolicyRecord& r, std::string* out) {
  PutFixed(FlagBits(r.flags), out);
  PutFixed(r.details.sequence, out);
  PutTime(r.details.creation_date, out);
  PutTime(r.details.change_date, out);
  PutString(r.details.resource_owner, out);
  PutStream(r.stream, out);
}

inline void PutVersionBody(const SourceVersion& version, std::string* out) {
  PutTime(version.date, out);
  PutString(version.stream.type, out);
  PutString(version.stream.id, out);
  PutFixed(version.sequence, out);
}

// Reads fields from untrusted bytes. The first failure records a DATA_LOSS status naming the
// record and field; every later call then fails too, so callers can chain reads with &&.
class Decoder {
 public:
  Decoder(std::string_view in, std::string_view what)
      : p_(in.data()), end_(in.data() + in.size()), begin_(in.data()), what_(what) {}

  // Reads the version byte: kCodecV1 up to `newest` (kCodecV2 for rows that keep a stream,
  // kCodecV3 for entry rows that also keep the entry version).
  bool Version(std::uint8_t newest = kCodecV1) {
    if (!Fixed("version", &version_)) return false;
    if (version_ < kCodecV1 || version_ > newest) {
      return Fail("unsupported encoding version " + std::to_string(version_) +
                  " (this binary reads " +
                  (newest == kCodecV1 ? std::string("1") : "1 to " + std::to_string(newest)) + ")");
    }
    return true;
  }

  // The entry version at the end of a v3 entry row; zero for a v1 or v2 row. With `out` nullptr
  // the fields are checked and skipped.
  bool EntryVersion(SourceVersion* out) {
    if (version_ < kCodecV3) {
      if (out != nullptr) *out = {};
      return true;
    }
    return VersionBody(out);
  }

  // The version body (store/codec.h), into `*out` or, with nullptr, checked and skipped.
  bool VersionBody(SourceVersion* out) {
    Timestamp date;
    std::uint64_t sequence = 0;
    std::size_t type_length = 0;
    std::size_t id_length = 0;
    bool ok = Time("date", &date);
    if (out != nullptr) {
      ok = ok && String("stream type", 0, kMaxIdLength, &out->stream.type) &&
           String("stream id", 0, kMaxIdLength, &out->stream.id);
      type_length = out->stream.type.size();
      id_length = out->stream.id.size();
    } else {
      ok = ok && Skip("stream type", 0, kMaxIdLength, &type_length) &&
           Skip("stream id", 0, kMaxIdLength, &id_length);
    }
    if (!ok || !Fixed("sequence", &sequence)) return false;
    if (type_length == 0 && id_length != 0) return Fail("a stream id without a stream type");
    if (out != nullptr) {
      out->date = date;
      out->sequence = sequence;
    }
    return true;
  }

  // The stream of a v2 row; a v1 row's is unknown (cleared).
  bool Stream(EventStream* stream) {
    if (version_ == kCodecV1) {
      stream->type.clear();
      stream->id.clear();
      return true;
    }
    return String("stream type", 0, kMaxIdLength, &stream->type) &&
           String("stream id", 0, kMaxIdLength, &stream->id);
  }

  template <typename T>
  bool Fixed(std::string_view field, T* v) {
    using U = std::make_unsigned_t<T>;
    if (static_cast<std::size_t>(end_ - p_) < sizeof(U)) return Truncated(field);
    U u = 0;
    if constexpr (std::endian::native == std::endian::little) {
      std::memcpy(&u, p_, sizeof(U));
    } else {
      for (std::size_t i = 0; i < sizeof(U); ++i) {
        u |= static_cast<U>(static_cast<U>(static_cast<std::uint8_t>(p_[i])) << (8 * i));
      }
    }
    p_ += sizeof(U);
    *v = static_cast<T>(u);
    return true;
  }

  bool Bool(std::string_view field, bool* v) {
    std::uint8_t b = 0;
    if (!Fixed(field, &b)) return false;
    if (b > 1) return Fail(std::string(field) + " byte is " + std::to_string(b) + ", not 0 or 1");
    *v = b == 1;
    return true;
  }

  bool Time(std::string_view field, Timestamp* t) {
    std::uint32_t nanos = 0;
    if (!Fixed(field, &t->seconds) || !Fixed(field, &nanos)) return false;
    if (nanos >= static_cast<std::uint32_t>(kNanosPerSecond)) {
      return Fail(std::string(field) + " nanos " + std::to_string(nanos) + " out of range");
    }
    t->nanos = static_cast<std::int32_t>(nanos);
    return true;
  }

  bool String(std::string_view field, std::size_t min, std::size_t max, std::string* out) {
    std::size_t len = 0;
    if (!Skip(field, min, max, &len)) return false;
    out->assign(p_ - len, len);  // the bytes Skip just passed
    return true;
  }

  // As String(), without copying: `*length` gets the string's length.
  bool Skip(std::string_view field, std::size_t min, std::size_t max, std::size_t* length) {
    std::uint32_t len = 0;
    if (!Fixed(field, &len)) return false;
    if (len < min || len > max) {
      return Fail(std::string(field) + " length " + std::to_string(len) + " outside [" +
                  std::to_string(min) + ", " + std::to_string(max) + "]");
    }
    if (static_cast<std::size_t>(end_ - p_) < len) return Truncated(field);
    p_ += len;
    *length = len;
    return true;
  }

  bool PolicyBody(PolicyRecord* r) {
    std::uint8_t flags = 0;
    if (!Fixed("flags", &flags)) return false;
    if ((flags & ~kKnownFlagBits) != 0) {
      return Fail("unknown flag bits " + std::to_string(flags & ~kKnownFlagBits));
    }
    r->flags.user_login_must_be_domain = (flags & 1u) != 0;
    r->flags.validate_org_domains = (flags & 2u) != 0;
    r->flags.smtp_sender_address_matches_instance_domain = (flags & 4u) != 0;
    return Fixed("sequence", &r->details.sequence) &&
           Time("creation_date", &r->details.creation_date) &&
           Time("change_date", &r->details.change_date) &&
           String("resource_owner", 0, kMaxIdLength, &r->details.resource_owner) &&
           Stream(&r->stream);
  }

  // A list's element count: at most `max`, and no more elements than bytes left at `min_entry`
  // bytes each (so a damaged count never makes the caller allocate).
  bool Count(std::string_view field, std::size_t max, std::size_t min_entry, std::uint32_t* n) {
    if (!Fixed(field, n)) return false;
    if (*n > max) {
      return Fail(std::string(field) + " " + std::to_string(*n) + " exceeds " +
                  std::to_string(max));
    }
    if (static_cast<std::size_t>(end_ - p_) / min_entry < *n) return Truncated(field);
    return true;
  }

  bool Domain(OrgDomain* d) {
    std::uint8_t flags = 0;
    if (!Fixed("domain flags", &flags)) return false;
    if ((flags & ~(kDomainVerified | kDomainPrimary)) != 0) {
      return Fail("unknown domain flag bits " +
                  std::to_string(flags & ~(kDomainVerified | kDomainPrimary)));
    }
    d->verified = (flags & kDomainVerified) != 0;
    d->primary = (flags & kDomainPrimary) != 0;
    return String("domain name", 1, kMaxDomainLength, &d->name);
  }

  // Call after the last field: fails if bytes are left over. Returns the outcome as a Status.
  Status Finish(bool fields_ok) {
    if (fields_ok && p_ != end_) {
      Fail(std::to_string(end_ - p_) + " trailing bytes");
    }
    return std::move(error_);
  }

  // Records DATA_LOSS "<record>: <message>" (the first failure only); returns false.
  bool Fail(const std::string& message) {
    if (error_.ok()) error_ = Status::DataLoss(std::string(what_) + ": " + message);
    return false;
  }

 private:
  bool Truncated(std::string_view field) {
    return Fail("truncated at " + std::string(field) + " (offset " + std::to_string(p_ - begin_) +
                " of " + std::to_string(end_ - begin_) + " bytes)");
  }
  const char* p_;
  const char* end_;
  const char* begin_;
  std::string_view what_;
  std::uint8_t version_ = 0;
  Status error_;
};

}  // namespace policyd::codec_internal
