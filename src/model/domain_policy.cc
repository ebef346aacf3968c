#include "model/domain_policy.h"
