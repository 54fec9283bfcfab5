// Reductions: sum over any set of dims, max (with argmax) along one dim.
#include <limits>
#include <type_traits>
#include <vector>

#include "core/cpu/kernels.h"
#include "core/cpu/strided_loop.h"

namespace fluxion::cpu {
namespace {

// Floating sums accumulate in double so float32 sums of millions of terms
// stay accurate; integer sums in int64.
template <class T>
using Accumulator = std::conditional_t<std::is_floating_point_v<T>, double, std::int64_t>;

// Sum of the elements of `loop` starting at `base`, positions [b, e).
template <class T>
Accumulator<T> sum_range(const T* base, const LoopGeometry<1>& loop, std::int64_t b, std::int64_t e) {
  Accumulator<T> acc = 0;
  for_each_row_range<1>(loop, b, e, [&](const std::int64_t* off, std::int64_t n, const std::int64_t* st) {
    const T* x = base + off[0];
    Accumulator<T> local = 0;
    if (st[0] == 1) {
      // Eight independent partial sums: the compiler keeps them in SIMD
      // lanes, instead of waiting on one long chain of dependent adds.
      Accumulator<T> lanes[8] = {};
      std::int64_t i = 0;
      for (; i + 8 <= n; i += 8)
        for (int j = 0; j < 8; ++j) lanes[j] += x[i + j];
      for (; i < n; ++i) local += x[i];
      for (int j = 0; j < 8; ++j) local += lanes[j];
    } else {
      for (std::int64_t i = 0; i < n; ++i) local += x[i * st[0]];
    }
    acc += local;
  });
  return acc;
}

}  // namespace

void sum(const Tensor& a, const Tensor& out) {
  // a's dims split into kept ones (iterated over by outputs) and reduced ones.
  const SumGeometry geometry = sum_geometry(a, out);
  const Shape& kept_shape = geometry.kept_shape;
  const Shape& reduced_shape = geometry.reduced_shape;
  const Strides &kept_a = geometry.kept_a, &kept_out = geometry.kept_out, &reduced_a = geometry.reduced_a;
  const LoopGeometry<1> reduced = make_geometry<1>(reduced_shape, {reduced_a});
  const std::int64_t reduced_count = numel(reduced_shape);

  visit_dtype(a.dtype(), [&]<class T>() {
    const T* pa = a.data<T>();
    T* po = out.data<T>();
    const std::int64_t outputs = numel(kept_shape);
    if (outputs == 1) {
      // One output: split the input into fixed blocks so the result does not
      // depend on the thread count, sum blocks in parallel, add in order.
      constexpr std::int64_t kBlock = 1 << 16;
      const std::int64_t blocks = std::max<std::int64_t>(1, (reduced_count + kBlock - 1) / kBlock);
      std::vector<Accumulator<T>> partial(blocks);
      parallel_for(0, blocks, 1, [&](std::int64_t b, std::int64_t e) {
        for (std::int64_t i = b; i < e; ++i)
          partial[i] = sum_range(pa, reduced, i * kBlock, std::min(reduced_count, (i + 1) * kBlock));
      });
      Accumulator<T> total = 0;
      for (auto p : partial) total += p;
      *po = static_cast<T>(total);
      return;
    }
    // Many outputs: each thread owns whole outputs.
    const std::int64_t grain = std::max<std::int64_t>(1, 32768 / std::max<std::int64_t>(reduced_count, 1));
    for_each_row<2>(kept_shape, {kept_out, kept_a},
                    [&](const std::int64_t* off, std::int64_t n, const std::int64_t* st) {
                      for (std::int64_t i = 0; i < n; ++i)
                        po[off[0] + i * st[0]] =
                            static_cast<T>(sum_range(pa + off[1] + i * st[1], reduced, 0, reduced_count));
                    },
                    grain);
  });
}

void max(const Tensor& a, std::int64_t dim, const Tensor& values, const Tensor& indices) {
  const std::int64_t length = a.shape()[dim];
  const std::int64_t step = a.strides()[dim];
  Shape outer = a.shape();
  outer[dim] = 1;
  visit_dtype(a.dtype(), [&]<class T>() {
    const T* pa = a.data<T>();
    T* pv = values.data<T>();
    std::int64_t* pi = indices.data<std::int64_t>();
    for_each_row<3>(outer, {a.strides(), values.strides(), indices.strides()},
                    [&](const std::int64_t* off, std::int64_t n, const std::int64_t* st) {
                      for (std::int64_t i = 0; i < n; ++i) {
                        const T* x = pa + off[0] + i * st[0];
                        T best = x[0];
                        std::int64_t best_index = 0;
                        for (std::int64_t j = 1; j < length && best == best; ++j) {
                          const T v = x[j * step];
                          if (v > best || v != v) {  // NaN wins and stops the search
                            best = v;
                            best_index = j;
                          }
                        }
                        pv[off[1] + i * st[1]] = best;
                        pi[off[2] + i * st[2]] = best_index;
                      }
                    },
                    std::max<std::int64_t>(1, 32768 / std::max<std::int64_t>(length, 1)));
  });
}

}  // namespace fluxion::cpu
