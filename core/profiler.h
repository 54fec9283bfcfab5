//! @file
//! Where a step's time goes: named, nested wall-clock scopes on one thread.
//!
//!   profiler::start();            // on the thread that runs the step
//!   ... forward, backward, step ...
//!   profiler::stop();
//!   for (const auto& e : profiler::entries()) ...   // name, seconds, calls
//!
//! Ops, the autograd engine, the optimizers and the allocator open scopes
//! ("conv2d forward", "batch_norm backward", "allocation", ...). The CPU
//! kernels that run on GEMM (convolutions, matmul) also count the
//! multiply-adds they do, as run: Winograd's reduced count where it runs,
//! so a step's work over the machine's sgemm rate is the time its
//! arithmetic alone would take (`fluxion bench --model`'s bound). Each entry's
//! time is exclusive: a scope's time minus the scopes nested in it, so the
//! entries add up to the time spent inside outermost scopes. Only the thread
//! that called start() records (kernels fan out to worker threads inside a
//! scope, and their time is that scope's wall time); elsewhere, and when the
//! profiler is off, a Scope costs one call that reads a thread-local flag.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace fluxion::profiler {

struct Entry {
  std::string name;
  double seconds = 0.0;  ///< exclusive wall time
  std::int64_t calls = 0;
  double multiply_adds = 0.0;  ///< counted by the kernels inside the scope (not nested ones)
};

/// Clears this thread's entries and records the scopes it opens from now on.
/// Throws if a recorded scope is still open.
void start();
/// Stops recording; the entries stay until the next start().
void stop();
/// True on the thread that called start(), until stop().
bool recording();
/// What this thread recorded, most time first.
std::vector<Entry> entries();
/// Adds a kernel's multiply-adds to the innermost open scope (and to the
/// total) when this thread records; nothing otherwise. Kernels call it on
/// the thread that called them, before they fan out.
void add_multiply_adds(double count);
/// Every multiply-add counted since start(), inside a scope or not.
double multiply_adds();

namespace detail {
void enter(std::string_view name);
void leave();
}  // namespace detail

/// Times the enclosing block under `name` when this thread records. The name
/// is copied, so a temporary string is fine.
class Scope {
 public:
  explicit Scope(std::string_view name) : active_(recording()) {
    if (active_) detail::enter(name);
  }
  ~Scope() {
    if (active_) detail::leave();
  }
  Scope(const Scope&) = delete;
  Scope& operator=(const Scope&) = delete;

 private:
  bool active_;
};

}  // namespace fluxion::profiler
