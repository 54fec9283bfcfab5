//! @file
//! The optimizers' engine: one pass over several same-shaped tensors, element
//! by element. rule(a[i], b[i], ...) receives references of the tensors'
//! element type, so an update reads and writes each state tensor exactly once
//! per step. On the CPU the pass runs on all threads; on a GPU it is one
//! kernel (optim/fused_rules.cu) running the very same rule, which is why
//! rules are plain structs (optim/rules.h), not lambdas.
#pragma once

#include <array>
#include <cstdint>
#include <tuple>

#include "core/parallel.h"
#include "core/tensor.h"
#include "optim/registry.h"
#include "optim/rules.h"

namespace fluxion::optim {

/// The GPU pass: rule over n elements of N tensors of `dtype` on `device`.
/// Defined in optim/fused_rules.cu for every registered rule (optim/registry.h).
template <class Rule, int N>
void for_each_element_on_gpu(const Rule& rule, std::int64_t n, DType dtype, int device, std::array<void*, N> data);

/// A rule of your own, outside Fluxion (a research optimizer in your code):
/// specialise this to true and for_each_element runs it, on the CPU only,
/// since GPU kernels are compiled with the library for the registered rules.
/// Fluxion's own rules are registered instead (docs/contributing.md), so
/// that forgetting to is a compile error in every build.
///
///     template <> inline constexpr bool runs_on_cpu_only<MyRule> = true;
template <class Rule>
inline constexpr bool runs_on_cpu_only = false;

/// Requires: `Rule` registered, or marked runs_on_cpu_only (a compile error
/// otherwise: its GPU kernel would not exist), and all tensors contiguous, on
/// one device, the same floating dtype and the same number of elements.
/// Throws naming `op` otherwise.
template <class Rule, class... Rest>
void for_each_element(const char* op, const Rule& rule, const Tensor& first, const Rest&... rest) {
  static_assert(is_registered_rule<Rule> || runs_on_cpu_only<Rule>,
                "for_each_element: this rule is not registered: list it in its optimizer's `Rules`, and the optimizer "
                "in optim/registry.h (a rule of your own, outside Fluxion: runs_on_cpu_only<Rule> = true)");
  constexpr int kCount = 1 + static_cast<int>(sizeof...(Rest));
  static_assert(tensor_count<Rule> == kCount, "for_each_element: the rule takes another number of tensors");
  const std::int64_t n = first.numel();
  for (const Tensor* t : {&first, &rest...}) {
    FLUXION_CHECK(t->device() == first.device(), op, ": tensors on ", first.device(), " and ", t->device());
    FLUXION_CHECK(t->is_contiguous(), op, ": fused updates need contiguous tensors");
    FLUXION_CHECK(t->dtype() == first.dtype(), op, ": dtype mismatch: ", first.dtype(), " and ", t->dtype());
    FLUXION_CHECK(t->numel() == n, op, ": tensors of ", n, " and ", t->numel(), " elements");
  }
  FLUXION_CHECK(is_floating(first.dtype()), op, ": expected a floating-point tensor (float32 or float64), got ",
                first.dtype());
  if (first.device().is_cuda()) {
#if FLUXION_WITH_CUDA
    if constexpr (is_registered_rule<Rule>) {
      for_each_element_on_gpu<Rule, kCount>(rule, n, first.dtype(), first.device().index,
                                            std::array<void*, kCount>{first.raw_data(), rest.raw_data()...});
      return;
    } else {
      throw Error(detail::concat(op, ": this rule runs on the CPU only (runs_on_cpu_only); GPU kernels exist for "
                                     "the rules registered in optim/registry.h"));
    }
#else
    throw Error(detail::concat(op, ": this build of Fluxion has no CUDA support"));
#endif
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

}  // namespace fluxion::optim
