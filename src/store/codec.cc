#include "store/codec.h"

#include "store/codec_io.h"

namespace policyd {

using namespace codec_internal;

Status CheckPolicyRecord(std::string_view what, const PolicyRecord& record) {
  const Details& d = record.details;
  for (const Timestamp* t : {&d.creation_date, &d.change_date}) {
    if (t->nanos < 0 || t->nanos >= kNanosPerSecond) {
      return Status::InvalidArgument(std::string(what) + ": timestamp nanos " +
                                     std::to_string(t->nanos) + " out of range");
    }
  }
  if (d.resource_owner.size() > kMaxIdLength) {
    return Status::InvalidArgument(std::string(what) + ": resource owner is longer than " +
                                   std::to_string(kMaxIdLength) + " bytes");
  }
  return CheckStream(what, record.stream);
}

Status CheckStream(std::string_view what, const EventStream& stream) {
  if (stream.type.size() > kMaxIdLength || stream.id.size() > kMaxIdLength) {
    return Status::InvalidArgument(std::string(what) + ": event stream type or id is longer than " +
                                   std::to_string(kMaxIdLength) + " bytes");
  }
  return Status::Ok();
}

Status CheckMetaString(std::string_view what, std::string_view value) {
  if (value.size() > kMaxMetaStringLength) {
    return Status::InvalidArgument(std::string(what) + " is longer than " +
                                   std::to_string(kMaxMetaStringLength) + " bytes");
  }
  return Status::Ok();
}

Status CheckSourceVersion(std::string_view what, const SourceVersion& version) {
  if (version.date.nanos < 0 || version.date.nanos >= kNanosPerSecond) {
    return Status::InvalidArgument(std::string(what) + ": date nanos out of range");
  }
  if (version.stream.type.empty() && !version.stream.id.empty()) {
    return Status::InvalidArgument(std::string(what) + ": a stream id without a stream type");
  }
  return CheckStream(what, version.stream);
}

std::size_t VersionBodySize(const SourceVersion& version) {
  // time (8 + 4), two strings (4 + length each), u64 sequence.
  return 12 + 4 + version.stream.type.size() + 4 + version.stream.id.size() + 8;
}

void EncodeSourceVersion(const SourceVersion& version, std::string* out) {
  out->clear();
  PutFixed(kCodecV1, out);
  PutVersionBody(version, out);
}

void EncodePolicyRecord(const PolicyRecord& record, std::string* out) {
  out->clear();
  PutFixed(kCodecV2, out);
  PutPolicyBody(record, out);
}

void EncodeInstanceRecord(const InstanceRecord& record, const SourceVersion& version,
                          std::string* out) {
  out->clear();
  PutFixed(kCodecV3, out);
  PutString(record.id, out);
  PutPolicyBody(record.policy, out);
  PutVersionBody(version, out);
}

void EncodeOrgValue(const PolicyRecord* policy, const SourceVersion& version, std::string* out) {
  out->clear();
  PutFixed(kCodecV3, out);
  PutFixed(static_cast<std::uint8_t>(policy != nullptr ? 1 : 0), out);
  if (policy != nullptr) PutPolicyBody(*policy, out);
  PutVersionBody(version, out);
}

void EncodeStoreMeta(const StoreMeta& meta, std::string* out) {
  out->clear();
  PutFixed(kCodecV1, out);
  PutFixed(meta.org_count, out);
  PutFixed(meta.custom_policy_count, out);
  PutFixed(static_cast<std::uint8_t>(meta.has_instance ? 1 : 0), out);
  PutString(meta.cursor, out);
  PutString(meta.source, out);
  PutTime(meta.last_change, out);
  PutTime(meta.last_sync, out);
}

void EncodeOrgDomains(std::uint64_t sequence, const EventStream& stream,
                      const std::vector<OrgDomain>& domains, std::string* out) {
  out->clear();
  PutFixed(kCodecV2, out);
  PutFixed(sequence, out);
  PutStream(stream, out);
  PutFixed(static_cast<std::uint32_t>(domains.size()), out);
  for (const OrgDomain& d : domains) {
    PutFixed(static_cast<std::uint8_t>((d.verified ? kDomainVerified : 0) |
                                       (d.primary ? kDomainPrimary : 0)),
             out);
    PutString(d.name, out);
  }
}

void EncodeInstanceDomains(std::uint64_t sequence, const EventStream& stream,
                           const std::vector<std::string>& names, std::string* out) {
  out->clear();
  PutFixed(kCodecV2, out);
  PutFixed(sequence, out);
  PutStream(stream, out);
  PutFixed(static_cast<std::uint32_t>(names.size()), out);
  for (const std::string& n : names) PutString(n, out);
}

Status DecodePolicyRecord(std::string_view in, PolicyRecord* out) {
  Decoder d(in, "policy record");
  return d.Finish(d.Version(kCodecV2) && d.PolicyBody(out));
}

Status DecodeInstanceRecord(std::string_view in, InstanceRecord* out, SourceVersion* version) {
  Decoder d(in, "instance record");
  return d.Finish(d.Version(kCodecV3) && d.String("instance id", 1, kMaxIdLength, &out->id) &&
                  d.PolicyBody(&out->policy) && d.EntryVersion(version));
}

Status DecodeOrgValue(std::string_view in, bool* has_policy, PolicyRecord* policy,
                      SourceVersion* version) {
  Decoder d(in, "org record");
  bool has = false;
  bool ok = d.Version(kCodecV3) && d.Bool("has_policy", &has) && (!has || d.PolicyBody(policy)) &&
            d.EntryVersion(version);
  if (ok) *has_policy = has;
  return d.Finish(ok);
}

Status DecodeStoreMeta(std::string_view in, StoreMeta* out) {
  Decoder d(in, "store meta");
  bool ok = d.Version() && d.Fixed("org_count", &out->org_count) &&
            d.Fixed("custom_policy_count", &out->custom_policy_count) &&
            d.Bool("has_instance", &out->has_instance) &&
            d.String("cursor", 0, kMaxMetaStringLength, &out->cursor) &&
            d.String("source", 0, kMaxMetaStringLength, &out->source) &&
            d.Time("last_change", &out->last_change) && d.Time("last_sync", &out->last_sync);
  Status s = d.Finish(ok);
  if (s.ok() && out->custom_policy_count > out->org_count) {
    return Status::DataLoss("store meta: custom_policy_count " +
                            std::to_string(out->custom_policy_count) + " exceeds org_count " +
                            std::to_string(out->org_count));
  }
  return s;
}

Status DecodeOrgDomains(std::string_view in, std::uint64_t* sequence, EventStream* stream,
                        std::vector<OrgDomain>* domains) {
  Decoder d(in, "org domains");
  std::uint32_t n = 0;
  // An entry is at least a flags byte and a 4-byte length.
  bool ok = d.Version(kCodecV2) && d.Fixed("sequence", sequence) && d.Stream(stream) &&
            d.Count("domain count", kMaxDomainsPerList, 5, &n);
  if (ok) domains->resize(n);
  for (std::uint32_t i = 0; ok && i < n; ++i) ok = d.Domain(&(*domains)[i]);
  return d.Finish(ok);
}

Status DecodeInstanceDomains(std::string_view in, std::uint64_t* sequence, EventStream* stream,
                             std::vector<std::string>* names) {
  Decoder d(in, "instance domains");
  std::uint32_t n = 0;
  bool ok = d.Version(kCodecV2) && d.Fixed("sequence", sequence) && d.Stream(stream) &&
            d.Count("domain count", kMaxDomainsPerList, 4, &n);
  if (ok) names->resize(n);
  for (std::uint32_t i = 0; ok && i < n; ++i) {
    ok = d.String("domain name", 1, kMaxDomainLength, &(*names)[i]);
  }
  return d.Finish(ok);
}

Status DecodeSourceVersion(std::string_view in, SourceVersion* out) {
  Decoder d(in, "entry version");
  return d.Finish(d.Version() && d.VersionBody(out));
}

}  // namespace policyd
