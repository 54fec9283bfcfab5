// Elementwise math: exp, log, sqrt, pow, abs, sign, clamp.
#include "autograd/ops/common.h"

namespace fluxion {
using namespace ops_detail;

Tensor exp(const Tensor& a) {
  check_floating(a, "exp");
  Tensor out = unary_forward(UnaryOp::exp, a);
  record(out, "exp", {a}, [y = save(out.detach())](const Tensor& g) -> TensorList { return {g * y.get()}; });  // d e^a = e^a
  return out;
}

Tensor log(const Tensor& a) {
  check_floating(a, "log");
  Tensor out = unary_forward(UnaryOp::log, a);
  record(out, "log", {a}, [saved = save(a)](const Tensor& g) -> TensorList { return {g / saved.get()}; });
  return out;
}

Tensor sqrt(const Tensor& a) {
  check_floating(a, "sqrt");
  Tensor out = unary_forward(UnaryOp::sqrt, a);
  record(out, "sqrt", {a}, [y = save(out.detach())](const Tensor& g) -> TensorList { return {g * 0.5 / y.get()}; });
  return out;
}

Tensor pow(const Tensor& a, double exponent) {
  check_floating(a, "pow");
  Tensor out = unary_forward(UnaryOp::pow, a, {exponent});
  record(out, "pow", {a}, [saved = save(a), exponent](const Tensor& g) -> TensorList {
    if (exponent == 0.0) return {zeros_like(g)};  // a^0 is constant, even at a = 0
    return {g * exponent * pow(saved.get(), exponent - 1.0)};
  }, OpAttributes().real("exponent", exponent));
  return out;
}

Tensor abs(const Tensor& a) {
  Tensor out = unary_forward(UnaryOp::abs, a);
  record(out, "abs", {a}, [saved = save(a)](const Tensor& g) -> TensorList { return {g * sign(saved.get())}; });
  return out;
}

Tensor sign(const Tensor& a) { return unary_forward(UnaryOp::sign, a); }

Tensor clamp(const Tensor& a, double min, double max) {
  FLUXION_CHECK(min <= max, "clamp: expected min <= max, got min=", min, " max=", max);
  Tensor out = unary_forward(UnaryOp::clamp, a, {min, max});
  record(out, "clamp", {a}, [saved = save(a), min, max](const Tensor& g) -> TensorList {
    const Tensor& a = saved.get();
    Tensor inside = ge(a, scalar_like(a, min)) * le(a, scalar_like(a, max));
    return {g * inside};
  }, OpAttributes().real("min", min).real("max", max));
  return out;
}

}  // namespace fluxion
