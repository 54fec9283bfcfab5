//! @file
//! The elementwise ops' arithmetic, one element at a time, written once for
//! both backends: a FLUXION_HOST_DEVICE functor per op, which the CPU's loops
//! (core/cpu/elementwise.cpp) and the CUDA kernels (core/cuda/elementwise.cu)
//! both run, so the two cannot drift apart and the CPU test suite checks the
//! GPU's arithmetic (tests/test_cuda_host_code.cpp). The semantics are
//! PyTorch's: NaN propagates through maximum and minimum, |-0| = +0, relu and
//! relu_grad pass NaN through.
//!
//! Adding an op: its name in FLUXION_BINARY_OPS or FLUXION_UNARY_OPS (the
//! enum and every switch over it come from there), and its functor beside the
//! others; a missing functor is a compile error naming Binary<BinaryOp::name, T>.
#pragma once

#include <cmath>
#include <type_traits>

#include "core/dtype.h"
#include "core/host_device.h"

namespace fluxion {

// The ops, listed once: X(name).
#define FLUXION_BINARY_OPS(X) \
  X(add) X(sub) X(mul) X(div) X(maximum) X(minimum) X(eq) X(ne) X(lt) X(le) X(gt) X(ge) X(relu_grad)  \
  X(add_relu)
#define FLUXION_UNARY_OPS(X) \
  X(neg) X(exp) X(log) X(sqrt) X(abs) X(sign) X(relu) X(sigmoid) X(tanh) X(pow) X(clamp)

#define FLUXION_ENUMERATOR(name) name,
/// Binary::operator() says what each computes. relu_grad is relu's backward
/// in one pass, PyTorch's threshold_backward; add_relu is relu(x + y), a
/// residual block's sum and ReLU in one pass.
enum class BinaryOp { FLUXION_BINARY_OPS(FLUXION_ENUMERATOR) };
/// Unary::operator() says what each computes.
enum class UnaryOp { FLUXION_UNARY_OPS(FLUXION_ENUMERATOR) };
#undef FLUXION_ENUMERATOR

/// Scalar arguments of parameterised unary ops: pow uses a as the exponent;
/// clamp keeps values in [a, b].
struct UnaryParams {
  double a = 0.0;
  double b = 0.0;
};

/// The base of the functors of ops defined on floating types only: the
/// backends refuse int64 tensors for them.
struct FloatingOnly {};

/// Op `op` on one element of type T: `T operator()(T x, T y) const`.
template <BinaryOp op, class T> struct Binary;
/// Op `op` on one element of type T: `T operator()(T x) const`; pow and clamp
/// are built from their UnaryParams (make_unary).
template <UnaryOp op, class T> struct Unary;

// --- binary -----------------------------------------------------------------------

template <class T> struct Binary<BinaryOp::add, T> {
  FLUXION_HOST_DEVICE T operator()(T x, T y) const { return x + y; }
};
template <class T> struct Binary<BinaryOp::sub, T> {
  FLUXION_HOST_DEVICE T operator()(T x, T y) const { return x - y; }
};
template <class T> struct Binary<BinaryOp::mul, T> {
  FLUXION_HOST_DEVICE T operator()(T x, T y) const { return x * y; }
};
template <class T> struct Binary<BinaryOp::div, T> : FloatingOnly {
  FLUXION_HOST_DEVICE T operator()(T x, T y) const { return x / y; }
};
// NaN propagates through maximum and minimum, as in PyTorch.
template <class T> struct Binary<BinaryOp::maximum, T> {
  FLUXION_HOST_DEVICE T operator()(T x, T y) const { return (x > y || x != x) ? x : y; }
};
template <class T> struct Binary<BinaryOp::minimum, T> {
  FLUXION_HOST_DEVICE T operator()(T x, T y) const { return (x < y || x != x) ? x : y; }
};
// Comparisons write 1 or 0 in the operands' dtype.
template <class T> struct Binary<BinaryOp::eq, T> {
  FLUXION_HOST_DEVICE T operator()(T x, T y) const { return T(x == y); }
};
template <class T> struct Binary<BinaryOp::ne, T> {
  FLUXION_HOST_DEVICE T operator()(T x, T y) const { return T(x != y); }
};
template <class T> struct Binary<BinaryOp::lt, T> {
  FLUXION_HOST_DEVICE T operator()(T x, T y) const { return T(x < y); }
};
template <class T> struct Binary<BinaryOp::le, T> {
  FLUXION_HOST_DEVICE T operator()(T x, T y) const { return T(x <= y); }
};
template <class T> struct Binary<BinaryOp::gt, T> {
  FLUXION_HOST_DEVICE T operator()(T x, T y) const { return T(x > y); }
};
template <class T> struct Binary<BinaryOp::ge, T> {
  FLUXION_HOST_DEVICE T operator()(T x, T y) const { return T(x >= y); }
};
// 0 where relu's output y <= 0, else the output gradient g (a NaN output
// passes the gradient through).
template <class T> struct Binary<BinaryOp::relu_grad, T> {
  FLUXION_HOST_DEVICE T operator()(T g, T y) const { return y <= T(0) ? T(0) : g; }
};

// --- unary ------------------------------------------------------------------------

template <class T> struct Unary<UnaryOp::neg, T> {
  FLUXION_HOST_DEVICE T operator()(T x) const { return -x; }
};
template <class T> struct Unary<UnaryOp::exp, T> : FloatingOnly {
  FLUXION_HOST_DEVICE T operator()(T x) const { return std::exp(x); }
};
template <class T> struct Unary<UnaryOp::log, T> : FloatingOnly {
  FLUXION_HOST_DEVICE T operator()(T x) const { return std::log(x); }
};
template <class T> struct Unary<UnaryOp::sqrt, T> : FloatingOnly {
  FLUXION_HOST_DEVICE T operator()(T x) const { return std::sqrt(x); }
};
template <class T> struct Unary<UnaryOp::abs, T> {
  FLUXION_HOST_DEVICE T operator()(T x) const {
    if constexpr (std::is_floating_point_v<T>) return std::fabs(x);  // |-0| = +0
    else return x < T(0) ? -x : x;
  }
};
template <class T> struct Unary<UnaryOp::sign, T> {
  FLUXION_HOST_DEVICE T operator()(T x) const { return T((T(0) < x) - (x < T(0))); }
};
template <class T> struct Unary<UnaryOp::relu, T> {
  FLUXION_HOST_DEVICE T operator()(T x) const { return x < T(0) ? T(0) : x; }  // NaN passes through
};
template <class T> struct Unary<UnaryOp::sigmoid, T> : FloatingOnly {
  FLUXION_HOST_DEVICE T operator()(T x) const {
    if (x >= T(0)) return T(1) / (T(1) + std::exp(-x));  // two branches so exp never overflows
    const T e = std::exp(x);
    return e / (T(1) + e);
  }
};
template <class T> struct Unary<UnaryOp::tanh, T> : FloatingOnly {
  FLUXION_HOST_DEVICE T operator()(T x) const { return std::tanh(x); }
};
template <class T> struct Unary<UnaryOp::pow, T> : FloatingOnly {
  T exponent;
  bool square;  // x * x: exact like pow, and a vector multiply on the CPU
  FLUXION_HOST_DEVICE explicit Unary(UnaryParams p) : exponent(static_cast<T>(p.a)), square(p.a == 2.0) {}
  FLUXION_HOST_DEVICE T operator()(T x) const { return square ? x * x : std::pow(x, exponent); }
};
template <class T> struct Unary<UnaryOp::clamp, T> {
  T lo, hi;
  FLUXION_HOST_DEVICE explicit Unary(UnaryParams p) : lo(static_cast<T>(p.a)), hi(static_cast<T>(p.b)) {}
  FLUXION_HOST_DEVICE T operator()(T x) const { return x < lo ? lo : (x > hi ? hi : x); }
};

// --- binary ops built from a unary one -------------------------------------------

// relu(x + y): the sum rounded, then relu's rule, so its values are those
// of the add and relu ops one after the other.
template <class T> struct Binary<BinaryOp::add_relu, T> {
  FLUXION_HOST_DEVICE T operator()(T x, T y) const { return Unary<UnaryOp::relu, T>{}(x + y); }
};

/// Unary<op, T> for `params`, which only the parameterised ops read.
template <UnaryOp op, class T>
FLUXION_HOST_DEVICE Unary<op, T> make_unary([[maybe_unused]] UnaryParams params) {
  if constexpr (std::is_constructible_v<Unary<op, T>, UnaryParams>) return Unary<op, T>(params);
  else return Unary<op, T>{};
}

/// Whether functor F computes on T: every op on float32 and float64, only
/// those not FloatingOnly on int64.
template <class F, class T>
inline constexpr bool computes_on = std::is_floating_point_v<T> || !std::is_base_of_v<FloatingOnly, F>;

// --- from the run-time op to its functor ------------------------------------------

#define FLUXION_VISIT_BINARY(name) \
  case BinaryOp::name: fn.template operator()<BinaryOp::name>(); return;
#define FLUXION_VISIT_UNARY(name) \
  case UnaryOp::name: fn.template operator()<UnaryOp::name>(); return;

/// Calls `fn.template operator()<op>()` with `op` a compile-time constant:
/// the one place a run-time op becomes its functor type. The CPU wraps a
/// whole loop in it, so each op's loop is compiled (and vectorised) for that
/// op alone.
template <class Fn>
FLUXION_HOST_DEVICE void visit_binary_op(BinaryOp op, Fn&& fn) {
  switch (op) { FLUXION_BINARY_OPS(FLUXION_VISIT_BINARY) }
}
/// visit_binary_op for unary ops.
template <class Fn>
FLUXION_HOST_DEVICE void visit_unary_op(UnaryOp op, Fn&& fn) {
  switch (op) { FLUXION_UNARY_OPS(FLUXION_VISIT_UNARY) }
}

#undef FLUXION_VISIT_BINARY
#undef FLUXION_VISIT_UNARY

/// One element of `op`, the op chosen per element: what the CUDA kernels run
/// (one kernel per dtype whose threads all take the same branch, rather than
/// one per op and dtype, which would multiply compile time). 0 where `op`
/// does not compute on T; the host refuses those first (check_op_dtype).
template <class T>
FLUXION_HOST_DEVICE T apply_binary(BinaryOp op, T x, T y) {
  T result(0);
  visit_binary_op(op, [&]<BinaryOp kOp>() {
    if constexpr (computes_on<Binary<kOp, T>, T>) result = Binary<kOp, T>{}(x, y);
  });
  return result;
}
/// apply_binary for unary ops.
template <class T>
FLUXION_HOST_DEVICE T apply_unary(UnaryOp op, T x, UnaryParams params) {
  T result(0);
  visit_unary_op(op, [&]<UnaryOp kOp>() {
    if constexpr (computes_on<Unary<kOp, T>, T>) result = make_unary<kOp, T>(params)(x);
  });
  return result;
}

// --- names and dtype checks (host) ------------------------------------------------

#define FLUXION_NAME_CASE(name) \
  case Op::name: return #name;

/// The op's name in the list ("add", "relu_grad").
inline const char* op_name(BinaryOp op) {
  using Op = BinaryOp;
  switch (op) { FLUXION_BINARY_OPS(FLUXION_NAME_CASE) }
  return "unknown binary op";
}
inline const char* op_name(UnaryOp op) {
  using Op = UnaryOp;
  switch (op) { FLUXION_UNARY_OPS(FLUXION_NAME_CASE) }
  return "unknown unary op";
}

#undef FLUXION_NAME_CASE

/// Every op, in list order (tests sweep these).
#define FLUXION_LIST_BINARY(name) BinaryOp::name,
#define FLUXION_LIST_UNARY(name) UnaryOp::name,
inline constexpr BinaryOp kBinaryOps[] = {FLUXION_BINARY_OPS(FLUXION_LIST_BINARY)};
inline constexpr UnaryOp kUnaryOps[] = {FLUXION_UNARY_OPS(FLUXION_LIST_UNARY)};
#undef FLUXION_LIST_BINARY
#undef FLUXION_LIST_UNARY

/// Throws unless `op` computes on `dtype` (see FloatingOnly), with the
/// message both backends give.
inline void check_op_dtype(BinaryOp op, DType dtype) {
  visit_dtype(dtype, [&]<class T>() {
    visit_binary_op(op, [&]<BinaryOp kOp>() {
      FLUXION_CHECK((computes_on<Binary<kOp, T>, T>), op_name(op),
                    ": integer tensors are not supported; convert with to(kFloat32)");
    });
  });
}
inline void check_op_dtype(UnaryOp op, DType dtype) {
  visit_dtype(dtype, [&]<class T>() {
    visit_unary_op(op, [&]<UnaryOp kOp>() {
      FLUXION_CHECK((computes_on<Unary<kOp, T>, T>), "unary op ", static_cast<int>(op),
                    ": expected a floating-point tensor, got ", dtype);
    });
  });
}

}  // namespace fluxion
