// The GPU side of for_each_element (core/fused.h): one kernel per rule and
// dtype, a grid-stride loop applying the rule to element i of every tensor.
// Included only by optim/fused_rules.cu, which instantiates it per rule.
#pragma once

#include <array>
#include <utility>

#include "core/cuda/common.h"
#include "core/fused.h"

namespace fluxion::cuda {

template <class T, int N>
struct Pointers {
  T* p[N];
};

template <class Rule, class T, int N, std::size_t... I>
__global__ void fused_kernel(Rule rule, std::int64_t n, Pointers<T, N> data) {
  for (std::int64_t i = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<std::int64_t>(gridDim.x) * blockDim.x)
    rule(data.p[I][i]...);
}

template <class Rule, class T, int N, std::size_t... I>
void launch_fused(const Rule& rule, std::int64_t n, int device, const std::array<void*, N>& data,
                  std::index_sequence<I...>) {
  Pointers<T, N> typed{};
  for (int k = 0; k < N; ++k) typed.p[k] = static_cast<T*>(data[k]);
  fused_kernel<Rule, T, N, I...><<<blocks_for(n), kThreads, 0, stream(device)>>>(rule, n, typed);
  FLUXION_CUDA_CHECK_LAUNCH();
}

template <class Rule, int N>
void for_each_element(const Rule& rule, std::int64_t n, DType dtype, int device, std::array<void*, N> data) {
  if (n == 0) return;
  DeviceGuard guard(device);
  if (dtype == kFloat32) launch_fused<Rule, float, N>(rule, n, device, data, std::make_index_sequence<N>());
  else launch_fused<Rule, double, N>(rule, n, device, data, std::make_index_sequence<N>());
}

}  // namespace fluxion::cuda
