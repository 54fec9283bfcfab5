#include "core/stop_request.h"

#include <csignal>

namespace fluxion {
namespace {

// The one way a signal handler may speak to the program: a lock-free
// atomic flag (a volatile sig_atomic_t). Process-wide, as signals are.
volatile std::sig_atomic_t requested = 0;

void record_stop(int signal) {
  requested = signal;
  std::signal(signal, SIG_DFL);
}

}  // namespace

void install_stop_handlers() {
  std::signal(SIGINT, record_stop);
  std::signal(SIGTERM, record_stop);
}

int stop_requested() { return requested; }

void clear_stop_request() { requested = 0; }

}  // namespace fluxion
