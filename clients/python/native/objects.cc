#include "objects.h"

#include <string_view>
#include <utility>

namespace policyd::python {
namespace {

// The bound classes and the interned field names, set once by BindModel (module lifetime).
struct Model {
  PyObject* timestamp = nullptr;
  PyObject* details = nullptr;
  PyObject* domain_policy = nullptr;
  PyObject* policy_answer = nullptr;
  PyObject* policyd_error = nullptr;
  PyObject* empty_args = nullptr;
  PyObject* dict_name = nullptr;
};
Model model;

enum Field {
  kSeconds,
  kNanos,
  kSequence,
  kCreationDate,
  kChangeDate,
  kResourceOwner,
  kDetails,
  kUserLoginMustBeDomain,
  kIsDefault,
  kValidateOrgDomains,
  kSmtpSender,
  kOrgId,
  kOrgKnown,
  kStale,
  kPolicy,
  kError,
  kPasswordComplexity,
  kPasswordAge,
  kLockout,
  kLogin,
  kPrivacy,
  kNotification,
  kLabel,
  kFieldCount,
};
constexpr const char* kFieldNames[kFieldCount] = {
    "seconds",
    "nanos",
    "sequence",
    "creation_date",
    "change_date",
    "resource_owner",
    "details",
    "user_login_must_be_domain",
    "is_default",
    "validate_org_domains",
    "smtp_sender_address_matches_instance_domain",
    "org_id",
    "org_known",
    "stale",
    "policy",
    "error",
    "password_complexity",
    "password_age",
    "lockout",
    "login",
    "privacy",
    "notification",
    "label",
};
PyObject* names[kFieldCount];

// Owns one reference.
struct Ref {
  PyObject* p;
  explicit Ref(PyObject* o) : p(o) {}
  Ref(const Ref&) = delete;
  Ref& operator=(const Ref&) = delete;
  ~Ref() { Py_XDECREF(p); }
  PyObject* release() { return std::exchange(p, nullptr); }
  explicit operator bool() const { return p != nullptr; }
};

// Sets dict[names[field]] = value, taking the reference to `value` (which may be nullptr after
// a failure, then false is returned).
bool Put(PyObject* dict, Field field, PyObject* value) {
  if (value == nullptr) return false;
  const int rc = PyDict_SetItem(dict, names[field], value);
  Py_DECREF(value);
  return rc == 0;
}

PyObject* Bool(bool b) { return Py_NewRef(b ? Py_True : Py_False); }

PyObject* Text(std::string_view s) {
  return PyUnicode_DecodeUTF8(s.data(), static_cast<Py_ssize_t>(s.size()), "replace");
}

// A frozen dataclass without its __init__, `fields` (a dict of every field) as its __dict__:
// what fast_wire._new does (object.__new__, then object.__setattr__ of __dict__).
PyObject* New(PyObject* cls, Ref& fields) {
  if (!fields) return nullptr;
  auto* type = reinterpret_cast<PyTypeObject*>(cls);
  Ref value(PyBaseObject_Type.tp_new(type, model.empty_args, nullptr));
  if (!value || PyObject_GenericSetAttr(value.p, model.dict_name, fields.p) != 0) return nullptr;
  return value.release();
}

// None for an absent timestamp: the daemon leaves unknown dates out, which reads as zero here.
PyObject* NewTimestamp(Timestamp t) {
  if (t.IsZero()) return Py_NewRef(Py_None);
  Ref fields(PyDict_New());
  if (!fields || !Put(fields.p, kSeconds, PyLong_FromLongLong(t.seconds)) ||
      !Put(fields.p, kNanos, PyLong_FromLong(t.nanos))) {
    return nullptr;
  }
  return New(model.timestamp, fields);
}

PyObject* NewDetails(const Details& d) {
  Ref fields(PyDict_New());
  if (!fields || !Put(fields.p, kSequence, PyLong_FromUnsignedLongLong(d.sequence)) ||
      !Put(fields.p, kCreationDate, NewTimestamp(d.creation_date)) ||
      !Put(fields.p, kChangeDate, NewTimestamp(d.change_date)) ||
      !Put(fields.p, kResourceOwner, Text(d.resource_owner))) {
    return nullptr;
  }
  return New(model.details, fields);
}

PyObject* NewDomainPolicy(const DomainPolicy& p) {
  Ref fields(PyDict_New());
  if (!fields || !Put(fields.p, kDetails, NewDetails(p.details)) ||
      !Put(fields.p, kUserLoginMustBeDomain, Bool(p.flags.user_login_must_be_domain)) ||
      !Put(fields.p, kIsDefault, Bool(p.is_default)) ||
      !Put(fields.p, kValidateOrgDomains, Bool(p.flags.validate_org_domains)) ||
      !Put(fields.p, kSmtpSender, Bool(p.flags.smtp_sender_address_matches_instance_domain))) {
    return nullptr;
  }
  return New(model.domain_policy, fields);
}

bool BindClass(PyObject* from, const char* name, PyObject*& to) {
  PyObject* cls = PyObject_GetAttrString(from, name);
  if (cls == nullptr) return false;
  if (!PyType_Check(cls)) {
    Py_DECREF(cls);
    PyErr_Format(PyExc_TypeError, "policyd_native: model.%s is not a class", name);
    return false;
  }
  Py_XSETREF(to, cls);
  return true;
}

}  // namespace

PyObject* NewPolicydError(const Status& status) {
  Ref message(Text(status.message()));
  if (!message) return nullptr;
  return PyObject_CallFunction(model.policyd_error, "iO", static_cast<int>(status.code()),
                               message.p);
}

bool BindModel(PyObject* from) {
  if (model.empty_args == nullptr) {
    model.empty_args = PyTuple_New(0);
    model.dict_name = PyUnicode_InternFromString("__dict__");
    for (int i = 0; i < kFieldCount; ++i) {
      names[i] = PyUnicode_InternFromString(kFieldNames[i]);
      if (names[i] == nullptr) return false;
    }
    if (model.empty_args == nullptr || model.dict_name == nullptr) return false;
  }
  return BindClass(from, "Timestamp", model.timestamp) &&
         BindClass(from, "Details", model.details) &&
         BindClass(from, "DomainPolicy", model.domain_policy) &&
         BindClass(from, "PolicyAnswer", model.policy_answer) &&
         BindClass(from, "PolicydError", model.policyd_error);
}

bool ModelBound() { return model.policyd_error != nullptr; }

PyObject* NewPolicyAnswer(const PolicyAnswer& a) {
  Ref fields(PyDict_New());
  if (!fields) return nullptr;
  PyObject* org_id = a.org_id.empty() ? Py_NewRef(Py_None) : Text(a.org_id);
  PyObject* policy = a.status.ok() ? NewDomainPolicy(a.policy) : Py_NewRef(Py_None);
  PyObject* error = a.status.ok() ? Py_NewRef(Py_None) : NewPolicydError(a.status);
  if (!Put(fields.p, kOrgId, org_id) || !Put(fields.p, kOrgKnown, Bool(a.org_known)) ||
      !Put(fields.p, kStale, Bool(a.stale)) || !Put(fields.p, kPolicy, policy) ||
      !Put(fields.p, kError, error)) {
    return nullptr;
  }
  // The kinds: a request without kinds has none.
  for (int f = kPasswordComplexity; f <= kLabel; ++f) {
    if (!Put(fields.p, static_cast<Field>(f), Py_NewRef(Py_None))) return nullptr;
  }
  return New(model.policy_answer, fields);
}

PyObject* RaisePolicydError(const Status& status) {
  PyObject* error = NewPolicydError(status);
  if (error != nullptr) {
    PyErr_SetObject(model.policyd_error, error);
    Py_DECREF(error);
  }
  return nullptr;
}

Status CheckLookupAnswer(const PolicyAnswer& answer) {
  if (answer.has_domain) return Status::Ok();
  return Status::InvalidArgument("PolicyResult has neither policy nor error");
}

PyObject* NewLookupAnswer(const Response& r) {
  if (r.kind != ResponseKind::kPolicy || r.policies.size() != 1) {
    return PyErr_Format(PyExc_ValueError, "expected a PolicyResult, got response kind %d",
                        static_cast<int>(r.kind));
  }
  const PolicyAnswer& answer = r.policies[0];
  if (answer.status.ok()) {
    if (Status s = CheckLookupAnswer(answer); !s.ok()) {
      return PyErr_Format(PyExc_ValueError, "%s", s.message().c_str());
    }
  }
  return NewPolicyAnswer(answer);
}

}  // namespace policyd::python
