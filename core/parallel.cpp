#include "core/parallel.h"

#include <atomic>
#include <cstdlib>
#include <string>
#include <thread>

#include "core/cpu/blas.h"
#include "core/error.h"

namespace fluxion {
namespace {

int default_num_threads() {
  if (const char* env = std::getenv("FLUXION_NUM_THREADS")) {
    char* end = nullptr;
    long n = std::strtol(env, &end, 10);
    FLUXION_CHECK(end != env && *end == '\0' && n >= 1 && n <= 4096,
                  "FLUXION_NUM_THREADS: expected an integer in [1, 4096], got '", env, "'");
    return static_cast<int>(n);
  }
  return static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

std::atomic<int>& thread_setting() {
  static std::atomic<int> threads = [] {
    int n = default_num_threads();
    cpu::set_blas_threads(n);
    return n;
  }();
  return threads;
}

}  // namespace

void set_num_threads(int n) {
  FLUXION_CHECK(n >= 1, "set_num_threads: expected n >= 1, got ", n);
  thread_setting().store(n);
  cpu::set_blas_threads(n);
}

int get_num_threads() { return thread_setting().load(std::memory_order_relaxed); }

}  // namespace fluxion
