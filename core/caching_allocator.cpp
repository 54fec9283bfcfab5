#include "core/caching_allocator.h"

#include <cstdint>
#include <new>

namespace fluxion {

CachingAllocator::CachingAllocator(RawAllocate raw_allocate, RawFree raw_free, Options options)
    : raw_allocate_(raw_allocate), raw_free_(raw_free), options_(options) {}

CachingAllocator::~CachingAllocator() { empty_cache(); }

std::size_t CachingAllocator::rounded(std::size_t nbytes) const {
  if (nbytes > SIZE_MAX - options_.granularity) throw std::bad_alloc();  // rounding up would wrap
  return (nbytes + options_.granularity - 1) / options_.granularity * options_.granularity;
}

void* CachingAllocator::allocate(std::size_t nbytes) {
  if (nbytes == 0) return nullptr;
  if (nbytes < options_.min_cached_bytes) {
    void* ptr = raw_allocate_(nbytes);
    if (ptr == nullptr) throw std::bad_alloc();
    return ptr;
  }
  const std::size_t size = rounded(nbytes);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = free_blocks_.find(size);
    if (it != free_blocks_.end() && !it->second.empty()) {
      void* ptr = it->second.back();
      it->second.pop_back();
      stats_.cached_bytes -= size;
      ++stats_.hits;
      return ptr;
    }
    ++stats_.misses;
  }
  void* ptr = raw_allocate_(size);
  if (ptr == nullptr) {
    // Out of memory: give the cache back and try once more.
    empty_cache();
    ptr = raw_allocate_(size);
    if (ptr == nullptr) throw std::bad_alloc();
  }
  return ptr;
}

void CachingAllocator::deallocate(void* ptr, std::size_t nbytes) {
  if (ptr == nullptr) return;
  if (nbytes < options_.min_cached_bytes) {
    raw_free_(ptr);
    return;
  }
  const std::size_t size = rounded(nbytes);
  if (size > options_.max_cached_bytes) {  // could never be cached: keep what is
    raw_free_(ptr);
    return;
  }
  std::lock_guard<std::mutex> lock(mutex_);
  if (stats_.cached_bytes + size > options_.max_cached_bytes) empty_cache_locked();
  free_blocks_[size].push_back(ptr);
  stats_.cached_bytes += size;
}

void CachingAllocator::empty_cache() {
  std::lock_guard<std::mutex> lock(mutex_);
  empty_cache_locked();
}

void CachingAllocator::empty_cache_locked() {
  for (auto& [size, blocks] : free_blocks_)
    for (void* ptr : blocks) raw_free_(ptr);
  free_blocks_.clear();
  stats_.cached_bytes = 0;
}

CachingAllocator::Stats CachingAllocator::stats() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return stats_;
}

}  // namespace fluxion
