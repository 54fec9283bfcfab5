//! @file
//! Hooks for tools that show what autograd does (fluxion graph, fluxion step
//! --explain, fluxion export): the module path that newly recorded nodes
//! belong to, a callback after each op is recorded, and one after each node's
//! backward. All are thread-local and set only by the RAII guards below, so
//! a program that never uses them pays two thread-local reads per recorded
//! op and one per backward node.
#pragma once

#include <functional>
#include <string>

#include "autograd/node.h"

namespace fluxion::trace {

/// The dotted path of the module whose forward is running on this thread
/// ("layer1.0.conv1"; "" outside any traced forward). record() copies it into
/// each new Node's `scope`.
const std::string& current_scope();

/// Makes `path` the current scope until destroyed, then restores the previous one.
class ScopeGuard {
 public:
  explicit ScopeGuard(std::string path);
  ~ScopeGuard();
  ScopeGuard(const ScopeGuard&) = delete;
  ScopeGuard& operator=(const ScopeGuard&) = delete;

 private:
  std::string previous_;
};

/// Called by backward() on this thread after each node's backward ran, with
/// the gradient it received and the gradients it returned (one per input).
using BackwardHook = std::function<void(const Node& node, const Tensor& grad_output, const TensorList& input_grads)>;

/// The hook backward() calls, or nullptr.
const BackwardHook* backward_hook();

/// Installs `hook` until destroyed.
class BackwardHookGuard {
 public:
  explicit BackwardHookGuard(BackwardHook hook);
  ~BackwardHookGuard();
  BackwardHookGuard(const BackwardHookGuard&) = delete;
  BackwardHookGuard& operator=(const BackwardHookGuard&) = delete;

 private:
  BackwardHook hook_;
  const BackwardHook* previous_;
};

/// Called by record() on this thread after each op it records, with the op's
/// name, its inputs (as given to record: parameters, constants and tracked
/// tensors alike), its output and its attributes. What `fluxion export`
/// reads a traced forward through: every tracked tensor then has a
/// producing op, and every other input is a constant of the program.
using RecordHook =
    std::function<void(const char* op, const TensorList& inputs, const Tensor& output, const OpAttributes& attributes)>;

/// The hook record() calls, or nullptr.
const RecordHook* record_hook();

/// Installs `hook` until destroyed.
class RecordHookGuard {
 public:
  explicit RecordHookGuard(RecordHook hook);
  ~RecordHookGuard();
  RecordHookGuard(const RecordHookGuard&) = delete;
  RecordHookGuard& operator=(const RecordHookGuard&) = delete;

 private:
  RecordHook hook_;
  const RecordHook* previous_;
};

}  // namespace fluxion::trace
