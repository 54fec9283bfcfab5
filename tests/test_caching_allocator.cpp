// CachingAllocator: reuse by rounded size, small blocks passed through, the
// cap on cached bytes, and that every raw block is freed exactly once.
#include <doctest/doctest.h>

#include <cstdlib>
#include <set>
#include <vector>

#include "core/caching_allocator.h"

using fluxion::CachingAllocator;

namespace {
// Counting raw functions (plain functions: the allocator takes pointers).
std::set<void*> live;
std::size_t raw_allocations = 0;
void* counting_allocate(std::size_t n) {
  void* p = std::malloc(n);
  live.insert(p);
  ++raw_allocations;
  return p;
}
void counting_free(void* p) {
  REQUIRE(live.erase(p) == 1);  // freed once, and only what was allocated
  std::free(p);
}
CachingAllocator::Options small_options() {
  CachingAllocator::Options o;
  o.min_cached_bytes = 1024;
  o.granularity = 1024;
  o.max_cached_bytes = 8 * 1024;
  return o;
}
}  // namespace

TEST_CASE("caching allocator: a freed block is reused for the same rounded size") {
  live.clear();
  raw_allocations = 0;
  {
    CachingAllocator cache(counting_allocate, counting_free, small_options());
    void* a = cache.allocate(3000);  // rounds to 3072
    cache.deallocate(a, 3000);
    CHECK(cache.stats().cached_bytes == 3072);
    void* b = cache.allocate(2500);  // also 3072: the same block comes back
    CHECK(b == a);
    CHECK(cache.stats().hits == 1);
    CHECK(raw_allocations == 1);
    void* c = cache.allocate(5000);  // another size: fresh memory
    CHECK(c != a);
    CHECK(raw_allocations == 2);
    cache.deallocate(b, 2500);
    cache.deallocate(c, 5000);
    CHECK(cache.stats().cached_bytes == 3072 + 5120);
  }
  CHECK(live.empty());  // the destructor returned the cached blocks
}

TEST_CASE("caching allocator: small blocks bypass the cache, the cap releases the largest blocks first") {
  live.clear();
  raw_allocations = 0;
  CachingAllocator cache(counting_allocate, counting_free, small_options());
  void* small = cache.allocate(100);
  cache.deallocate(small, 100);
  CHECK(cache.stats().cached_bytes == 0);
  CHECK(live.empty());

  void* a = cache.allocate(4096);
  void* b = cache.allocate(3072);
  void* c = cache.allocate(2048);
  cache.deallocate(a, 4096);
  cache.deallocate(b, 3072);
  CHECK(cache.stats().cached_bytes == 7168);
  cache.deallocate(c, 2048);  // 7168 + 2048 > 8192: the largest cached block (a) goes first
  CHECK(cache.stats().cached_bytes == 3072 + 2048);
  CHECK(live.size() == 2);
  CHECK(live.count(a) == 0);
  cache.empty_cache();
  CHECK(cache.stats().cached_bytes == 0);
  CHECK(live.empty());
  CHECK(cache.allocate(0) == nullptr);
}

TEST_CASE("caching allocator: best fit within max_waste, the block's own size on return, in-use peak") {
  live.clear();
  raw_allocations = 0;
  CachingAllocator::Options options = small_options();
  options.max_waste = 0.5;
  CachingAllocator cache(counting_allocate, counting_free, options);
  void* big = cache.allocate(3072);
  void* bigger = cache.allocate(4096);
  CHECK(cache.stats().in_use_bytes == 7168);
  cache.deallocate(big, 3072);
  cache.deallocate(bigger, 4096);
  CHECK(cache.stats().peak_in_use_bytes == 7168);
  CHECK(cache.stats().in_use_bytes == 0);

  // 2048 fits into the 3072 block (50% above it), the smallest that fits.
  void* x = cache.allocate(2048);
  CHECK(x == big);
  CHECK(cache.stats().cached_bytes == 4096);
  CHECK(cache.stats().in_use_bytes == 3072);  // the whole block is in use
  // 1024 would waste more than half of the 4096 block: fresh memory, and
  // the miss gives that block back (it is too large to serve the request).
  void* y = cache.allocate(1024);
  CHECK(raw_allocations == 3);
  CHECK(cache.stats().cached_bytes == 0);
  cache.reset_peak();
  CHECK(cache.stats().peak_in_use_bytes == 3072 + 1024);
  // Freed with the size it was asked for, the block returns as 3072 bytes.
  cache.deallocate(x, 2048);
  cache.deallocate(y, 1024);
  CHECK(cache.stats().cached_bytes == 3072 + 1024);
  CHECK(cache.allocate(3000) == big);
  cache.deallocate(big, 3000);
  cache.empty_cache();
  CHECK(live.empty());
}

TEST_CASE("caching allocator: moving to smaller blocks does not keep the large ones for ever") {
  live.clear();
  raw_allocations = 0;
  CachingAllocator::Options options = small_options();
  options.max_cached_bytes = SIZE_MAX;
  CachingAllocator cache(counting_allocate, counting_free, options);
  // One large block, then many blocks too small to be served by it: each
  // miss gives back cached bytes, so what is held stays near what is in use.
  void* large = cache.allocate(64 * 1024);
  cache.deallocate(large, 64 * 1024);
  std::vector<void*> small;
  for (int i = 0; i < 8; ++i) small.push_back(cache.allocate(2048));
  CHECK(cache.stats().cached_bytes == 0);  // the first miss released the 64 KiB block
  CHECK(live.size() == 8);
  for (void* p : small) cache.deallocate(p, 2048);
  CHECK(cache.stats().in_use_bytes == 0);
  CHECK(cache.stats().cached_bytes == 8 * 2048);
  cache.empty_cache();
  CHECK(live.empty());
}
