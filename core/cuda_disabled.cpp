// core/cuda.h in a build without the CUDA backend (FLUXION_CUDA=OFF or no
// toolkit at configure time): no devices, and asking for one says why.
#include "core/cuda.h"

#include "core/error.h"

namespace fluxion::cuda {
namespace {
[[noreturn]] void unavailable(const char* what) {
  throw Error(detail::concat("cuda::", what, ": ", unavailable_reason(Device::cuda())));
}
bool tf32 = true;
bool deterministic_kernels = false;
}  // namespace

bool is_available() { return false; }
int device_count() { return 0; }
void synchronize(int) { unavailable("synchronize"); }
CachingAllocator::Stats memory_stats(int) { unavailable("memory_stats"); }
void reset_peak_memory_stats(int) { unavailable("reset_peak_memory_stats"); }
void empty_cache() {}
void set_allow_tf32(bool allow) { tf32 = allow; }
bool allow_tf32() { return tf32; }
void set_deterministic(bool on) { deterministic_kernels = on; }
bool deterministic() { return deterministic_kernels; }

}  // namespace fluxion::cuda
