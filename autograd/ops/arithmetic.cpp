// add, sub, mul, div, neg with broadcasting; comparisons. Each backward sums
// the incoming gradient back down to its input's shape (sum_to), undoing the
// broadcast.
#include "autograd/ops/common.h"

namespace fluxion {
using namespace ops_detail;

Tensor add(const Tensor& a, const Tensor& b) {
  Tensor out = binary_forward(BinaryOp::add, a, b, "add");
  record(out, "add", {a, b}, [sa = a.shape(), sb = b.shape()](const Tensor& g) -> TensorList {
    return {sum_to(g, sa), sum_to(g, sb)};
  });
  return out;
}

Tensor sub(const Tensor& a, const Tensor& b) {
  Tensor out = binary_forward(BinaryOp::sub, a, b, "sub");
  record(out, "sub", {a, b}, [sa = a.shape(), sb = b.shape()](const Tensor& g) -> TensorList {
    return {sum_to(g, sa), sum_to(-g, sb)};
  });
  return out;
}

Tensor mul(const Tensor& a, const Tensor& b) {
  Tensor out = binary_forward(BinaryOp::mul, a, b, "mul");
  record(out, "mul", {a, b}, [sa = save(a), sb = save(b), need_a = a.requires_grad(), need_b = b.requires_grad()](const Tensor& g) -> TensorList {
    const Tensor &a = sa.get(), &b = sb.get();
    return {need_a ? sum_to(g * b, a.shape()) : Tensor(), need_b ? sum_to(g * a, b.shape()) : Tensor()};
  });
  return out;
}

Tensor div(const Tensor& a, const Tensor& b) {
  check_floating(a, "div");
  Tensor out = binary_forward(BinaryOp::div, a, b, "div");
  record(out, "div", {a, b}, [sa = save(a), sb = save(b), need_b = b.requires_grad()](const Tensor& g) -> TensorList {
    // d(a/b)/da = 1/b;  d(a/b)/db = -a/b^2
    const Tensor &a = sa.get(), &b = sb.get();
    Tensor ga = g / b;
    return {sum_to(ga, a.shape()), need_b ? sum_to(-ga * a / b, b.shape()) : Tensor()};
  });
  return out;
}

Tensor neg(const Tensor& a) {
  Tensor out = unary_forward(UnaryOp::neg, a);
  record(out, "neg", {a}, [](const Tensor& g) -> TensorList { return {-g}; });
  return out;
}

Tensor operator+(const Tensor& a, const Tensor& b) { return add(a, b); }
Tensor operator-(const Tensor& a, const Tensor& b) { return sub(a, b); }
Tensor operator*(const Tensor& a, const Tensor& b) { return mul(a, b); }
Tensor operator/(const Tensor& a, const Tensor& b) { return div(a, b); }
Tensor operator-(const Tensor& a) { return neg(a); }
Tensor operator+(const Tensor& a, double b) { return add(a, scalar_like(a, b)); }
Tensor operator-(const Tensor& a, double b) { return sub(a, scalar_like(a, b)); }
Tensor operator*(const Tensor& a, double b) { return mul(a, scalar_like(a, b)); }
Tensor operator/(const Tensor& a, double b) { return div(a, scalar_like(a, b)); }
Tensor operator+(double a, const Tensor& b) { return add(scalar_like(b, a), b); }
Tensor operator-(double a, const Tensor& b) { return sub(scalar_like(b, a), b); }
Tensor operator*(double a, const Tensor& b) { return mul(scalar_like(b, a), b); }
Tensor operator/(double a, const Tensor& b) { return div(scalar_like(b, a), b); }

Tensor eq(const Tensor& a, const Tensor& b) { return binary_forward(BinaryOp::eq, a, b, "eq"); }
Tensor ne(const Tensor& a, const Tensor& b) { return binary_forward(BinaryOp::ne, a, b, "ne"); }
Tensor lt(const Tensor& a, const Tensor& b) { return binary_forward(BinaryOp::lt, a, b, "lt"); }
Tensor le(const Tensor& a, const Tensor& b) { return binary_forward(BinaryOp::le, a, b, "le"); }
Tensor gt(const Tensor& a, const Tensor& b) { return binary_forward(BinaryOp::gt, a, b, "gt"); }
Tensor ge(const Tensor& a, const Tensor& b) { return binary_forward(BinaryOp::ge, a, b, "ge"); }
Tensor maximum(const Tensor& a, const Tensor& b) { return binary_forward(BinaryOp::maximum, a, b, "maximum"); }
Tensor minimum(const Tensor& a, const Tensor& b) { return binary_forward(BinaryOp::minimum, a, b, "minimum"); }

}  // namespace fluxion
