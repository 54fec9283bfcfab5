// Elementwise CPU kernels: fill, copy (with broadcast and dtype conversion),
// binary arithmetic and comparisons, unary math, where. All of them are one
// call to a `map` helper that runs a scalar function over strided operands;
// the contiguous case compiles to a plain vectorised loop. The binary and
// unary ops' arithmetic is core/elementwise.h's, shared with the CUDA kernels.
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

// The op becomes a compile-time constant outside the loops (visit_binary_op),
// so each op's contiguous loop is its own, vectorised, with no switch inside.
void binary(BinaryOp op, const Tensor& a, const Tensor& b, const Tensor& out) {
  check_op_dtype(op, out.dtype());
  visit_dtype(out.dtype(), [&]<class T>() {
    visit_binary_op(op, [&]<BinaryOp kOp>() {
      if constexpr (computes_on<Binary<kOp, T>, T>) map2<T>(a, b, out, Binary<kOp, T>{});
    });
  });
}

void unary(UnaryOp op, const Tensor& a, const Tensor& out, UnaryParams params) {
  check_op_dtype(op, out.dtype());
  visit_dtype(out.dtype(), [&]<class T>() {
    visit_unary_op(op, [&]<UnaryOp kOp>() {
      if constexpr (computes_on<Unary<kOp, T>, T>) map1<T, T>(a, out, make_unary<kOp, T>(params));
    });
  });
}

void where(const Tensor& cond, const Tensor& a, const Tensor& b, const Tensor& out) {
  visit_dtype(out.dtype(), [&]<class T>() { map3<T>(cond, a, b, out, [](T c, T x, T y) { return c != T(0) ? x : y; }); });
}

}  // namespace fluxion::cpu
