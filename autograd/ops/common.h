// Helpers shared by the op files: operand checks and output allocation.
#pragma once

#include "autograd/ops.h"
#include "core/backend.h"
#include "core/profiler.h"

namespace fluxion::ops_detail {

// Throws unless a and b share dtype and device.
inline void check_compatible(const Tensor& a, const Tensor& b, const char* op) {
  FLUXION_CHECK(a.dtype() == b.dtype(), op, ": dtype mismatch: ", a.dtype(), " and ", b.dtype(),
                " (convert one with to())");
  FLUXION_CHECK(a.device() == b.device(), op, ": device mismatch: ", a.device(), " and ", b.device());
}

inline void check_floating(const Tensor& a, const char* op) {
  FLUXION_CHECK(is_floating(a.dtype()), op, ": expected a floating-point tensor (float32 or float64), got ",
                a.dtype());
}

// Broadcasting binary kernel into a fresh output (no autograd).
inline Tensor binary_forward(BinaryOp op, const Tensor& a, const Tensor& b, const char* name) {
  check_compatible(a, b, name);
  Tensor out = empty(broadcast_shapes(a.shape(), b.shape(), name), a.options());
  backend(a.device()).binary(op, a, b, out);
  return out;
}

// Unary kernel into a fresh output (no autograd).
inline Tensor unary_forward(UnaryOp op, const Tensor& a, UnaryParams params = {}) {
  Tensor out = empty(a.shape(), a.options());
  backend(a.device()).unary(op, a, out, params);
  return out;
}

inline Tensor scalar_like(const Tensor& t, double value) { return scalar_tensor(value, t.options()); }

}  // namespace fluxion::ops_detail
