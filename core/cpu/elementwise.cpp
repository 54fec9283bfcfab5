// Elementwise CPU kernels: fill, copy (with broadcast and dtype conversion),
// binary arithmetic and comparisons, unary math, where. All of them are one
// call to a `map` helper that runs a scalar lambda over strided operands;
// the contiguous case compiles to a plain vectorised loop.
#include <cmath>
#include <type_traits>

#include "core/cpu/kernels.h"
#include "core/cpu/strided_loop.h"

namespace fluxion::cpu {
namespace {

// out = f(a), a broadcast to out's shape.
template <class Out, class In, class F>
void map1(const Tensor& a, const Tensor& out, F f) {
  const Shape& shape = out.shape();
  Out* po = out.data<Out>();
  const In* pa = a.data<In>();
  for_each_row<2>(shape, {out.strides(), broadcast_strides(a.shape(), a.strides(), shape)},
                  [&](const std::int64_t* off, std::int64_t n, const std::int64_t* st) {
                    Out* o = po + off[0];
                    const In* x = pa + off[1];
                    if (st[0] == 1 && st[1] == 1) {
                      for (std::int64_t i = 0; i < n; ++i) o[i] = f(x[i]);
                    } else if (st[0] == 1 && st[1] == 0) {
                      const Out v = f(*x);
                      for (std::int64_t i = 0; i < n; ++i) o[i] = v;
                    } else {
                      for (std::int64_t i = 0; i < n; ++i) o[i * st[0]] = f(x[i * st[1]]);
                    }
                  });
}

// out = f(a, b), a and b broadcast to out's shape.
template <class T, class F>
void map2(const Tensor& a, const Tensor& b, const Tensor& out, F f) {
  const Shape& shape = out.shape();
  T* po = out.data<T>();
  const T* pa = a.data<T>();
  const T* pb = b.data<T>();
  for_each_row<3>(shape,
                  {out.strides(), broadcast_strides(a.shape(), a.strides(), shape),
                   broadcast_strides(b.shape(), b.strides(), shape)},
                  [&](const std::int64_t* off, std::int64_t n, const std::int64_t* st) {
                    T* o = po + off[0];
                    const T* x = pa + off[1];
                    const T* y = pb + off[2];
                    if (st[0] == 1 && st[1] == 1 && st[2] == 1) {
                      for (std::int64_t i = 0; i < n; ++i) o[i] = f(x[i], y[i]);
                    } else if (st[0] == 1 && st[1] == 1 && st[2] == 0) {
                      const T yv = *y;
                      for (std::int64_t i = 0; i < n; ++i) o[i] = f(x[i], yv);
                    } else if (st[0] == 1 && st[1] == 0 && st[2] == 1) {
                      const T xv = *x;
                      for (std::int64_t i = 0; i < n; ++i) o[i] = f(xv, y[i]);
                    } else {
                      for (std::int64_t i = 0; i < n; ++i) o[i * st[0]] = f(x[i * st[1]], y[i * st[2]]);
                    }
                  });
}

// out = f(c, a, b), all broadcast to out's shape.
template <class T, class F>
void map3(const Tensor& c, const Tensor& a, const Tensor& b, const Tensor& out, F f) {
  const Shape& shape = out.shape();
  T* po = out.data<T>();
  const T* pc = c.data<T>();
  const T* pa = a.data<T>();
  const T* pb = b.data<T>();
  for_each_row<4>(shape,
                  {out.strides(), broadcast_strides(c.shape(), c.strides(), shape),
                   broadcast_strides(a.shape(), a.strides(), shape),
                   broadcast_strides(b.shape(), b.strides(), shape)},
                  [&](const std::int64_t* off, std::int64_t n, const std::int64_t* st) {
                    for (std::int64_t i = 0; i < n; ++i)
                      po[off[0] + i * st[0]] =
                          f(pc[off[1] + i * st[1]], pa[off[2] + i * st[2]], pb[off[3] + i * st[3]]);
                  });
}

}  // namespace

void fill(const Tensor& out, double value) {
  visit_dtype(out.dtype(), [&]<class T>() {
    const T v = static_cast<T>(value);
    T* p = out.data<T>();
    for_each_row<1>(out.shape(), {out.strides()}, [&](const std::int64_t* off, std::int64_t n, const std::int64_t* st) {
      for (std::int64_t i = 0; i < n; ++i) p[off[0] + i * st[0]] = v;
    });
  });
}

void copy(const Tensor& src, const Tensor& dst) {
  visit_dtype(dst.dtype(), [&]<class Out>() {
    visit_dtype(src.dtype(), [&]<class In>() { map1<Out, In>(src, dst, [](In x) { return static_cast<Out>(x); }); });
  });
}

void binary(BinaryOp op, const Tensor& a, const Tensor& b, const Tensor& out) {
  visit_dtype(out.dtype(), [&]<class T>() {
    switch (op) {
      case BinaryOp::add: return map2<T>(a, b, out, [](T x, T y) { return x + y; });
      case BinaryOp::sub: return map2<T>(a, b, out, [](T x, T y) { return x - y; });
      case BinaryOp::mul: return map2<T>(a, b, out, [](T x, T y) { return x * y; });
      case BinaryOp::div:
        FLUXION_CHECK(std::is_floating_point_v<T>, "div: integer tensors are not supported; convert with to(kFloat32)");
        return map2<T>(a, b, out, [](T x, T y) { return x / y; });
      // NaN propagates through maximum and minimum, as in PyTorch.
      case BinaryOp::maximum: return map2<T>(a, b, out, [](T x, T y) { return (x > y || x != x) ? x : y; });
      case BinaryOp::minimum: return map2<T>(a, b, out, [](T x, T y) { return (x < y || x != x) ? x : y; });
      case BinaryOp::eq: return map2<T>(a, b, out, [](T x, T y) { return T(x == y); });
      case BinaryOp::ne: return map2<T>(a, b, out, [](T x, T y) { return T(x != y); });
      case BinaryOp::lt: return map2<T>(a, b, out, [](T x, T y) { return T(x < y); });
      case BinaryOp::le: return map2<T>(a, b, out, [](T x, T y) { return T(x <= y); });
      case BinaryOp::gt: return map2<T>(a, b, out, [](T x, T y) { return T(x > y); });
      case BinaryOp::ge: return map2<T>(a, b, out, [](T x, T y) { return T(x >= y); });
      case BinaryOp::relu_grad: return map2<T>(a, b, out, [](T g, T y) { return y <= T(0) ? T(0) : g; });
    }
  });
}

void unary(UnaryOp op, const Tensor& a, const Tensor& out, UnaryParams params) {
  visit_dtype(out.dtype(), [&]<class T>() {
    auto run = [&](auto f) { map1<T, T>(a, out, f); };
    switch (op) {
      case UnaryOp::neg: return run([](T x) { return -x; });
      case UnaryOp::abs:
        if constexpr (std::is_floating_point_v<T>) return run([](T x) { return std::fabs(x); });  // |-0| = +0
        else return run([](T x) { return x < T(0) ? -x : x; });
      case UnaryOp::sign: return run([](T x) { return T((T(0) < x) - (x < T(0))); });
      case UnaryOp::relu: return run([](T x) { return x < T(0) ? T(0) : x; });  // NaN passes through
      case UnaryOp::clamp: {
        const T lo = static_cast<T>(params.a), hi = static_cast<T>(params.b);
        return run([lo, hi](T x) { return x < lo ? lo : (x > hi ? hi : x); });
      }
      default: break;
    }
    if constexpr (std::is_floating_point_v<T>) {
      switch (op) {
        case UnaryOp::exp: return run([](T x) { return std::exp(x); });
        case UnaryOp::log: return run([](T x) { return std::log(x); });
        case UnaryOp::sqrt: return run([](T x) { return std::sqrt(x); });
        case UnaryOp::tanh: return run([](T x) { return std::tanh(x); });
        case UnaryOp::sigmoid:
          // Two branches so exp never overflows.
          return run([](T x) {
            if (x >= T(0)) return T(1) / (T(1) + std::exp(-x));
            const T e = std::exp(x);
            return e / (T(1) + e);
          });
        case UnaryOp::pow: {
          const T p = static_cast<T>(params.a);
          if (params.a == 2.0) return run([](T x) { return x * x; });
          return run([p](T x) { return std::pow(x, p); });
        }
        default: break;
      }
    }
    throw Error(detail::concat("unary op ", static_cast<int>(op), ": expected a floating-point tensor, got ",
                               out.dtype()));
  });
}

void where(const Tensor& cond, const Tensor& a, const Tensor& b, const Tensor& out) {
  visit_dtype(out.dtype(), [&]<class T>() { map3<T>(cond, a, b, out, [](T c, T x, T y) { return c != T(0) ? x : y; }); });
}

}  // namespace fluxion::cpu
