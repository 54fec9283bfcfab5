//! @file
//! Threads. One setting, set_num_threads(n), governs both BLAS and Fluxion's
//! own parallel loops. The loops use OpenMP: it is part of the compiler (no
//! pool to maintain), OpenBLAS and Eigen already understand it, and a
//! `parallel for` over chunks is all the kernels need.
#pragma once

#include <algorithm>
#include <cstdint>
#include <exception>

#ifdef _OPENMP
#include <omp.h>
#endif

namespace fluxion {

/// Sets the threads used by BLAS and by parallel_for. n >= 1.
void set_num_threads(int n);
/// Current setting. Defaults to $FLUXION_NUM_THREADS, else the core count.
int get_num_threads();

/// Calls fn(chunk_begin, chunk_end) over disjoint chunks covering [begin, end),
/// in parallel when the range exceeds `grain` elements. The first exception
/// thrown by any chunk is rethrown on the calling thread.
template <class Fn>
void parallel_for(std::int64_t begin, std::int64_t end, std::int64_t grain, const Fn& fn) {
  const std::int64_t n = end - begin;
  if (n <= 0) return;
  std::int64_t chunks = std::min<std::int64_t>(get_num_threads(), (n + grain - 1) / std::max<std::int64_t>(grain, 1));
#ifdef _OPENMP
  if (omp_in_parallel()) chunks = 1;
#endif
  if (chunks <= 1) {
    fn(begin, end);
    return;
  }
  std::exception_ptr error;
#pragma omp parallel for num_threads(static_cast<int>(chunks)) schedule(static)
  for (std::int64_t c = 0; c < chunks; ++c) {
    try {
      fn(begin + n * c / chunks, begin + n * (c + 1) / chunks);
    } catch (...) {
#pragma omp critical(fluxion_parallel_for_error)
      if (!error) error = std::current_exception();
    }
  }
  if (error) std::rethrow_exception(error);
}

}  // namespace fluxion
