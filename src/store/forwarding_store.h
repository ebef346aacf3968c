// ForwardingStore: a Store that passes every call to another Store, for decorators that change a
// few calls and keep the rest (the in-memory lookup index in front of RocksDB, the fleet
// publisher's change feed, tests and benchmarks that count, time or fail calls). A decorator
// overrides what it changes and calls base() for the rest.
//
// Threads: as the wrapped store's; `base` must outlive the ForwardingStore.
#pragma once

#include <functional>
#include <string_view>

#include "store/store.h"

namespace policyd {

class ForwardingStore : public Store {
 public:
  explicit ForwardingStore(Store& base) : base_(base) {}

  Status Read(LookupBatch& batch) const override { return base_.Read(batch); }
  Status ReadDomains(std::string_view org_id, DomainSet& out) const override {
    return base_.ReadDomains(org_id, out);
  }
  Result<StoreMeta> Meta() const override { return base_.Meta(); }
  Status Apply(const StoreChange& change, Timestamp now) override {
    return base_.Apply(change, now);
  }
  Status Replace(const Snapshot& snapshot, std::string_view cursor, std::string_view source,
                 Timestamp now) override {
    return base_.Replace(snapshot, cursor, source, now);
  }
  Status ForEach(const std::function<void(const InstanceRecord&)>& on_instance,
                 const std::function<Status(const OrgRecord&)>& on_org) const override {
    return base_.ForEach(on_instance, on_org);
  }
  Status ForEachOrgDomains(const std::function<Status(const OrgDomains&)>& visit) const override {
    return base_.ForEachOrgDomains(visit);
  }
  Status ForEachEntry(const std::function<Status(const InstanceRecord&, const InstanceDomains&,
                                                 const SourceVersion&)>& on_instance,
                      const std::function<Status(const OrgRecord&, const OrgDomains&,
                                                 const SourceVersion&)>& on_org) const override {
    return base_.ForEachEntry(on_instance, on_org);
  }
  Status ForEachKindRow(
      const std::function<Status(const KindRow& row, bool has_policy)>& visit) const override {
    return base_.ForEachKindRow(visit);
  }
  Status Flush() override { return base_.Flush(); }
  Result<std::unique_ptr<DumpCursor>> OpenDumpCursor() const override {
    return base_.OpenDumpCursor();
  }

 protected:
  Store& base() const { return base_; }

 private:
  Store& base_;
};

}  // namespace policyd
