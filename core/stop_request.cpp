#include "core/stop_request.h"

#include <atomic>
#include <csignal>

namespace fluxion {
namespace {

// The one way a signal handler may speak to the program: a lock-free
// atomic, which the handler may write from whichever thread the signal
// lands on (a loader's, OpenMP's) while the main thread reads it.
// Process-wide, as signals are.
std::atomic<int> requested{0};
static_assert(std::atomic<int>::is_always_lock_free, "a signal handler may only touch lock-free atomics");

void record_stop(int signal) {
  requested = signal;
  std::signal(signal, SIG_DFL);
}

}  // namespace

void install_stop_handlers() {
  std::signal(SIGINT, record_stop);
  std::signal(SIGTERM, record_stop);
}

int stop_requested() { return requested.load(); }

void clear_stop_request() { requested.store(0); }

}  // namespace fluxion
