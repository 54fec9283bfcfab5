// What the benchmarks share: timing (median seconds per call after warm-up,
// within a time budget, on the CPU or a GPU), the plain copy loop they
// measure against, and the optimizer step measurement.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "core/cuda.h"
#include "core/parallel.h"

namespace fluxion::apps {

// The reference for memory-bound work: a plain element-by-element parallel
// loop. GCC would otherwise turn it into a call to memcpy, whose `rep movsb`
// path is a different (and here slower) thing to compare with.
#if defined(__GNUC__) && !defined(__clang__)
__attribute__((optimize("no-tree-loop-distribute-patterns")))
#endif
inline void copy_loop(const float* src, float* dst, std::int64_t count) {
  parallel_for(0, count, 1 << 16, [&](std::int64_t lo, std::int64_t hi) {
    for (std::int64_t i = lo; i < hi; ++i) dst[i] = src[i];
  });
}

template <class Fn>
double median_seconds(Fn&& fn, double budget_seconds = 1.0, int warmup = 2, int min_runs = 5) {
  using clock = std::chrono::steady_clock;
  for (int i = 0; i < warmup; ++i) fn();
  std::vector<double> samples;
  const auto start = clock::now();
  while (static_cast<int>(samples.size()) < min_runs ||
         std::chrono::duration<double>(clock::now() - start).count() < budget_seconds) {
    const auto t0 = clock::now();
    fn();
    samples.push_back(std::chrono::duration<double>(clock::now() - t0).count());
  }
  std::nth_element(samples.begin(), samples.begin() + samples.size() / 2, samples.end());
  return samples[samples.size() / 2];
}

// median_seconds of fn on `device`. GPU kernels run asynchronously, so
// there each sample is `repeats` calls and one synchronisation, divided by
// `repeats`.
template <class Fn>
double device_seconds(Device device, Fn&& fn, double budget_seconds, int repeats = 10) {
  if (device.is_cpu()) return median_seconds(fn, budget_seconds);
  return median_seconds(
             [&] {
               for (int i = 0; i < repeats; ++i) fn();
               cuda::synchronize(device.index);
             },
             budget_seconds) /
         repeats;
}

// One step of optimizer `name` over `count` float32 parameters on `device`,
// printed as time and effective bandwidth (parameter, gradient and every
// state tensor read and written once) against `copy_rate` GB/s
// (bench_optim.cpp).
void bench_optimizer_step(const std::string& name, std::int64_t count, Device device, double budget,
                          double copy_rate);

}  // namespace fluxion::apps
