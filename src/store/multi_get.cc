#include "store/multi_get.h"

#include "store/keys.h"

namespace policyd {

Status FromRocksRead(const rocksdb::Status& s, std::string_view what) {
  std::string message = "read " + std::string(what) + ": " + s.ToString();
  if (s.IsCorruption()) return Status::DataLoss(std::move(message));
  return Status::Internal(std::move(message));
}

void MultiGetBuffer::Clear() {
  ReleasePins();
  key_bytes_.clear();
  key_ends_.clear();
}

void MultiGetBuffer::AddKey(std::string_view key) {
  key_bytes_.append(key);
  key_ends_.push_back(key_bytes_.size());
}

void MultiGetBuffer::AddOrgKey(std::string_view org_id) {
  store_keys::AppendOrgKey(org_id, &key_bytes_);
  key_ends_.push_back(key_bytes_.size());
}

void MultiGetBuffer::AddOrgDomainsKey(std::string_view org_id) {
  store_keys::AppendOrgDomainsKey(org_id, &key_bytes_);
  key_ends_.push_back(key_bytes_.size());
}

void MultiGetBuffer::AddOrgVersionKey(std::string_view org_id) {
  store_keys::AppendOrgVersionKey(org_id, &key_bytes_);
  key_ends_.push_back(key_bytes_.size());
}

void MultiGetBuffer::AddDomainIndexKey(std::string_view domain) {
  store_keys::AppendDomainIndexKey(domain, &key_bytes_);
  key_ends_.push_back(key_bytes_.size());
}

void MultiGetBuffer::Run(rocksdb::DB& db, const rocksdb::ReadOptions& options) {
  ReleasePins();
  const std::size_t n = key_ends_.size();
  // Slices are made only now: appending keys may have moved key_bytes_.
  keys_.clear();
  std::size_t begin = 0;
  for (std::size_t end : key_ends_) {
    keys_.emplace_back(key_bytes_.data() + begin, end - begin);
    begin = end;
  }
  if (values_.size() < n) values_.resize(n);
  if (statuses_.size() < n) statuses_.resize(n);
  if (n == 0) return;
  pinned_ = n;
  db.MultiGet(options, db.DefaultColumnFamily(), n, keys_.data(), values_.data(), statuses_.data());
}

void MultiGetBuffer::ReleasePins() {
  // PinnableSlice must be reset before it is reused (RocksDB asserts it), and pins hold block
  // cache handles that must not outlive the DB.
  for (std::size_t i = 0; i < pinned_; ++i) values_[i].Reset();
  pinned_ = 0;
}

}  // namespace policyd
