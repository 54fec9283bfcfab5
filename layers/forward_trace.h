//! @file
//! Watching a model's forward pass module by module, for the tools that
//! explain a model (fluxion summary, graph and step --explain).
//!
//!   struct Shapes : nn::ForwardObserver {
//!     void exit(const nn::ForwardCall& call, const Tensor& output) override { ... call.path, output.shape() ... }
//!   } shapes;
//!   {
//!     nn::TraceForward trace(*model, shapes);
//!     model->forward(x);                    // every module's forward reports to `shapes`
//!   }
//!
//! A module's forward reports itself by opening a ForwardScope; every layer
//! and model in layers/ does. The ops a module runs are recorded with its
//! path as their autograd Node's scope (autograd/trace.h). While no trace is
//! active on the thread, a ForwardScope costs one thread-local read.
#pragma once

#include <string>

#include "layers/module.h"

namespace fluxion::nn {

/// One call of one module's forward.
struct ForwardCall {
  const Module& module;
  std::string path;  ///< dotted, from the traced root ("" for the root itself)
  int depth = 0;     ///< 0 for the root, 1 for its children, ...
  const Tensor& input;
};

class ForwardObserver {
 public:
  virtual ~ForwardObserver() = default;
  /// Before the module's own computation (and its children's).
  virtual void enter(const ForwardCall& call) { (void)call; }
  /// After it, with what forward returns.
  virtual void exit(const ForwardCall& call, const Tensor& output) {
    (void)call;
    (void)output;
  }
};

/// Reports the forwards of `root` and the modules under it to `observer`
/// while it lives, on this thread. Modules not under root report with their
/// type name as path.
class TraceForward {
 public:
  TraceForward(const Module& root, ForwardObserver& observer);
  ~TraceForward();
  TraceForward(const TraceForward&) = delete;
  TraceForward& operator=(const TraceForward&) = delete;
};

/// Whether a TraceForward is active on this thread: a forward that would fuse
/// an op into a module's own (BatchNorm::forward_relu) runs them apart, so
/// the module reports its own output.
bool forward_trace_active();

/// Opened first thing in a Module::forward:
///   Tensor Conv2d::forward(const Tensor& x) {
///     ForwardScope scope(*this, x);
///     return scope.output(conv2d(x, weight, bias, params()));
///   }
class ForwardScope {
 public:
  ForwardScope(const Module& module, const Tensor& input);
  ~ForwardScope();
  ForwardScope(const ForwardScope&) = delete;
  ForwardScope& operator=(const ForwardScope&) = delete;
  /// Reports `out` as the module's output and returns it.
  Tensor output(Tensor out);

 private:
  struct Active;
  Active* active_ = nullptr;  ///< null when no trace runs
};

}  // namespace fluxion::nn
