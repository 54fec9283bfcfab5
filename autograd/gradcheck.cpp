#include "autograd/gradcheck.h"

#include <cmath>
#include <sstream>

#include "autograd/ops.h"

namespace fluxion {
namespace {

// Element offsets (from data<double>()) of t's elements in row-major order.
std::vector<std::int64_t> element_offsets(const Tensor& t) {
  std::vector<std::int64_t> offsets;
  Shape index(t.dim(), 0);
  for (std::int64_t n = 0; n < t.numel(); ++n) {
    std::int64_t off = 0;
    for (std::int64_t d = 0; d < t.dim(); ++d) off += index[d] * t.strides()[d];
    offsets.push_back(off);
    for (std::int64_t d = t.dim() - 1; d >= 0 && ++index[d] == t.shape()[d]; --d) index[d] = 0;
  }
  return offsets;
}

}  // namespace

GradcheckResult gradcheck(const GradcheckFn& fn, const TensorList& inputs, GradcheckOptions options) {
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    FLUXION_CHECK(inputs[i].dtype() == kFloat64, "gradcheck: input ", i, " is ", inputs[i].dtype(),
                  "; gradients are checked in float64");
    FLUXION_CHECK(!inputs[i].requires_grad() || inputs[i].is_leaf(), "gradcheck: input ", i, " must be a leaf");
  }
  // Analytic gradients of f = sum(fn(x) * r).
  Tensor out = fn(inputs);
  FLUXION_CHECK(out.dtype() == kFloat64, "gradcheck: fn returned ", out.dtype(), ", expected float64");
  Generator generator(options.seed);
  const Tensor weights = randn(out.shape(), kFloat64, &generator);
  for (const Tensor& x : inputs)
    if (x.requires_grad()) x.set_grad(Tensor());
  if (out.requires_grad()) out.backward(weights);

  auto objective = [&] {
    NoGradGuard no_grad;
    return sum(fn(inputs) * weights).item();
  };

  GradcheckResult result;
  const double floor = options.atol / options.rtol;
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    const Tensor& x = inputs[i];
    if (!x.requires_grad()) continue;
    const Tensor analytic = x.grad().defined() ? x.grad() : zeros_like(x);
    const std::vector<double> analytic_values = analytic.to_vector<double>();
    double* data = x.data<double>();
    const std::vector<std::int64_t> offsets = element_offsets(x);
    for (std::size_t e = 0; e < offsets.size(); ++e) {
      double& value = data[offsets[e]];
      const double original = value, h = options.step;
      auto at = [&](double delta) {
        value = original + delta;
        return objective();
      };
      const double numeric = (8.0 * (at(h) - at(-h)) - (at(2 * h) - at(-2 * h))) / (12.0 * h);
      value = original;
      const double error = std::fabs(analytic_values[e] - numeric);
      const double relative = error / (std::fabs(numeric) + floor);
      if (!(relative <= result.max_relative_error)) {  // also catches NaN
        result.max_relative_error = relative;
        if (!(error <= options.atol + options.rtol * std::fabs(numeric))) {
          result.ok = false;
          std::ostringstream message;
          message << "gradcheck: input " << i << " (shape " << to_string(x.shape()) << "), element " << e
                  << ": analytic " << analytic_values[e] << " vs numeric " << numeric << " (relative error "
                  << relative << ")";
          result.message = message.str();
        }
      }
    }
  }
  return result;
}

}  // namespace fluxion
