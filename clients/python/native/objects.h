// The Python values policyd_native returns and raises: policyd_client.model's classes, built
// from the C++ client's decoded answers exactly as the pure client's fast path (fast_wire.py)
// builds them from the frame.
//
// Every function needs the GIL. Those returning PyObject* return a new reference, or nullptr
// with a Python exception set.
#pragma once

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "base/status.h"
#include "wire/response.h"

namespace policyd::python {

// Takes the classes from policyd_client.model (`model`, a module): Timestamp, Details,
// DomainPolicy, PolicyAnswer, PolicydError. False, with an exception set, when one is missing.
bool BindModel(PyObject* model);
bool ModelBound();

// The PolicyAnswer of a request without kinds: org_id None when the answer has none, the
// kinds None, `policy` and `error` as the answer's status says.
PyObject* NewPolicyAnswer(const PolicyAnswer& answer);

// PolicydError(status.code(), status.message()).
PyObject* NewPolicydError(const Status& status);
// Raises that error; returns nullptr.
PyObject* RaisePolicydError(const Status& status);

// OK, or why `answer` (with its status OK) cannot answer a lookup without kinds: it has no
// domain policy, only kinds (fast_wire ignores a request's kinds and refuses it alike).
Status CheckLookupAnswer(const PolicyAnswer& answer);

// The PolicyAnswer of a decoded Response to GetOrgPolicy (without kinds), or ValueError when it
// holds no such answer (another body; a PolicyResult with neither policy nor error).
PyObject* NewLookupAnswer(const Response& response);

}  // namespace policyd::python
