// The one loop every CPU elementwise-style kernel is built on: visit all
// positions of a shape for N operands with their own strides (stride 0 where
// an operand is broadcast), as runs along the innermost dimension.
//
// Dimensions that are laid out back to back in every operand are merged
// first, so a contiguous tensor of any rank becomes one long run and the
// innermost loop is a plain, vectorisable `for (i < n)`.
#pragma once

#include <array>
#include <cstdint>

#include "core/parallel.h"
#include "core/shape.h"

namespace fluxion::cpu {

template <int N>
struct LoopGeometry {
  Shape shape;                     // merged; never empty
  std::array<Strides, N> strides;  // per operand, in elements, matching shape
};

template <int N>
LoopGeometry<N> make_geometry(const Shape& shape, const std::array<Strides, N>& strides) {
  LoopGeometry<N> loop;
  // Walk from the innermost dim outwards, dropping size-1 dims and merging a
  // dim into the one inside it when every operand steps over it evenly.
  for (std::size_t d = shape.size(); d-- > 0;) {
    if (shape[d] == 1) continue;
    bool merge = !loop.shape.empty();
    for (int k = 0; k < N && merge; ++k) merge = strides[k][d] == loop.strides[k].front() * loop.shape.front();
    if (merge) {
      loop.shape.front() *= shape[d];
    } else {
      loop.shape.insert(loop.shape.begin(), shape[d]);
      for (int k = 0; k < N; ++k) loop.strides[k].insert(loop.strides[k].begin(), strides[k][d]);
    }
  }
  if (loop.shape.empty()) {  // a scalar, or all dims of size 1
    loop.shape = {1};
    for (int k = 0; k < N; ++k) loop.strides[k] = {0};
  }
  return loop;
}

// Visits linear positions [begin, end) of `loop` serially: row(offsets, n, inner)
// gets each operand's element offset of a run's first element, the run's
// length, and each operand's innermost stride.
template <int N, class Row>
void for_each_row_range(const LoopGeometry<N>& loop, std::int64_t begin, std::int64_t end, const Row& row) {
  if (begin >= end) return;
  const std::size_t nd = loop.shape.size();
  const std::int64_t inner = loop.shape[nd - 1];
  std::array<std::int64_t, N> inner_strides;
  for (int k = 0; k < N; ++k) inner_strides[k] = loop.strides[k][nd - 1];
  // Multi-index of `begin`.
  Shape index(nd);
  for (std::int64_t rest = begin, d = static_cast<std::int64_t>(nd) - 1; d >= 0; --d) {
    index[d] = rest % loop.shape[d];
    rest /= loop.shape[d];
  }
  std::array<std::int64_t, N> offsets;
  for (std::int64_t pos = begin; pos < end;) {
    for (int k = 0; k < N; ++k) {
      std::int64_t off = 0;
      for (std::size_t d = 0; d < nd; ++d) off += index[d] * loop.strides[k][d];
      offsets[k] = off;
    }
    std::int64_t n = std::min(inner - index[nd - 1], end - pos);
    row(offsets.data(), n, inner_strides.data());
    pos += n;
    index[nd - 1] += n;
    for (std::size_t d = nd - 1; d > 0 && index[d] == loop.shape[d]; --d) {
      index[d] = 0;
      ++index[d - 1];
    }
  }
}

// Visits every position of `shape`, split across threads in chunks of at
// least `grain` elements.
template <int N, class Row>
void for_each_row(const Shape& shape, const std::array<Strides, N>& strides, const Row& row,
                  std::int64_t grain = 32768) {
  const std::int64_t total = numel(shape);
  if (total == 0) return;
  const LoopGeometry<N> loop = make_geometry<N>(shape, strides);
  parallel_for(0, total, grain, [&](std::int64_t b, std::int64_t e) { for_each_row_range<N>(loop, b, e, row); });
}

}  // namespace fluxion::cpu
