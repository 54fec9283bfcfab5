#include "autograd/trace.h"

#include <utility>

namespace fluxion::trace {
namespace {
thread_local std::string scope;
thread_local const BackwardHook* hook = nullptr;
thread_local const RecordHook* on_record = nullptr;
}  // namespace

const std::string& current_scope() { return scope; }

ScopeGuard::ScopeGuard(std::string path) : previous_(std::exchange(scope, std::move(path))) {}
ScopeGuard::~ScopeGuard() { scope = std::move(previous_); }

const BackwardHook* backward_hook() { return hook; }

BackwardHookGuard::BackwardHookGuard(BackwardHook h) : hook_(std::move(h)), previous_(hook) { hook = &hook_; }
BackwardHookGuard::~BackwardHookGuard() { hook = previous_; }

const RecordHook* record_hook() { return on_record; }

RecordHookGuard::RecordHookGuard(RecordHook h) : hook_(std::move(h)), previous_(on_record) { on_record = &hook_; }
RecordHookGuard::~RecordHookGuard() { on_record = previous_; }

}  // namespace fluxion::trace
