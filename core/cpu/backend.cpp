#include <cstdlib>
#include <cstring>
#include <new>

#include "core/caching_allocator.h"
#include "core/profiler.h"
#include "core/cpu/kernels.h"

namespace fluxion::cpu {
namespace {

// 64-byte alignment: a cache line, and enough for any SIMD load.
constexpr std::size_t kAlignment = 64;

void* aligned_allocate(std::size_t nbytes) {
  return std::aligned_alloc(kAlignment, (nbytes + kAlignment - 1) / kAlignment * kAlignment);
}

// Large blocks are cached: glibc returns allocations above its mmap threshold
// (at most 32 MiB) to the kernel on free, so without a cache every large op
// output would be page-faulted in afresh (measured: `a + b` on 16M floats ran
// at a third of its in-place speed). $FLUXION_CPU_CACHE_MB caps the cache.
// Never destroyed: tensors in static storage may be freed after main returns.
CachingAllocator& allocator() {
  static CachingAllocator* instance = new CachingAllocator(aligned_allocate, std::free, [] {
    CachingAllocator::Options options;
    if (const char* env = std::getenv("FLUXION_CPU_CACHE_MB")) {
      char* end = nullptr;
      const long long mb = std::strtoll(env, &end, 10);
      FLUXION_CHECK(end != env && *end == '\0' && mb >= 0 && mb < (1LL << 40),
                    "FLUXION_CPU_CACHE_MB: expected a non-negative integer (MiB), got '", env, "'");
      options.max_cached_bytes = static_cast<std::size_t>(mb) << 20;
    }
    return options;
  }());
  return *instance;
}

}  // namespace

void* allocate(std::size_t nbytes, int) {
  profiler::Scope scope("allocation");
  return allocator().allocate(nbytes);
}
void deallocate(void* ptr, std::size_t nbytes, int) noexcept {
  profiler::Scope scope("allocation");
  allocator().deallocate(ptr, nbytes);
}
void empty_cache() { allocator().empty_cache(); }
CachingAllocator::Stats memory_stats(int) { return allocator().stats(); }
void reset_peak_memory_stats(int) { allocator().reset_peak(); }

// On the CPU, "to and from the CPU" is a plain copy of the bytes.
void copy_from_cpu(const Tensor& src, const Tensor& dst) {
  const std::size_t n = static_cast<std::size_t>(dst.numel()) * element_size(dst.dtype());
  if (n > 0) std::memcpy(dst.raw_data(), src.raw_data(), n);
}
void copy_to_cpu(const Tensor& src, const Tensor& dst) { copy_from_cpu(src, dst); }

const Backend& backend() {
  static const Backend cpu_backend{.name = "cpu", FLUXION_BACKEND_KERNELS(FLUXION_BACKEND_ENTRY)};
  return cpu_backend;
}

}  // namespace fluxion::cpu
