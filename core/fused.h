// One pass over several same-shaped tensors, element by element: the engine
// of every optimizer's fused update. rule(a[i], b[i], ...) receives references
// of the tensors' element type, so an update reads and writes each state
// tensor exactly once per step, on all threads. The rules themselves are
// plain per-element functions (optim/*.cpp), so a CUDA kernel can apply the
// same rule later.
#pragma once

#include <tuple>

#include "core/parallel.h"
#include "core/tensor.h"

namespace fluxion {

// Requires: all tensors contiguous, CPU, the same floating dtype and the same
// number of elements. Throws naming `op` otherwise.
template <class Rule, class... Rest>
void for_each_element(const char* op, const Rule& rule, const Tensor& first, const Rest&... rest) {
  const std::int64_t n = first.numel();
  for (const Tensor* t : {&first, &rest...}) {
    FLUXION_CHECK(t->device().is_cpu(), op, ": fused updates run on the CPU only in this build, got ", t->device());
    FLUXION_CHECK(t->is_contiguous(), op, ": fused updates need contiguous tensors");
    FLUXION_CHECK(t->dtype() == first.dtype(), op, ": dtype mismatch: ", first.dtype(), " and ", t->dtype());
    FLUXION_CHECK(t->numel() == n, op, ": tensors of ", n, " and ", t->numel(), " elements");
  }
  visit_floating(first.dtype(), op, [&]<class T>() {
    auto pointers = std::make_tuple(first.data<T>(), rest.template data<T>()...);
    parallel_for(0, n, 1 << 14, [&](std::int64_t begin, std::int64_t end) {
      std::apply([&](auto*... p) {
        for (std::int64_t i = begin; i < end; ++i) rule(p[i]...);
      }, pointers);
    });
  });
}

}  // namespace fluxion
