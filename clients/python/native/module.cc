// policyd_native: the C++ client (src/client) as a CPython extension, for policyd_client.
//
//   Connection(socket_path, timeout, max_response_bytes)   connects (raises PolicydError)
//     .get_org_policy(org_id, strict) -> PolicyAnswer     the lookup: encode, round trip,
//                                                         decode, all in C++
//     .exchange(frame) -> bytes                           any other request: the frame out, the
//                                                         answer's payload back (the Python
//                                                         client decodes it)
//     .next_id() -> int, .close(), .connected
//   setup(policyd_client.model)       binds the classes answers are built from (once)
//   decode_lookup(payload) -> (id, stale, error, answer)  the lookup's decoding alone, for tests
//
// policyd_client uses it when it imports (docs/clients-python.md); the blocking I/O runs with
// the GIL released. A Connection is not thread-safe, as the Client it serves: a call made
// while another is running on it raises RuntimeError instead of corrupting it.
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <new>
#include <optional>
#include <string>
#include <vector>

#include "client/client.h"
#include "objects.h"

namespace policyd::python {
namespace {

struct Connection {
  PyObject_HEAD std::optional<Client> client;  // nullopt once closed
  bool busy;                                   // a call is running (with the GIL released)
};

Status Closed() { return Status::Unavailable("connection to policyd is closed"); }

// A signal arrived during a blocking call: run Python's handlers (KeyboardInterrupt for Ctrl-C)
// and end the call when one raised. The caller sees the exception set.
Status CheckSignals() {
  PyGILState_STATE gil = PyGILState_Ensure();
  const int raised = PyErr_CheckSignals();
  PyGILState_Release(gil);
  return raised == 0 ? Status::Ok() : Status(Code::kCancelled, "interrupted by a signal");
}

// Guards a call on a Connection: refuses a closed one and a concurrent call.
class Call {
 public:
  explicit Call(Connection* c) : c_(c) {
    if (c_->busy) {
      PyErr_SetString(PyExc_RuntimeError,
                      "policyd_client.Client is not thread-safe: it is in use by another thread "
                      "(use one Client per thread)");
      return;
    }
    if (!c_->client || !c_->client->connected()) {
      RaisePolicydError(Closed());
      return;
    }
    c_->busy = ok_ = true;
  }
  Call(const Call&) = delete;
  Call& operator=(const Call&) = delete;
  ~Call() {
    if (ok_) c_->busy = false;
  }
  bool ok() const { return ok_; }
  Client& client() { return *c_->client; }

