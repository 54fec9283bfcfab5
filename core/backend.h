// The dispatch table: one Backend per device type, each a struct of kernel
// function pointers. Ops compute output shapes, allocate outputs and call
// backend(device).kernel(...); a kernel only fills memory. Adding a device
// (CUDA) means filling in one more Backend, never touching ops or layers.
//
// Contract shared by every kernel: inputs and outputs may be non-contiguous
// (any strides, stride 0 for broadcast dims) unless a kernel says otherwise;
// every tensor passed to one call lives on the same device; dtypes are the
// same across operands unless a kernel says otherwise. Kernels switch on dtype
// internally (visit_dtype in core/dtype.h).
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/tensor.h"

namespace fluxion {

enum class BinaryOp { add, sub, mul, div, maximum, minimum, eq, ne, lt, le, gt, ge };
enum class UnaryOp { neg, exp, log, sqrt, abs, sign, relu, sigmoid, tanh, pow, clamp };

// Scalar arguments of parameterised unary ops: pow uses a as the exponent;
// clamp keeps values in [a, b].
struct UnaryParams {
  double a = 0.0;
  double b = 0.0;
};

struct Backend {
  const char* name;

  // Memory for tensors. deallocate gets the size that allocate was given.
  void* (*allocate)(std::size_t nbytes);
  void (*deallocate)(void* ptr, std::size_t nbytes);
  // Returns memory the backend caches for reuse to the system.
  void (*empty_cache)();

  // out[...] = value, converted to out's dtype.
  void (*fill)(const Tensor& out, double value);
  // dst = src; src broadcasts to dst's shape and converts to dst's dtype.
  void (*copy)(const Tensor& src, const Tensor& dst);
  // out = a op b; a and b broadcast to out's shape. Comparisons write 1 or 0.
  // out may alias a or b element for element (in-place ops).
  void (*binary)(BinaryOp op, const Tensor& a, const Tensor& b, const Tensor& out);
  // out = op(a), a has out's shape.
  void (*unary)(UnaryOp op, const Tensor& a, const Tensor& out, UnaryParams params);
  // out = cond != 0 ? a : b; all three broadcast to out's shape.
  void (*where)(const Tensor& cond, const Tensor& a, const Tensor& b, const Tensor& out);
  // Sums a into out, which has a's rank: every dim where out has size 1 and a
  // does not is summed over. Floating sums accumulate in double.
  void (*sum)(const Tensor& a, const Tensor& out);
  // Maximum of a along dim: values and int64 indices have a's rank with size 1
  // at dim. NaN wins (as in PyTorch); ties pick the first index.
  void (*max)(const Tensor& a, std::int64_t dim, const Tensor& values, const Tensor& indices);
  // Batched matrix product: a [B, M, K] @ b [B, K, N] -> out [B, M, N]. a and b
  // may have any strides (stride 0 on B broadcasts); out is contiguous.
  void (*matmul)(const Tensor& a, const Tensor& b, const Tensor& out);
  // Softmax (or log-softmax) of a along dim; out has a's shape.
  void (*softmax)(const Tensor& a, std::int64_t dim, bool log, const Tensor& out);
  // out[i][j][k] = src[i][index[i][j][k]][k] for dim 1 (PyTorch's gather);
  // index is int64 with out's shape. Throws on an index outside src.
  void (*gather)(const Tensor& src, std::int64_t dim, const Tensor& index, const Tensor& out);
  // dst[i][index[i][j][k]][k] += src[i][j][k] for dim 1 (PyTorch's scatter_add_);
  // index is int64 with src's shape. Throws on an index outside dst.
  void (*scatter_add)(const Tensor& dst, std::int64_t dim, const Tensor& index, const Tensor& src);
};

// The backend for a device; throws if that device type has none compiled in.
const Backend& backend(Device device);

}  // namespace fluxion
