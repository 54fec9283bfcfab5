// Strided indexing for the CUDA kernels: the element offsets of N operands
// for a linear index over an output shape. Host-and-device code, so the CPU
// test suite checks it (tests/test_cuda_host_code.cpp). Operands may have any strides
// (0 where they broadcast). Host code builds an Indexer; a kernel calls
// offsets(i, off). Dimensions that are contiguous in every operand are
// merged first, so the common case (everything contiguous) costs one
// division-free step.
#pragma once

#include <array>
#include <cstdint>

#include "core/host_device.h"
#include "core/tensor.h"

namespace fluxion::cuda {

constexpr int kMaxDims = 10;

template <int N>
struct Indexer {
  int ndim = 0;
  std::int64_t sizes[kMaxDims] = {};
  std::int64_t strides[N][kMaxDims] = {};

  FLUXION_HOST_DEVICE void offsets(std::int64_t linear, std::int64_t (&off)[N]) const {
    for (int k = 0; k < N; ++k) off[k] = 0;
    if (ndim == 1) {  // merged to one dimension: no division
      for (int k = 0; k < N; ++k) off[k] = linear * strides[k][0];
      return;
    }
    for (int d = ndim - 1; d >= 0; --d) {
      const std::int64_t i = linear % sizes[d];
      linear /= sizes[d];
      for (int k = 0; k < N; ++k) off[k] += i * strides[k][d];
    }
  }
};

// t's strides seen from `shape`: t's dims align to the right, and a size-1
// or missing dim has stride 0 (it repeats).
inline Strides broadcast_strides(const Tensor& t, const Shape& shape) {
  Strides s(shape.size(), 0);
  const std::size_t lead = shape.size() - t.shape().size();
  for (std::size_t d = 0; d < t.shape().size(); ++d)
    if (t.shape()[d] != 1) s[lead + d] = t.strides()[d];
  return s;
}

// Builds the indexer for `shape` with each operand's strides (already in
// `shape`'s rank): drops size-1 dims, merges neighbours contiguous in all.
template <int N>
Indexer<N> make_indexer(const Shape& shape, const std::array<Strides, N>& strides, const char* op) {
  Indexer<N> indexer;
  for (std::size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] == 1) continue;
    bool merge = indexer.ndim > 0;
    for (int k = 0; k < N && merge; ++k)
      merge = strides[k][d] * shape[d] == indexer.strides[k][indexer.ndim - 1];
    if (merge) {
      indexer.sizes[indexer.ndim - 1] *= shape[d];
      for (int k = 0; k < N; ++k) indexer.strides[k][indexer.ndim - 1] = strides[k][d];
      continue;
    }
    FLUXION_CHECK(indexer.ndim < kMaxDims, op, ": tensors with more than ", kMaxDims,
                  " non-mergeable dimensions are not supported on CUDA");
    indexer.sizes[indexer.ndim] = shape[d];
    for (int k = 0; k < N; ++k) indexer.strides[k][indexer.ndim] = strides[k][d];
    ++indexer.ndim;
  }
  if (indexer.ndim == 0) {  // a single element
    indexer.ndim = 1;
    indexer.sizes[0] = 1;
  }
  return indexer;
}

}  // namespace fluxion::cuda
