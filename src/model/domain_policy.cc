#include "model/domain_policy.h"

namespace policyd {

Timestamp NewestChangeDate(const Snapshot& snapshot) {
  Timestamp newest = snapshot.instance.policy.details.change_date;
  for (const OrgRecord& org : snapshot.orgs) {
    if (org.policy && newest < org.policy->details.change_date) {
      newest = org.policy->details.change_date;
    }
  }
  for (const KindRow& row : snapshot.kind_rows) {
    if (newest < row.policy.details.change_date) newest = row.policy.details.change_date;
  }
  return newest;
}

}  // namespace policyd
