// The arithmetic of the CUDA elementwise kernels, one element at a time:
// host-and-device functions, so the CPU test suite can hold them to the CPU
// backend's results (tests/test_cuda_host_code.cpp) on machines without a GPU.
// The semantics are the CPU's (core/cpu/elementwise.cpp): NaN propagates
// through maximum and minimum, |-0| = +0, relu and relu_grad pass NaN.
#pragma once

#include <cmath>
#include <type_traits>

#include "core/backend.h"
#include "core/host_device.h"

namespace fluxion::cuda {

template <class T>
FLUXION_HOST_DEVICE T apply_binary(BinaryOp op, T x, T y) {
  switch (op) {
    case BinaryOp::add: return x + y;
    case BinaryOp::sub: return x - y;
    case BinaryOp::mul: return x * y;
    case BinaryOp::div: return x / y;  // integers refused on the host
    // NaN propagates through maximum and minimum, as in PyTorch.
    case BinaryOp::maximum: return (x > y || x != x) ? x : y;
    case BinaryOp::minimum: return (x < y || x != x) ? x : y;
    case BinaryOp::eq: return T(x == y);
    case BinaryOp::ne: return T(x != y);
    case BinaryOp::lt: return T(x < y);
    case BinaryOp::le: return T(x <= y);
    case BinaryOp::gt: return T(x > y);
    case BinaryOp::ge: return T(x >= y);
    case BinaryOp::relu_grad: return y <= T(0) ? T(0) : x;
  }
  return T(0);
}

template <class T>
FLUXION_HOST_DEVICE T apply_unary(UnaryOp op, T x, UnaryParams p) {
  switch (op) {
    case UnaryOp::neg: return -x;
    case UnaryOp::abs:
      if constexpr (std::is_floating_point_v<T>) return std::fabs(x);  // |-0| = +0, as the CPU
      else return x < T(0) ? -x : x;
    case UnaryOp::sign: return T((T(0) < x) - (x < T(0)));
    case UnaryOp::relu: return x < T(0) ? T(0) : x;  // NaN passes through
    case UnaryOp::clamp: {
      const T lo = static_cast<T>(p.a), hi = static_cast<T>(p.b);
      return x < lo ? lo : (x > hi ? hi : x);
    }
    default: break;
  }
  if constexpr (std::is_floating_point_v<T>) {
    switch (op) {
      case UnaryOp::exp: return std::exp(x);
      case UnaryOp::log: return std::log(x);
      case UnaryOp::sqrt: return std::sqrt(x);
      case UnaryOp::tanh: return std::tanh(x);
      case UnaryOp::sigmoid: {
        if (x >= T(0)) return T(1) / (T(1) + std::exp(-x));  // two branches so exp never overflows
        const T e = std::exp(x);
        return e / (T(1) + e);
      }
      case UnaryOp::pow: return p.a == 2.0 ? x * x : std::pow(x, static_cast<T>(p.a));
      default: break;
    }
  }
  return T(0);
}

}  // namespace fluxion::cuda