 private:
  Connection* c_;
  bool ok_ = false;
};

// A failed call's error: a pending Python exception (a signal handler's) wins.
PyObject* Failed(const Status& status) {
  if (PyErr_Occurred()) return nullptr;
  return RaisePolicydError(status);
}

int ConnectionInit(PyObject* self, PyObject* args, PyObject* kwargs) {
  static const char* keywords[] = {"socket_path", "timeout", "max_response_bytes", nullptr};
  const char* path = nullptr;
  double timeout = 5.0;
  unsigned long long max_response_bytes = 16u << 20;
  if (!PyArg_ParseTupleAndKeywords(args, kwargs, "s|dK", const_cast<char**>(keywords), &path,
                                   &timeout, &max_response_bytes)) {
    return -1;
  }
  if (!ModelBound()) {
    PyErr_SetString(PyExc_RuntimeError, "policyd_native.setup(policyd_client.model) not called");
    return -1;
  }
  if (!std::isfinite(timeout) || timeout < 0) {
    const std::string value = std::to_string(timeout);
    PyErr_Format(PyExc_ValueError, "timeout must be a finite number of seconds >= 0, not %s",
                 value.c_str());
    return -1;
  }
  ClientOptions options;
  // Whole milliseconds, rounded up (at least one), and at most about 30 years.
  options.timeout = std::chrono::milliseconds(
      static_cast<std::int64_t>(std::ceil(std::clamp(timeout * 1000, 1.0, 1e12))));
  options.max_response_bytes = static_cast<std::uint32_t>(
      std::min<unsigned long long>(max_response_bytes, std::numeric_limits<std::uint32_t>::max()));
  options.on_signal = CheckSignals;
  const std::string socket_path(path);
  std::optional<Result<Client>> connected;
  Py_BEGIN_ALLOW_THREADS;
  connected.emplace(Client::Connect(socket_path, std::move(options)));
  Py_END_ALLOW_THREADS;
  auto* c = reinterpret_cast<Connection*>(self);
  if (!*connected) {
    const Status& s = connected->error();
    // As the pure client: a path that cannot be a socket's cannot be connected to.
    Failed(s.code() == Code::kInvalidArgument
               ? Status::Unavailable("cannot connect to policyd at " + socket_path + ": " +
                                     s.message())
               : s);
    return -1;
  }
  c->client.emplace(std::move(**connected));
  return 0;
}

PyObject* ConnectionNew(PyTypeObject* type, PyObject*, PyObject*) {
  auto* c = reinterpret_cast<Connection*>(type->tp_alloc(type, 0));
  if (c != nullptr) {
    new (&c->client) std::optional<Client>();
    c->busy = false;
  }
  return reinterpret_cast<PyObject*>(c);
}

void ConnectionDealloc(PyObject* self) {
  auto* c = reinterpret_cast<Connection*>(self);
  c->client.~optional();
  PyTypeObject* type = Py_TYPE(self);
  type->tp_free(self);
  Py_DECREF(type);  // a heap type: each instance holds a reference to it
}

PyObject* GetOrgPolicy(PyObject* self, PyObject* const* args, Py_ssize_t nargs) {
  if (nargs != 2) {
    return PyErr_Format(PyExc_TypeError, "get_org_policy(org_id, strict) takes 2 arguments");
  }
  Py_buffer org{};
  std::string_view org_id;
  if (PyUnicode_Check(args[0])) {
    Py_ssize_t n = 0;
    const char* s = PyUnicode_AsUTF8AndSize(args[0], &n);
    if (s == nullptr) return nullptr;
    org_id = {s, static_cast<std::size_t>(n)};
  } else if (PyObject_GetBuffer(args[0], &org, PyBUF_SIMPLE) == 0) {
    org_id = {static_cast<const char*>(org.buf), static_cast<std::size_t>(org.len)};
  } else {
    return nullptr;
  }
  const int strict = PyObject_IsTrue(args[1]);
  Call call(reinterpret_cast<Connection*>(self));
  if (strict < 0 || !call.ok()) {
    if (org.obj != nullptr) PyBuffer_Release(&org);
    return nullptr;
  }
  std::optional<Result<PolicyAnswer>> r;
  Py_BEGIN_ALLOW_THREADS;
  r.emplace(call.client().GetOrgPolicy(org_id, strict != 0));
  Py_END_ALLOW_THREADS;
  if (org.obj != nullptr) PyBuffer_Release(&org);
  if (!*r) return Failed(r->error());
  const PolicyAnswer& answer = **r;
  if (!answer.status.ok()) return RaisePolicydError(answer.status);
  if (Status s = CheckLookupAnswer(answer); !s.ok()) {
    call.client().Close();
    return RaisePolicydError(Status::Internal("undecodable answer from policyd: " + s.message()));
  }
  return NewPolicyAnswer(answer);
}

PyObject* Exchange(PyObject* self, PyObject* frame) {
  Py_buffer out{};
  if (PyObject_GetBuffer(frame, &out, PyBUF_SIMPLE) != 0) return nullptr;
  Call call(reinterpret_cast<Connection*>(self));
  if (!call.ok()) {
    PyBuffer_Release(&out);
    return nullptr;
  }
  std::optional<Result<std::span<const std::uint8_t>>> r;
  Py_BEGIN_ALLOW_THREADS;
  r.emplace(call.client().Exchange(
      {static_cast<const std::uint8_t*>(out.buf), static_cast<std::size_t>(out.len)}));
  Py_END_ALLOW_THREADS;
  PyBuffer_Release(&out);
  if (!*r) return Failed(r->error());
  return PyBytes_FromStringAndSize(reinterpret_cast<const char*>((*r)->data()),
                                   static_cast<Py_ssize_t>((*r)->size()));
}

PyObject* NextId(PyObject* self, PyObject*) {
  auto* c = reinterpret_cast<Connection*>(self);
  if (!c->client) return RaisePolicydError(Closed());
  return PyLong_FromUnsignedLongLong(c->client->NextId());
}

PyObject* Close(PyObject* self, PyObject*) {
  auto* c = reinterpret_cast<Connection*>(self);
  if (c->busy) {
    PyErr_SetString(PyExc_RuntimeError,
                    "policyd_client.Client closed while another thread uses it");
    return nullptr;
  }
  c->client.reset();
  Py_RETURN_NONE;
}

PyObject* Connected(PyObject* self, void*) {
  auto* c = reinterpret_cast<Connection*>(self);
  return PyBool_FromLong(c->client && c->client->connected());
}

PyMethodDef connection_methods[] = {
    {"get_org_policy", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(GetOrgPolicy)),
     METH_FASTCALL, "get_org_policy(org_id, strict) -> PolicyAnswer"},
    {"exchange", Exchange, METH_O, "exchange(frame) -> the answer's payload (bytes)"},
    {"next_id", NextId, METH_NOARGS, "next_id() -> a fresh request id"},
    {"close", Close, METH_NOARGS, "close() -> None"},
    {nullptr, nullptr, 0, nullptr},
};

PyGetSetDef connection_getset[] = {
    {"connected", Connected, nullptr, "False once closed or after a transport failure", nullptr},
    {nullptr, nullptr, nullptr, nullptr, nullptr},
};

PyType_Slot connection_slots[] = {
    {Py_tp_doc, const_cast<char*>("One connection to policyd through the C++ client.")},
    {Py_tp_new, reinterpret_cast<void*>(ConnectionNew)},
    {Py_tp_init, reinterpret_cast<void*>(ConnectionInit)},
    {Py_tp_dealloc, reinterpret_cast<void*>(ConnectionDealloc)},
    {Py_tp_methods, connection_methods},
    {Py_tp_getset, connection_getset},
    {0, nullptr},
};

PyType_Spec connection_spec = {"policyd_native.Connection", sizeof(Connection), 0,
                               Py_TPFLAGS_DEFAULT, connection_slots};

PyObject* Setup(PyObject*, PyObject* model) {
  if (!BindModel(model)) return nullptr;
  Py_RETURN_NONE;
}

PyObject* DecodeLookup(PyObject*, PyObject* payload) {
  if (!ModelBound()) {
    PyErr_SetString(PyExc_RuntimeError, "policyd_native.setup(policyd_client.model) not called");
    return nullptr;
  }
  Py_buffer in{};
  if (PyObject_GetBuffer(payload, &in, PyBUF_SIMPLE) != 0) return nullptr;
  // An aligned copy, as the C++ client receives into (the Verifier checks alignment).
  std::vector<std::uint64_t> aligned(static_cast<std::size_t>(in.len) / 8 + 1);
  std::memcpy(aligned.data(), in.buf, static_cast<std::size_t>(in.len));
  const std::span<const std::uint8_t> bytes(reinterpret_cast<const std::uint8_t*>(aligned.data()),
                                            static_cast<std::size_t>(in.len));
  PyBuffer_Release(&in);
  Result<Response> r = DecodeResponse(bytes);
  if (!r) return PyErr_Format(PyExc_ValueError, "%s", r.error().message().c_str());
  const bool error = r->kind == ResponseKind::kError;
  PyObject* value = error ? NewPolicydError(r->error) : NewLookupAnswer(*r);
  if (value == nullptr) return nullptr;
  return Py_BuildValue("(KONN)", static_cast<unsigned long long>(r->id),
                       r->stale ? Py_True : Py_False, error ? value : Py_NewRef(Py_None),
                       error ? Py_NewRef(Py_None) : value);
}

PyMethodDef module_methods[] = {
    {"setup", Setup, METH_O, "setup(policyd_client.model): the classes answers are built from"},
    {"decode_lookup", DecodeLookup, METH_O,
     "decode_lookup(payload) -> (id, stale, error, answer): a lookup's answer decoded as "
     "Connection.get_org_policy decodes it; ValueError when it does not decode"},
    {nullptr, nullptr, 0, nullptr},
};

PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT,
    "policyd_native",
    "The C++ policyd client for policyd_client (optional: the pure-Python client is the fallback).",
    -1,
    module_methods,
    nullptr,
    nullptr,
    nullptr,
    nullptr,
};

}  // namespace
}  // namespace policyd::python

PyMODINIT_FUNC PyInit_policyd_native() {
  using namespace policyd::python;
  PyObject* m = PyModule_Create(&module_def);
  if (m == nullptr) return nullptr;
  PyObject* type = PyType_FromSpec(&connection_spec);
  if (type == nullptr || PyModule_AddObject(m, "Connection", type) < 0) {
    Py_XDECREF(type);
    Py_DECREF(m);
    return nullptr;
  }
  return m;
}
