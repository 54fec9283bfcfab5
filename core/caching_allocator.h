// A caching allocator: keeps freed large blocks and hands them out again, so
// a training loop that allocates the same activation sizes every step stops
// paying for fresh memory (on the CPU, a page fault per 4 KiB on first touch;
// on a GPU, a synchronising cudaMalloc). Each backend owns one, built on its
// raw allocate/free. Blocks below `min_cached_bytes` go straight to the raw
// functions; larger ones are rounded up to a multiple of `granularity` and
// reused by exact rounded size. When the cached (free) bytes would exceed
// `max_cached_bytes`, the cache is emptied first.
#pragma once

#include <cstddef>
#include <mutex>
#include <unordered_map>
#include <vector>

namespace fluxion {

class CachingAllocator {
 public:
  using RawAllocate = void* (*)(std::size_t nbytes);
  using RawFree = void (*)(void* ptr);

  struct Options {
    std::size_t min_cached_bytes = std::size_t{1} << 20;   // 1 MiB
    std::size_t granularity = std::size_t{1} << 20;        // 1 MiB
    std::size_t max_cached_bytes = std::size_t{2} << 30;   // 2 GiB
  };

  struct Stats {
    std::size_t cached_bytes = 0;  // free, held for reuse
    std::size_t hits = 0;          // allocations served from the cache
    std::size_t misses = 0;        // cacheable allocations that needed fresh memory
  };

  CachingAllocator(RawAllocate raw_allocate, RawFree raw_free, Options options);
  ~CachingAllocator();
  CachingAllocator(const CachingAllocator&) = delete;
  CachingAllocator& operator=(const CachingAllocator&) = delete;

  // Never returns nullptr for nbytes > 0; throws std::bad_alloc when even an
  // emptied cache leaves no memory.
  void* allocate(std::size_t nbytes);
  // nbytes must be the size passed to allocate.
  void deallocate(void* ptr, std::size_t nbytes);
  // Returns every cached block to the system.
  void empty_cache();
  Stats stats() const;

 private:
  std::size_t rounded(std::size_t nbytes) const;
  void empty_cache_locked();

  RawAllocate raw_allocate_;
  RawFree raw_free_;
  Options options_;
  mutable std::mutex mutex_;
  std::unordered_map<std::size_t, std::vector<void*>> free_blocks_;  // by rounded size
  Stats stats_;
};

}  // namespace fluxion
