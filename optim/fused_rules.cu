// The GPU side of for_each_element (optim/fused.h): a grid-stride kernel
// applying a rule to element i of every tensor, one per rule and dtype, made
// here for every rule of every registered optimizer (optim/registry.h). A new
// optimizer's rules get their kernels from its registry entry, not from a
// line here.
#include <array>
#include <cstdint>
#include <tuple>
#include <utility>

#include "core/cuda/common.h"
#include "optim/fused.h"

namespace fluxion::optim {

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
  fused_kernel<Rule, T, N, I...><<<cuda::blocks_for(n), cuda::kThreads, 0, cuda::stream(device)>>>(rule, n, typed);
  FLUXION_CUDA_CHECK_LAUNCH();
}

template <class Rule, int N>
void for_each_element_on_gpu(const Rule& rule, std::int64_t n, DType dtype, int device, std::array<void*, N> data) {
  if (n == 0) return;
  cuda::DeviceGuard guard(device);
  if (dtype == kFloat32) launch_fused<Rule, float, N>(rule, n, device, data, std::make_index_sequence<N>());
  else launch_fused<Rule, double, N>(rule, n, device, data, std::make_index_sequence<N>());
}

template <class... Rules>
auto gpu_passes(RuleList<Rules...>) {
  return std::tuple{&for_each_element_on_gpu<Rules, tensor_count<Rules>>...};
}

// The GPU pass of every registered rule, in a table with external linkage:
// naming each pass makes nvcc compile it and its kernels here, and the table
// keeps them in the object file for the optimizers' calls (optim/*.cpp) to
// link against. (A rule two optimizers share is named twice, which is fine.)
auto registered_gpu_passes = gpu_passes(RegisteredRules{});

}  // namespace fluxion::optim
