// Timing for benchmarks: run a function until a time budget is spent and
// report the median seconds per call, after warm-up calls.
#pragma once

#include <algorithm>
#include <chrono>
#include <vector>

namespace fluxion::apps {

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

}  // namespace fluxion::apps
