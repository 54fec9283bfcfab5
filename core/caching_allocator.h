//! @file
//! A caching allocator: keeps freed large blocks and hands them out again, so
//! a training loop that allocates the same activation sizes every step stops
//! paying for fresh memory (on the CPU, a page fault per 4 KiB on first touch;
//! on a GPU, a synchronising cudaMalloc). Each backend owns one, built on its
//! raw allocate/free. Blocks below `min_cached_bytes` go straight to the raw
//! functions; larger ones are rounded up to a multiple of `granularity` and
//! served by the smallest cached block that fits, if it is at most
//! `max_waste` larger (a model whose tensors grow layer by layer, as
//! DenseNet's concatenations do, then reuses its blocks instead of holding
//! idle ones of every size). On a miss, cached blocks are released until as
//! many bytes as it asks for have gone back (first those too small for it,
//! then those too large), so memory in use plus cached grows on a miss only
//! when the cache is empty: it stays near the program's peak in use. When the
//! cached bytes would exceed `max_cached_bytes`, the largest go first.
//!
//! Measured on DenseNet-121's training step (batch 128, whose tensors are
//! 4.9 GB at the peak): exact-size reuse with a 2 GiB cap re-faulted most
//! activations every step (14.4 img/s); exact-size without a cap held 7.5 GB
//! (23.4 img/s); best fit within 2x and release on miss: 5.5 GB, 21.2 img/s.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <unordered_map>

namespace fluxion {

class CachingAllocator {
 public:
  using RawAllocate = void* (*)(std::size_t nbytes);
  using RawFree = void (*)(void* ptr);

  struct Options {
    std::size_t min_cached_bytes = std::size_t{1} << 20;   ///< 1 MiB
    std::size_t granularity = std::size_t{1} << 20;        ///< 1 MiB
    std::size_t max_cached_bytes = SIZE_MAX;               ///< no cap: release on miss bounds the cache
    double max_waste = 1.0;                                ///< a block may be up to twice the request
  };

  struct Stats {
    std::size_t cached_bytes = 0;  ///< free, held for reuse
    std::size_t hits = 0;          ///< allocations served from the cache
    std::size_t misses = 0;        ///< cacheable allocations that needed fresh memory
    std::size_t in_use_bytes = 0;       ///< cacheable blocks handed out and not yet freed
    std::size_t peak_in_use_bytes = 0;  ///< the most in_use_bytes since construction or reset_peak()
  };

  CachingAllocator(RawAllocate raw_allocate, RawFree raw_free, Options options);
  ~CachingAllocator();
  CachingAllocator(const CachingAllocator&) = delete;
  CachingAllocator& operator=(const CachingAllocator&) = delete;

  /// Never returns nullptr for nbytes > 0; throws std::bad_alloc when even an
  /// emptied cache leaves no memory.
  void* allocate(std::size_t nbytes);
  /// nbytes must be the size passed to allocate.
  void deallocate(void* ptr, std::size_t nbytes);
  /// Returns every cached block to the system.
  void empty_cache();
  Stats stats() const;
  /// Starts peak_in_use_bytes again from the current in_use_bytes.
  void reset_peak();

 private:
  std::size_t rounded(std::size_t nbytes) const;
  void empty_cache_locked();
  /// Releases the largest cached blocks until at most `limit` bytes remain.
  void trim_locked(std::size_t limit);
  void note_in_use_locked(std::size_t size);
  /// On a miss: releases cached blocks (those too small first) until `size`
  /// bytes have gone back, or the cache is empty.
  void release_for_miss_locked(std::size_t size);

  RawAllocate raw_allocate_;
  RawFree raw_free_;
  Options options_;
  mutable std::mutex mutex_;
  std::multimap<std::size_t, void*> free_blocks_;        ///< cached, by block size
  std::unordered_map<void*, std::size_t> block_sizes_;   ///< every cacheable block in use, by address
  Stats stats_;
};

}  // namespace fluxion
