#include "core/caching_allocator.h"

#include <algorithm>
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
    auto it = free_blocks_.lower_bound(size);
    if (it != free_blocks_.end() &&
        static_cast<double>(it->first) <= static_cast<double>(size) * (1.0 + options_.max_waste)) {
      const auto [block_size, ptr] = *it;
      free_blocks_.erase(it);
      block_sizes_.emplace(ptr, block_size);
      stats_.cached_bytes -= block_size;
      ++stats_.hits;
      note_in_use_locked(block_size);
      return ptr;
    }
    ++stats_.misses;
    release_for_miss_locked(size);
  }
  void* ptr = raw_allocate_(size);
  if (ptr == nullptr) {
    // Out of memory: give the cache back and try once more.
    empty_cache();
    ptr = raw_allocate_(size);
    if (ptr == nullptr) throw std::bad_alloc();
  }
  std::lock_guard<std::mutex> lock(mutex_);
  block_sizes_.emplace(ptr, size);
  note_in_use_locked(size);
  return ptr;
}

void CachingAllocator::deallocate(void* ptr, std::size_t nbytes) {
  if (ptr == nullptr) return;
  if (nbytes < options_.min_cached_bytes) {
    raw_free_(ptr);
    return;
  }
  std::lock_guard<std::mutex> lock(mutex_);
  const auto found = block_sizes_.find(ptr);
  const std::size_t size = found != block_sizes_.end() ? found->second : rounded(nbytes);
  if (found != block_sizes_.end()) {
    block_sizes_.erase(found);
    stats_.in_use_bytes -= size;
  }
  if (size > options_.max_cached_bytes) {  // could never be cached: keep what is
    raw_free_(ptr);
    return;
  }
  if (stats_.cached_bytes + size > options_.max_cached_bytes) trim_locked(options_.max_cached_bytes - size);
  free_blocks_.emplace(size, ptr);
  stats_.cached_bytes += size;
}

void CachingAllocator::note_in_use_locked(std::size_t size) {
  stats_.in_use_bytes += size;
  stats_.peak_in_use_bytes = std::max(stats_.peak_in_use_bytes, stats_.in_use_bytes);
}

void CachingAllocator::reset_peak() {
  std::lock_guard<std::mutex> lock(mutex_);
  stats_.peak_in_use_bytes = stats_.in_use_bytes;
}

void CachingAllocator::release_for_miss_locked(std::size_t size) {
  std::size_t released = 0;
  // First the blocks too small for this request, the largest of them first...
  auto it = free_blocks_.lower_bound(size);
  while (released < size && it != free_blocks_.begin()) {
    --it;
    raw_free_(it->second);
    released += it->first;
    stats_.cached_bytes -= it->first;
    it = free_blocks_.erase(it);
  }
  // ...then, if that was not enough, those too large to be served (the best
  // fit failed, so every remaining block is), the largest first: otherwise a
  // program that moves to smaller tensors (evaluation after training) would
  // keep its old blocks for ever.
  while (released < size && !free_blocks_.empty()) {
    auto largest = std::prev(free_blocks_.end());
    raw_free_(largest->second);
    released += largest->first;
    stats_.cached_bytes -= largest->first;
    free_blocks_.erase(largest);
  }
}

void CachingAllocator::trim_locked(std::size_t limit) {
  while (stats_.cached_bytes > limit && !free_blocks_.empty()) {
    auto largest = std::prev(free_blocks_.end());
    raw_free_(largest->second);
    stats_.cached_bytes -= largest->first;
    free_blocks_.erase(largest);
  }
}

void CachingAllocator::empty_cache() {
  std::lock_guard<std::mutex> lock(mutex_);
  empty_cache_locked();
}

void CachingAllocator::empty_cache_locked() { trim_locked(0); }

CachingAllocator::Stats CachingAllocator::stats() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return stats_;
}

}  // namespace fluxion
