#include "layers/forward_trace.h"

#include <memory>
#include <unordered_map>

#include "autograd/trace.h"

namespace fluxion::nn {
namespace {

struct Trace {
  ForwardObserver* observer;
  std::unordered_map<const Module*, std::string> paths;  // every module under the root
  int depth = 0;                                         // of the innermost open scope
};

thread_local Trace* active_trace = nullptr;

}  // namespace

struct ForwardScope::Active {
  ForwardCall call;
  trace::ScopeGuard scope;  // the ops recorded inside belong to this module
};

TraceForward::TraceForward(const Module& root, ForwardObserver& observer) {
  FLUXION_CHECK(active_trace == nullptr, "TraceForward: a trace is already active on this thread");
  auto* t = new Trace{&observer, {}, 0};
  t->paths.emplace(&root, "");
  for (const auto& [name, module] : root.named_modules())
    if (!name.empty()) t->paths.emplace(module.get(), name);
  active_trace = t;
}

TraceForward::~TraceForward() {
  delete active_trace;
  active_trace = nullptr;
}

bool forward_trace_active() { return active_trace != nullptr; }

ForwardScope::ForwardScope(const Module& module, const Tensor& input) {
  Trace* t = active_trace;
  if (t == nullptr) return;
  const auto it = t->paths.find(&module);
  std::string path = it != t->paths.end() ? it->second : module.type_name();
  std::unique_ptr<Active> active(new Active{ForwardCall{module, path, t->depth, input}, trace::ScopeGuard(path)});
  t->observer->enter(active->call);  // if it throws, nothing is left changed
  active_ = active.release();
  ++t->depth;
}

ForwardScope::~ForwardScope() {
  if (active_ == nullptr) return;
  if (active_trace) --active_trace->depth;
  delete active_;
}

Tensor ForwardScope::output(Tensor out) {
  if (active_ && active_trace) active_trace->observer->exit(active_->call, out);
  return out;
}

}  // namespace fluxion::nn
