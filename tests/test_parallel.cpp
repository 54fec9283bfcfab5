// Thread settings and parallel_for.
#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "helpers.h"

using namespace fluxion;

TEST_CASE("parallel: set_num_threads validates and round-trips") {
  test::ThreadCountGuard restore;
  CHECK(get_num_threads() >= 1);
  CHECK_THROWS_WITH_AS(set_num_threads(0), doctest::Contains("set_num_threads"), Error);
  CHECK_THROWS_AS(set_num_threads(-3), Error);
  CHECK(get_num_threads() == restore.saved);  // a rejected value changes nothing
  set_num_threads(3);
  CHECK(get_num_threads() == 3);
  set_num_threads(1);
  CHECK(get_num_threads() == 1);
  set_num_threads(2);
  CHECK(get_num_threads() == 2);
}

TEST_CASE("parallel: parallel_for covers every index exactly once") {
  test::ThreadCountGuard restore;
  for (int threads : {1, 2, 4, 7}) {
    set_num_threads(threads);
    for (auto [begin, end, grain] : std::vector<std::array<std::int64_t, 3>>{
             {0, 1000, 10}, {5, 1005, 1}, {-50, 50, 7}, {0, 3, 1}, {0, 100000, 32768}, {10, 10, 1}, {10, 5, 1}}) {
      CAPTURE(threads);
      CAPTURE(begin);
      CAPTURE(end);
      CAPTURE(grain);
      const std::int64_t n = std::max<std::int64_t>(0, end - begin);
      std::vector<std::atomic<int>> hits(static_cast<std::size_t>(n));
      std::atomic<int> calls{0};
      std::atomic<bool> bad_chunk{false};
      parallel_for(begin, end, grain, [&](std::int64_t b, std::int64_t e) {
        ++calls;
        if (b >= e || b < begin || e > end) bad_chunk = true;
        for (std::int64_t i = b; i < e; ++i) ++hits[static_cast<std::size_t>(i - begin)];
      });
      CHECK_FALSE(bad_chunk.load());
      int wrong = 0;
      for (const auto& h : hits) wrong += h.load() != 1;
      CHECK(wrong == 0);
      if (n == 0) CHECK(calls.load() == 0);
      // Never more chunks than threads, nor than the grain allows.
      CHECK(calls.load() <= threads);
      if (n > 0 && n <= grain) CHECK(calls.load() == 1);
    }
  }
}

TEST_CASE("parallel: parallel_for splits work across threads when the range is large") {
  test::ThreadCountGuard restore;
  set_num_threads(4);
  std::atomic<int> calls{0};
  parallel_for(0, 4000, 100, [&](std::int64_t, std::int64_t) { ++calls; });
  CHECK(calls.load() == 4);
  // Nested: the inner loop runs serially inside a parallel chunk, still covering everything.
  std::vector<std::atomic<int>> hits(400);
  parallel_for(0, 4, 1, [&](std::int64_t b, std::int64_t e) {
    for (std::int64_t outer = b; outer < e; ++outer)
      parallel_for(0, 100, 1, [&](std::int64_t ib, std::int64_t ie) {
        for (std::int64_t i = ib; i < ie; ++i) ++hits[static_cast<std::size_t>(outer * 100 + i)];
      });
  });
  int wrong = 0;
  for (const auto& h : hits) wrong += h.load() != 1;
  CHECK(wrong == 0);
}

TEST_CASE("parallel: an exception thrown in a chunk is rethrown on the caller") {
  test::ThreadCountGuard restore;
  for (int threads : {1, 4}) {
    CAPTURE(threads);
    set_num_threads(threads);
    std::atomic<int> finished{0};
    CHECK_THROWS_WITH_AS(parallel_for(0, 1000, 10,
                                      [&](std::int64_t b, std::int64_t e) {
                                        if (b <= 700 && 700 < e) throw std::runtime_error("boom at 700");
                                        ++finished;
                                      }),
                         "boom at 700", std::runtime_error);
    // The other chunks still ran to completion.
    CHECK(finished.load() == threads - 1);
    // A fluxion::Error keeps its type.
    CHECK_THROWS_AS(parallel_for(0, 1000, 10,
                                 [](std::int64_t b, std::int64_t) {
                                   if (b == 0) throw Error("first chunk");
                                 }),
                    Error);
  }
  // Every chunk throwing: exactly one exception comes out.
  set_num_threads(4);
  CHECK_THROWS_AS(parallel_for(0, 1000, 10, [](std::int64_t, std::int64_t) { throw std::logic_error("all"); }),
                  std::logic_error);
  // And the pool works normally afterwards.
  std::atomic<std::int64_t> total{0};
  parallel_for(0, 1000, 10, [&](std::int64_t b, std::int64_t e) { total += e - b; });
  CHECK(total.load() == 1000);
}

TEST_CASE("parallel: kernels raise errors from parallel chunks as fluxion::Error") {
  test::ThreadCountGuard restore;
  set_num_threads(2);
  // gather's bounds check runs inside the parallel loop of a large index.
  Tensor src = zeros({4, 8});
  std::vector<std::int64_t> idx(200000, 1);
  idx[150000] = 8;  // out of bounds, in the second half
  Tensor index = from_vector<std::int64_t>(idx, {4, 50000});
  CHECK_THROWS_WITH_AS(gather(src, 1, index), doctest::Contains("out of bounds"), Error);
}
