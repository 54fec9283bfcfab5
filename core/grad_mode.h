//! @file
//! Whether ops record the graph. On by default; NoGradGuard turns it off for a
//! scope (evaluation, optimizer updates, and every backward pass). The setting
//! is per thread. It lives in core/, below autograd/ which reads it, because
//! the core reads it too: Tensor's in-place ops refuse a tensor autograd is
//! tracking, and loading a checkpoint writes into parameters.
#pragma once

namespace fluxion {

bool is_grad_enabled();
void set_grad_enabled(bool enabled);

/// Disables graph recording until the end of the scope, then restores the
/// previous setting.
class NoGradGuard {
 public:
  NoGradGuard() : previous_(is_grad_enabled()) { set_grad_enabled(false); }
  ~NoGradGuard() { set_grad_enabled(previous_); }
  NoGradGuard(const NoGradGuard&) = delete;
  NoGradGuard& operator=(const NoGradGuard&) = delete;

 private:
  bool previous_;
};

}  // namespace fluxion
